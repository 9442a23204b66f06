"""``-n auto`` for an audit: no workers for one cluster, one per cluster otherwise."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from kubepci.plugin import pytest_xdist_auto_num_workers
from kubepci.scheduling import cluster_of


def kubeconfig(path: Path, *contexts: str) -> str:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "users": [{"name": "u", "user": {"token": "x"}}],
                "contexts": [
                    {"name": n, "context": {"cluster": "c", "user": "u"}} for n in contexts
                ],
                "current-context": contexts[0],
            }
        )
    )
    return str(path)


def config(
    kubeconfigs: list[str],
    contexts: list[str] = (),
    args: list[str] = (),
    from_evidence: str | None = None,
) -> object:
    option = SimpleNamespace(
        kubeconfig=kubeconfigs,
        context=list(contexts),
        from_evidence=from_evidence,
        check=[],
        pyargs=False,
    )
    return SimpleNamespace(
        option=option, args=list(args), invocation_params=SimpleNamespace(dir=Path.cwd())
    )


def test_one_cluster_runs_in_process(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "a", "prod")
    assert pytest_xdist_auto_num_workers(config([path])) == 0


def test_several_clusters_get_a_worker_each(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    path = kubeconfig(tmp_path / "a", "prod", "stage", "dev")
    chosen = config([path], contexts=["prod", "stage", "dev"])
    assert pytest_xdist_auto_num_workers(chosen) == 3


def test_capped_by_cpus(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    path = kubeconfig(tmp_path / "a", "prod", "stage", "dev")
    assert pytest_xdist_auto_num_workers(config([path], ["prod", "stage", "dev"])) == 2


def test_not_an_audit_leaves_xdist_alone() -> None:
    assert pytest_xdist_auto_num_workers(config([], args=["tests/unit"])) is None


def test_bad_kubeconfig_is_left_to_session_start(tmp_path: Path) -> None:
    assert pytest_xdist_auto_num_workers(config([str(tmp_path / "missing")])) is None


def test_a_replay_counts_the_clusters_of_its_pack(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    (tmp_path / "replay.json").write_text('{"clusters": [{"id": "a"}, {"id": "b"}]}')
    assert pytest_xdist_auto_num_workers(config([], from_evidence=str(tmp_path))) == 2
    (tmp_path / "replay.json").write_text('{"clusters": [{"id": "a"}]}')
    assert pytest_xdist_auto_num_workers(config([], from_evidence=str(tmp_path))) == 0


def test_a_replay_of_no_pack_is_left_to_session_start(tmp_path: Path) -> None:
    assert pytest_xdist_auto_num_workers(config([], from_evidence=str(tmp_path))) is None


@pytest.mark.parametrize(
    ("nodeid", "scope"),
    [
        ("tests_pci/test_a.py::test_b[kubernetes-admin@kind-pci]", "kubernetes-admin@kind-pci"),
        ("test_a.py::test_b[ctx[1]]", "ctx[1]"),
        ("test_a.py::test_b", "test_a.py::test_b"),
    ],
)
def test_the_cluster_is_the_scheduling_scope(nodeid: str, scope: str) -> None:
    assert cluster_of(nodeid) == scope


def test_store_directories_of_look_alike_contexts_differ() -> None:
    """Two contexts whose names differ only in punctuation kept one store directory, so one
    cluster's evidence was judged as the other's."""
    from kubepci.access.cluster import store_name

    names = {store_name(n) for n in ("a:b", "a/b", "a_b", "a b", "admin@prod", "admin@prod ")}
    assert len(names) == 6
    assert all("/" not in n and ":" not in n for n in names)
    assert store_name("admin@prod").startswith("admin_prod-")
