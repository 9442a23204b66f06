"""Two clusters in one pack, replayed with ``-n auto``: one worker per cluster, and each
cluster's checks all on one worker (its lists are parsed by one process, once).

The pack joins the recorded packs of both profiles, as a fleet run over two kubeconfig
contexts writes it: one raw store per cluster, both named in replay.json.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from kubepci.report import pack as evidence_pack
from tests.support import replay

pytest_plugins = ["pytester"]

RECORDER = """
import json, os
from pathlib import Path

def pytest_runtest_logreport(report):
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # set in worker processes only
    if worker and report.when == "call" and hasattr(report, "kubepci"):
        out = Path(os.environ["KUBEPCI_WORKERS_LOG"])
        with out.open("a") as log:
            log.write(json.dumps([report.kubepci["cluster"], worker]) + "\\n")
"""


def fleet_pack(directory: Path) -> Path:
    """The compliant and noncompliant packs as one two-cluster pack."""
    target = directory / "fleet"
    (target / evidence_pack.RAW).mkdir(parents=True)
    clusters, results = [], []
    document: dict[str, object] = {}
    for profile in replay.PROFILES:
        staged = replay.stage(profile, directory)
        store = replay.store(staged)
        shutil.copytree(store, target / evidence_pack.RAW / store.name)
        document = json.loads((staged / "replay.json").read_text())
        clusters += document["clusters"]  # type: ignore[operator]
        results += json.loads((staged / evidence_pack.RESULTS).read_text())["results"]
        manifest = staged / evidence_pack.MANIFEST
    document["clusters"] = clusters
    (target / "replay.json").write_text(json.dumps(document))
    (target / evidence_pack.RESULTS).write_text(json.dumps({"results": results}))
    shutil.copy(manifest, target / evidence_pack.MANIFEST)
    replay.rehash(target)
    return target


def test_each_cluster_is_judged_on_one_worker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = fleet_pack(pytester.path)
    pytester.makepyfile(kubepci_workers_recorder=RECORDER)
    log = pytester.path / "workers.log"
    monkeypatch.setenv("KUBEPCI_WORKERS_LOG", str(log))
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        "--pyargs",
        "tests_pci",
        "-p",
        "no:cacheprovider",
        "-p",
        "kubepci_workers_recorder",
        f"--from-evidence={pack}",
        f"--evidence-dir={out}",
        "-n",
        "auto",
    )
    assert result.ret == 1  # the noncompliant cluster's findings
    workers: dict[str, set[str]] = defaultdict(set)
    for line in log.read_text().splitlines():
        cluster, worker = json.loads(line)
        workers[cluster].add(worker)
    assert len(workers) == 2
    assert all(len(ids) == 1 for ids in workers.values()), workers
    assert len(set.union(*workers.values())) == 2  # one worker each, not both on one
    replayed = json.loads((out / "results.json").read_text())["results"]
    recorded = json.loads((pack / evidence_pack.RESULTS).read_text())["results"]
    key = lambda r: (r["cluster"], r["check_id"])  # noqa: E731
    assert sorted(replayed, key=key) == sorted(recorded, key=key)
