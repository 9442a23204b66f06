"""Offline runs of the shipped checks: replay a recorded evidence pack, edited or not.

The packs under ``tests/data/packs/<profile>/`` were written by the suite itself on the
local real clusters (``python -m tests.support.record_packs``). A test stages a copy,
optionally edits recorded evidence (a kubelet that answered 401 now answers 200, a key
file's mode, a flag in a static pod), re-hashes the manifest the way the suite writes it,
and runs the real suite against it with ``--from-evidence``: the same checks, the same
plugin, every output (results.json, JUnit, exit code), and no cluster.
"""

from __future__ import annotations

import ast
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import kubepci
from kubepci.report import pack as evidence_pack

REPO = Path(__file__).resolve().parents[2]
PACKS = REPO / "tests" / "data" / "packs"
PROFILES = ("noncompliant", "compliant")
Obj = dict[str, Any]


@cache
def check_functions() -> dict[str, str]:
    """Catalogue check id -> the test function in tests_pci that implements it."""
    found: dict[str, str] = {}
    for module in sorted((REPO / "tests_pci").glob("test_*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and getattr(decorator.func, "id", "") == "check"
                    and decorator.args
                    and isinstance(decorator.args[0], ast.Constant)
                ):
                    found[str(decorator.args[0].value)] = node.name
    return found


def stage(profile: str, directory: Path) -> Path:
    """A private copy of the recorded pack of ``profile``, replayable by this suite version."""
    target = directory / f"pack-{profile}"
    shutil.copytree(PACKS / profile, target)
    # Recorded by this source tree; the version check guards packs from other releases.
    replay = json.loads((target / "replay.json").read_text())
    replay["suite_version"] = kubepci.__version__
    (target / "replay.json").write_text(json.dumps(replay, indent=2, sort_keys=True) + "\n")
    rehash(target)
    return target


def store(pack: Path) -> Path:
    """The raw store directory of the pack's (only) cluster."""
    (only,) = sorted(p for p in (pack / evidence_pack.RAW).iterdir() if p.is_dir())
    return only


def record(pack: Path, name: str) -> Any:
    return json.loads((store(pack) / f"{name}.json").read_text())


def edit(pack: Path, name: str, change: Callable[[Any], Any]) -> None:
    """Change one recorded document (``change`` edits in place or returns a new one)."""
    path = store(pack) / f"{name}.json"
    document = json.loads(path.read_text())
    changed = change(document)
    path.write_text(json.dumps(document if changed is None else changed, sort_keys=True))
    rehash(pack)


def remove(pack: Path, name: str) -> None:
    (store(pack) / f"{name}.json").unlink()
    rehash(pack)


def rehash(pack: Path) -> None:
    """Rewrite manifest.json and SHA256SUMS for the pack's current files."""
    manifest = json.loads((pack / evidence_pack.MANIFEST).read_text())
    files = sorted(
        p
        for p in pack.rglob("*")
        if p.is_file() and p.name not in (evidence_pack.MANIFEST, evidence_pack.SUMS)
    )
    manifest["files"] = [
        {
            "path": f.relative_to(pack).as_posix(),
            "bytes": f.stat().st_size,
            "sha256": evidence_pack.sha256(f),
        }
        for f in files
    ]
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (pack / evidence_pack.MANIFEST).write_text(text)
    sums = [(e["sha256"], e["path"]) for e in manifest["files"]]
    sums.append((evidence_pack.sha256(pack / evidence_pack.MANIFEST), evidence_pack.MANIFEST))
    (pack / evidence_pack.SUMS).write_text("".join(f"{h}  {p}\n" for h, p in sums))


@dataclass
class ReplayRun:
    ret: int
    outcomes: dict[str, int]
    results: dict[str, Obj]  # check id -> results.json entry
    junit: dict[str, Obj]  # check id -> {"outcome": passed/failed/skipped/error, "properties"}
    stdout: str

    def verdict(self, check_id: str) -> str:
        return str(self.results[check_id]["verdict"])

    def findings(self, check_id: str) -> list[Obj]:
        return list(self.results[check_id]["findings"])

    def reason(self, check_id: str) -> str:
        return str(self.results[check_id]["reason"])


def _junit(path: Path) -> dict[str, Obj]:
    out: dict[str, Obj] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
        if "check_id" in properties:
            out[str(properties["check_id"])] = {"outcome": outcome, "properties": properties}
    return out


def run(
    pytester: pytest.Pytester, pack: Path, *checks: str, args: tuple[str, ...] = ()
) -> ReplayRun:
    """Replay ``pack`` through the shipped suite (only ``checks`` when given)."""
    out = pytester.path / "replayed"
    shutil.rmtree(out, ignore_errors=True)
    selection: list[str] = []
    if checks:
        functions = check_functions()
        selection = ["-k", " or ".join(functions[c] for c in checks)]
    result = pytester.runpytest(
        "--pyargs",
        "tests_pci",
        "-p",
        "no:cacheprovider",
        f"--from-evidence={pack}",
        f"--evidence-dir={out}",
        f"--junitxml={out / 'junit.xml'}",
        *selection,
        *args,
    )
    document = json.loads((out / "results.json").read_text())
    results = {r["check_id"]: r for r in document["results"]}
    return ReplayRun(
        int(result.ret),
        result.parseoutcomes(),
        results,
        _junit(out / "junit.xml"),
        result.stdout.str(),
    )
