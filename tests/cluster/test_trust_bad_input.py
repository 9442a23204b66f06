"""Bad input ends with one clear line, a non-zero exit code, no traceback, and no partial
result reported as passed. Each case runs the suite as a user would (a subprocess)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from kubepci import catalogue
from tests.cluster.conftest import LocalCluster, SuiteRun, run_suite, verdicts


def assert_clean_refusal(run: SuiteRun, expected: str, code: int) -> None:
    output = run.stdout + run.stderr
    assert run.returncode == code, output[-2000:]
    assert "Traceback" not in output, output[-3000:]
    assert expected in output, output[-2000:]
    assert " passed" not in output, output[-2000:]
    lines = [line for line in output.splitlines() if expected in line]
    assert len(lines[0]) < 300, lines[0]


def kubeconfig_copy(local: LocalCluster, tmp: Path, **changes: object) -> Path:
    document = yaml.safe_load(Path(local.admin_kubeconfig).read_text())
    for key, value in changes.items():
        section, _, field = key.partition("__")
        target = document[section][0][section[:-1]]
        if value is None:
            target.pop(field, None)
        else:
            target[field] = value
    path = tmp / "kubeconfig"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "file not found"),
        ("directory", "is a directory"),
        ("not-yaml", "not valid YAML"),
        ("not-kubeconfig", "not a kubeconfig"),
        ("no-current-context", "no current-context set"),
        ("binary", "not readable"),
    ],
)
def test_unusable_kubeconfig(case: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    if case == "directory":
        path.mkdir()
    elif case == "not-yaml":
        path.write_text("apiVersion: v1\nclusters: [\n  - : :\n")
    elif case == "not-kubeconfig":
        path.write_text("just: a mapping\n")
    elif case == "no-current-context":
        path.write_text("apiVersion: v1\nkind: Config\ncontexts: []\n")
    elif case == "binary":
        path.write_bytes(b"\xff\xfe\x00garbage")
    run = run_suite(str(path), tmp_path / "out")
    assert_clean_refusal(run, expected, 4)


def test_unknown_context(local_cluster: LocalCluster, tmp_path: Path) -> None:
    run = run_suite(local_cluster.kubeconfig, tmp_path / "out", "--context", "no-such-context")
    assert_clean_refusal(run, "context 'no-such-context' not found", 4)


def test_unreachable_server(local_cluster: LocalCluster, tmp_path: Path) -> None:
    path = kubeconfig_copy(local_cluster, tmp_path, clusters__server="https://127.0.0.1:9")
    run = run_suite(str(path), tmp_path / "out")
    assert_clean_refusal(run, "unreachable", 2)
    # Bug fixed: the run used to stop at session start and write no report at all, so a
    # nightly job had no JUnit or evidence to file. Every check now errors, with the reason.
    found = verdicts(run)
    assert len(found) == len(catalogue.load().checks)
    assert {verdict for verdict, _ in found.values()} == {"error"}
    assert all("cannot connect: unreachable" in message for _, message in found.values())


def test_an_unreachable_cluster_does_not_stop_the_audit_of_another(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    path = kubeconfig_copy(local_cluster, tmp_path, clusters__server="https://127.0.0.1:9")
    document = yaml.safe_load(path.read_text())
    document["contexts"][0]["name"] = document["current-context"] = "gone"
    path.write_text(yaml.safe_dump(document))
    run = run_suite(str(path), tmp_path / "out", f"--kubeconfig={local_cluster.kubeconfig}")
    assert run.returncode == 2, (run.stdout + run.stderr)[-2000:]
    tree = ET.parse(run.outdir / "junit.xml")
    by_cluster: dict[str, set[str]] = {}
    for case in tree.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        by_cluster.setdefault(str(props["cluster"]), set()).add(str(props["verdict"]))
    assert by_cluster.pop("gone") == {"error"}
    ((_, reachable),) = by_cluster.items()
    assert reachable & {"passed", "failed"}  # the reachable cluster was judged as usual


def test_rejected_credentials(local_cluster: LocalCluster, tmp_path: Path) -> None:
    path = kubeconfig_copy(
        local_cluster,
        tmp_path,
        **{
            "users__client-certificate-data": None,
            "users__client-key-data": None,
            "users__token": "expired-or-revoked-token",
        },
    )
    run = run_suite(str(path), tmp_path / "out")
    assert_clean_refusal(run, "401 unauthorized", 2)


def test_wrong_certificate_authority(local_cluster: LocalCluster, tmp_path: Path) -> None:
    # Any CA but the cluster's: the kubeconfig's own client certificate is signed by the
    # cluster CA, not a CA itself.
    other = yaml.safe_load(Path(local_cluster.admin_kubeconfig).read_text())
    wrong_ca = other["users"][0]["user"].get("client-certificate-data")
    if not wrong_ca:
        from tests.support.faultproxy import self_signed

        _, _, pem = self_signed(tmp_path)
        import base64

        wrong_ca = base64.b64encode(pem).decode()
    path = kubeconfig_copy(
        local_cluster, tmp_path, **{"clusters__certificate-authority-data": wrong_ca}
    )
    run = run_suite(str(path), tmp_path / "out")
    assert_clean_refusal(run, "TLS error", 2)


def test_insecure_skip_tls_verify_refused(local_cluster: LocalCluster, tmp_path: Path) -> None:
    path = kubeconfig_copy(local_cluster, tmp_path, **{"clusters__insecure-skip-tls-verify": True})
    run = run_suite(str(path), tmp_path / "out")
    assert_clean_refusal(run, "never sends credentials to a server whose certificate", 4)


def _waivers(tmp_path: Path, entry: dict[str, object]) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(yaml.safe_dump([entry]))
    return path


GOOD_WAIVER = {
    "check": "pod-token-automount",
    "selector": {"kind": "Pod", "namespace": "x", "name": "y"},
    "class": "*",
    "justification": "test",
    "approver": "someone",
    "expires": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({**GOOD_WAIVER, "check": "no-such-check"}, "unknown check id 'no-such-check'"),
        ({**GOOD_WAIVER, "expires": "2020-01-01"}, "expired on 2020-01-01"),
        ({k: v for k, v in GOOD_WAIVER.items() if k != "approver"}, "missing approver"),
        ({k: v for k, v in GOOD_WAIVER.items() if k != "class"}, "missing class"),
        ({**GOOD_WAIVER, "expires": "someday"}, "'expires' must be a date"),
    ],
)
def test_bad_waivers(
    entry: dict[str, object], expected: str, local_cluster: LocalCluster, tmp_path: Path
) -> None:
    run = run_suite(
        local_cluster.kubeconfig, tmp_path / "out", "--waivers", str(_waivers(tmp_path, entry))
    )
    assert_clean_refusal(run, expected, 4)


def test_waivers_not_yaml(local_cluster: LocalCluster, tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("- check: [unclosed\n")
    run = run_suite(local_cluster.kubeconfig, tmp_path / "out", "--waivers", str(path))
    assert_clean_refusal(run, "not valid YAML", 4)


def test_node_root_pointing_at_nothing(local_cluster: LocalCluster, tmp_path: Path) -> None:
    run = run_suite(
        local_cluster.kubeconfig, tmp_path / "out", "--node-root", str(tmp_path / "nope")
    )
    assert_clean_refusal(run, "no such directory", 4)


def test_node_root_not_a_node(local_cluster: LocalCluster, tmp_path: Path) -> None:
    run = run_suite(local_cluster.kubeconfig, tmp_path / "out", "--node-root", str(tmp_path))
    assert_clean_refusal(run, "is it a node's root filesystem", 4)
