"""The README's tables hold: options against the plugin's parser, exit codes against real
runs, outputs against what a run writes, roles against deploy/ and the code, layout
against the tree.

The runs are real and offline: the shipped suite replays the evidence packs recorded on
the local clusters (tests/data/packs: exit 0 compliant, 1 noncompliant), or audits a
kubeconfig whose server cannot be reached (exit 2), side by side.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubepci import plugin
from kubepci.access.api import REVIEW_PATHS
from tests.support import replay
from tests.unit.test_invocation import DEAD_KUBECONFIG

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PYTEST = str(Path(sys.executable).parent / "pytest")


# ------------------------------------------------------------------ reading the README


def section(title: str) -> str:
    """The text of the README's ``## title`` section, up to the next ``## ``."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def table(text: str, header: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table whose header row is
    ``header`` (e.g. ``| option | meaning |``)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == header)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def unquote(cell: str) -> str:
    return cell.strip().strip("`")


# ------------------------------------------------------------------ options vs the parser


class _Group:
    def __init__(self) -> None:
        self.options: dict[str, dict[str, Any]] = {}

    def addoption(self, *names: str, **attrs: Any) -> None:
        self.options[names[0]] = attrs


class _Parser:
    def __init__(self) -> None:
        self.group = _Group()

    def getgroup(self, name: str, description: str = "") -> _Group:
        assert name == "kubepci"
        return self.group


@cache
def kubepci_options() -> dict[str, dict[str, Any]]:
    parser = _Parser()
    plugin.pytest_addoption(parser)  # type: ignore[arg-type]
    return parser.group.options


def option_rows() -> dict[str, tuple[str, str]]:
    """README option → (metavar as written, meaning)."""
    rows = table(section("Auditing your own cluster"), "| option | meaning |")
    out = {}
    for first, meaning in rows:
        name, _, metavar = unquote(first).partition(" ")
        out[name] = (metavar, meaning)
    return out


def test_every_kubepci_option_is_in_the_options_table() -> None:
    documented = set(option_rows())
    missing = sorted(set(kubepci_options()) - documented)
    assert missing == [], f"options the README does not list: {missing}"


def test_each_option_row_is_written_as_the_parser_names_it() -> None:
    for name, (metavar, _) in option_rows().items():
        if name not in kubepci_options():
            continue
        expected = kubepci_options()[name].get("metavar", "")
        assert metavar == expected, f"README writes `{name} {metavar}`; the parser: {expected!r}"


def test_defaults_the_table_states_are_the_parser_defaults() -> None:
    stated = 0
    for name, (_, meaning) in option_rows().items():
        match = re.search(r"\(default `?([^`),;]+)`?", meaning)
        if not match or name not in kubepci_options():
            continue
        default = kubepci_options()[name].get("default")
        value = match.group(1).strip()
        if isinstance(default, int | float) and not isinstance(default, bool):
            assert float(value) == float(default), name
        else:
            assert value == str(default), name
        stated += 1
    assert stated >= 3  # the table states defaults; this test reads them


