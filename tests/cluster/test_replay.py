"""Replay proven on the real cluster: the pack of a live run, judged again with no
network at all, gives back every result field for field.

The replay runs in a new network namespace (``unshare --net``: not even loopback is up),
so a replayed check that tried to reach the API server, a kubelet or a Service could not,
and its result would differ from the live one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.conftest import REPO, LocalCluster, SuiteRun, run_suite


@pytest.fixture(scope="module")
def live(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    out = tmp_path_factory.mktemp("live")
    run = run_suite(
        local_cluster.kubeconfig, out, "--node-root", "/", f"--evidence-dir={out / 'pack'}"
    )
    assert run.returncode in (0, 1), run.stdout[-2000:] + run.stderr[-2000:]
    return run


def results(path: Path) -> dict[str, dict[str, object]]:
    document = json.loads(path.read_text())
    return {f"{r['check_id']}@{r['cluster']}": r for r in document["results"]}


def test_replay_without_network_reproduces_the_live_run(live: SuiteRun, tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to replay with no network", pytrace=False)
    out = tmp_path / "replayed"
    command = [
        "unshare", "--net", sys.executable, "-m", "pytest", "--pyargs", "tests_pci",
        "-p", "no:cacheprovider", f"--from-evidence={live.outdir / 'pack'}",
        f"--evidence-dir={out}",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == live.returncode, done.stdout[-3000:] + done.stderr[-2000:]
    live_results = results(live.outdir / "pack" / "results.json")
    replayed = results(out / "results.json")
    assert sorted(replayed) == sorted(live_results)
    differing = [key for key in live_results if live_results[key] != replayed[key]]
    assert differing == []
    assert len(live_results) == 32


def test_the_network_namespace_really_has_no_network(live: SuiteRun) -> None:
    """The proof above means something only if the namespace cannot reach the cluster."""
    api_server = json.loads((live.outdir / "pack" / "results.json").read_text())["scope"][
        "clusters"
    ][0]["api_server"]
    probe = (
        "import socket, sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); "
        "socket.create_connection((p.hostname, p.port), timeout=3)"
    )
    inside = subprocess.run(
        ["unshare", "--net", sys.executable, "-c", probe, api_server],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert inside.returncode != 0
    assert "unreachable" in inside.stderr.lower() or "OSError" in inside.stderr
    outside = subprocess.run(
        [sys.executable, "-c", probe, api_server], capture_output=True, text=True, timeout=60
    )
    assert outside.returncode == 0, outside.stderr