def test_rows_for_other_plugins_name_real_options() -> None:
    """A row that is not kubepci's (``-n auto``) names an option pytest --help lists."""
    others = [name for name in option_rows() if name not in kubepci_options()]
    assert others, "the table documents -n (pytest-xdist)"
    done = subprocess.run([PYTEST, "--help"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    for name in others:
        assert re.search(rf"^\s+(\S+, )?{re.escape(name)}[ =,]", done.stdout, re.M), name


# ------------------------------------------------------------------ exit codes vs real runs


def exit_rows() -> dict[int, str]:
    return {
        int(code): meaning for code, meaning in table(section("Exit codes"), "| code | meaning |")
    }


CRASHING_PLUGIN = """\
def pytest_runtest_logreport(report):
    raise RuntimeError("a plugin's bug")
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    (root / "dead.kubeconfig").write_text(DEAD_KUBECONFIG)
    (root / "crash_plugin.py").write_text(CRASHING_PLUGIN)
    (root / "malformed.yaml").write_text("check: not a list of waivers\n")
    (root / "expired.yaml").write_text(
        yaml.safe_dump(
            [
                {
                    "check": "kubelet-config",
                    "selector": {"kind": "Node", "name": "*"},
                    "class": "*",
                    "justification": "accepted once, long ago, and never renewed since then",
                    "approver": "someone@example.com",
                    "expires": dt.date(2020, 1, 1),
                }
            ]
        )
    )
    replay.stage("compliant", root)
    replay.stage("noncompliant", root)
    # Findings and an error in one run: the noncompliant pack without one record.
    replay.remove(replay.stage("noncompliant", root / "mixed"), "kubelet-configz")
    return root


def _dead(root: Path) -> list[str]:
    return [f"--kubeconfig={root / 'dead.kubeconfig'}"]


# name → (the code the README gives it, the command line after `pytest -p no:cacheprovider`)
RUNS: dict[str, tuple[int, Callable[[Path], list[str]]]] = {
    "compliant replay": (
        0,
        lambda r: [
            f"--from-evidence={r / 'pack-compliant'}",
            f"--evidence-dir={r / 'out-compliant'}",
            f"--junitxml={r / 'out-compliant' / 'junit.xml'}",
            f"--html={r / 'out-compliant' / 'report.html'}",
            "--self-contained-html",
        ],
    ),
    "noncompliant replay": (1, lambda r: [f"--from-evidence={r / 'pack-noncompliant'}"]),
    "findings and an error": (
        2,
        lambda r: [f"--from-evidence={r / 'mixed' / 'pack-noncompliant'}"],
    ),
    "unreachable": (2, _dead),
    "internal error": (3, lambda r: [*_dead(r), "-p", "crash_plugin", "--check=kubelet-config"]),
    "output not writable": (3, lambda r: [*_dead(r), "--evidence-dir=/dev/null/evidence"]),
    "bad kubeconfig": (4, lambda r: [f"--kubeconfig={r / 'missing.kubeconfig'}"]),
    "unknown context": (4, lambda r: [*_dead(r), "--context=nope"]),
    "malformed waivers": (4, lambda r: [*_dead(r), f"--waivers={r / 'malformed.yaml'}"]),
    "expired waivers": (4, lambda r: [*_dead(r), f"--waivers={r / 'expired.yaml'}"]),
    "bad --node-root": (4, lambda r: [*_dead(r), f"--node-root={r / 'no-such-dir'}"]),
    "unknown --check": (4, lambda r: [*_dead(r), "--check=kubelet"]),
    "refused evidence pack": (4, lambda r: [f"--from-evidence={r / 'no-such-pack'}"]),
    "no tests ran": (5, lambda r: [*_dead(r), "-k", "no-check-has-this-name"]),
}
# The words of the README's row that each usage error must be named by.
USAGE_WORDS = {
    "bad kubeconfig": "bad kubeconfig",
    "unknown context": "unknown context",
    "malformed waivers": "malformed or expired waivers",
    "expired waivers": "malformed or expired waivers",
    "bad --node-root": "bad `--node-root`",
    "unknown --check": "unknown `--check`",
    "refused evidence pack": "`--from-evidence`",
}


@pytest.fixture(scope="module")
def runs(workdir: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    def run(name: str) -> subprocess.CompletedProcess[str]:
        _, args = RUNS[name]
        return subprocess.run(
            [PYTEST, "-p", "no:cacheprovider", *args(workdir)],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=600,
            env={**_env(), "PYTHONPATH": str(workdir)},
        )

    with ThreadPoolExecutor(3) as pool:
        futures = {name: pool.submit(run, name) for name in RUNS}
        return {name: future.result() for name, future in futures.items()}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KUBECONFIG"))}


def test_exit_code_table_names_each_code_once() -> None:
    assert sorted(exit_rows()) == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("name", list(RUNS))
def test_real_runs_exit_as_the_table_says(runs, name: str) -> None:
    code, _ = RUNS[name]
    done = runs[name]
    assert done.returncode == code, f"{name}: {done.stdout[-1500:]}{done.stderr[-1500:]}"
    assert code in exit_rows()


@pytest.mark.parametrize("name", sorted(USAGE_WORDS))
def test_usage_row_names_each_usage_error(name: str) -> None:
    assert USAGE_WORDS[name] in exit_rows()[4]


def test_errors_row_says_it_outranks_findings() -> None:
    """A CI gate that reads 1 as "findings" must know a run with findings and errors
    exits 2 (proven by the "findings and an error" run)."""
    assert "takes precedence over 1" in exit_rows()[2]


# ------------------------------------------------------------------ outputs


def test_outputs_are_what_a_run_writes(runs, workdir: Path) -> None:
    text = section("Outputs")
    out = workdir / "out-compliant"
    assert runs["compliant replay"].returncode == 0
    # --evidence-dir: results.json, raw exports, manifest.json
    for name in ("results.json", "raw", "manifest.json"):
        assert f"`{name}`" in text or name == "raw"
        assert (out / name).exists(), name
    # --junitxml: each testcase carries the properties the README names
    named = re.search(r"`--junitxml`: each testcase carries (.*);", text)
    assert named
    properties = re.findall(r"`(\w+)`", named.group(1))
    assert properties
    cases = list(ET.parse(out / "junit.xml").iter("testcase"))
    assert len(cases) == 32
    for case in cases:
        have = {p.get("name") for p in case.iter("property")}
        assert set(properties) <= have, (case.get("name"), have)
    # --html: scope, control summary, limitations
    html = (out / "report.html").read_text()
    for anchor in ("kp-scope", "kp-control-summary", "kp-limitations"):
        assert f"id='{anchor}'" in html, anchor


# ------------------------------------------------------------------ roles


def _role_resources(verb: str) -> set[str]:
    resources: set[str] = set()
    for document in yaml.safe_load_all((REPO / "deploy" / "auditor-rbac.yaml").read_text()):
        if document["kind"] != "ClusterRole":
            continue
        for rule in document["rules"]:
            if verb in rule["verbs"]:
                resources.update(rule.get("resources", []))
    return resources


def test_review_apis_named_are_the_ones_granted_and_used() -> None:
    text = section("What the suite needs and never does")
    named = set(re.findall(r"`(\w+reviews)`", text))
    granted = _role_resources("create")
    used = {path.rsplit("/", 1)[1] for path in REVIEW_PATHS}
    assert named == granted == used


def test_optional_grant_and_its_absence_are_described() -> None:
    text = section("What the suite needs and never does")
    assert "`nodes/proxy`" in text and "optional" in text
    assert "nodes/proxy" in _role_resources("get")
    # What its absence means, as the code does it (tests/unit/test_kubelet_configz.py).
    assert "kubelet-config" in text and "manual" in text and "limitation" in text


# ------------------------------------------------------------------ layout


def layout_paths() -> list[str]:
    rows = table(section("Layout"), "| path | what |")
    return [unquote(p) for first, _ in rows for p in first.split(",")]


def test_layout_paths_exist() -> None:
    for path in layout_paths():
        assert (REPO / path).exists(), path


def test_layout_names_every_package_and_top_level_folder() -> None:
    listed = {p.rstrip("/") for p in layout_paths()}
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    folders = {f.split("/", 1)[0] for f in tracked if "/" in f and not f.startswith(".")}
    packages = {
        f"kubepci/{p.parent.name}"
        for p in (REPO / "kubepci").glob("*/__init__.py")
        if p.parent.name != "__pycache__"
    }
    covered = listed | {p.split("/", 1)[0] for p in listed}
    assert sorted((folders | packages) - covered) == []


def test_readme_install_line_installs_from_the_repository() -> None:
    """kubepci is not on a package index: the README installs the checkout."""
    text = section("Auditing your own cluster")
    assert "pip install kubepci" not in text
    assert "pip install ." in text
