"""``pytest --kubeconfig PATH`` as people type it: with a space or with ``=``, from any
directory, runs the shipped suite; ``pytest`` without a kubepci option stays someone
else's test run.

Each run is a subprocess against a kubeconfig whose server cannot be reached
(``https://127.0.0.1:1``): every check errors without a cluster (exit 2), so the
results.json verdicts can be compared between the ways and places a command is typed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from argparse import Namespace
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubepci import catalogue, invocation

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEAD_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: dead
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: someone
  user: {token: not-a-real-token}
contexts:
- name: dead
  context: {cluster: dead, user: someone}
current-context: dead
"""
# A project of its own: its tests, its pytest.ini, and a conftest that empties any run it
# is loaded into. An audit started from here must neither collect nor load any of it.
OWN_CONFTEST = """\
def pytest_collection_modifyitems(items):
    items.clear()
"""


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("invocation")
    kubeconfig_dir = root / "kube"
    kubeconfig_dir.mkdir()
    (kubeconfig_dir / "config").write_text(DEAD_KUBECONFIG)
    project = root / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    (project / "tests" / "test_own.py").write_text("def test_own():\n    assert True\n")
    (project / "tests" / "conftest.py").write_text(OWN_CONFTEST)
    return {
        "repository": REPO,
        "its parent": REPO.parent,
        "the kubeconfig's folder": kubeconfig_dir,
        "a project with its own tests": project,
        "kubeconfig": kubeconfig_dir / "config",
        "root": root,
    }


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KUBECONFIG"))}
    return {**env, **extra}


def _run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300, env=_env(**env)
    )


def _kubeconfig_args(kubeconfig: Path, form: str) -> list[str]:
    if form == "space":
        return ["--kubeconfig", str(kubeconfig), "--context", "dead"]
    return [f"--kubeconfig={kubeconfig}", "--context=dead"]


def _verdicts(evidence: Path) -> dict[tuple[str, str], str]:
    results = json.loads((evidence / "results.json").read_text())["results"]
    return {(r["check_id"], r["cluster"]): r["verdict"] for r in results}


WHERE = ["repository", "its parent", "the kubeconfig's folder", "a project with its own tests"]
FORMS = ["space", "="]
# (program, where, form): the audits compared. Each mostly waits on its retries' backoff
# against the unreachable server, so they run side by side.
AUDITS = [
    ("pytest", "repository", "reference"),
    *[("pytest", where, form) for where in WHERE for form in FORMS],
    *[("kubepci", "a project with its own tests", form) for form in FORMS],
]


@dataclass(frozen=True)
class Audit:
    done: subprocess.CompletedProcess[str]
    verdicts: dict[tuple[str, str], str]

    def output(self) -> str:
        return self.done.stdout[-2000:] + self.done.stderr[-2000:]


def _audit(places: dict[str, Path], program: str, where: str, form: str) -> Audit:
    out = places["root"] / "-".join(["out", program, where.replace(" ", "_"), form])
    done = _run(
        [
            str(BIN / program),
            "-p",
            "no:cacheprovider",
            *_kubeconfig_args(places["kubeconfig"], "=" if form == "reference" else form),
            f"--evidence-dir={out}",
        ],
        places[where],
    )
    return Audit(done, _verdicts(out) if (out / "results.json").exists() else {})


@pytest.fixture(scope="module")
def audits(places: dict[str, Path]) -> dict[tuple[str, str, str], Audit]:
    with ThreadPoolExecutor(4) as pool:
        runs = {spec: pool.submit(_audit, places, *spec) for spec in AUDITS}
        return {spec: run.result() for spec, run in runs.items()}


@pytest.fixture(scope="module")
def reference(audits) -> dict[tuple[str, str], str]:
    """The documented form, from the repository: every check of the catalogue, errored."""
    run = audits[("pytest", "repository", "reference")]
    assert run.done.returncode == 2, run.output()
    assert {check for check, _ in run.verdicts} == set(catalogue.load().checks)
    assert set(run.verdicts.values()) == {"error"}
    return run.verdicts


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("where", WHERE)
def test_pytest_runs_the_suite_from_anywhere(audits, reference, where: str, form: str) -> None:
    run = audits[("pytest", where, form)]
    assert run.done.returncode == 2, run.output()
    assert run.verdicts == reference
    assert "test_own" not in run.done.stdout


@pytest.mark.parametrize("form", FORMS)
def test_console_script_runs_the_suite_from_anywhere(audits, reference, form: str) -> None:
    run = audits[("kubepci", "a project with its own tests", form)]
    assert run.done.returncode == 2, run.output()
    assert run.verdicts == reference


def test_console_script_roots_the_same_with_a_space(places) -> None:
    """kubepci registers its plugins before pytest's first parse: the space form roots
    where the ``=`` form does (the project), not in the kubeconfig's folder."""
    headers = []
    for form in ("space", "="):
        done = _run(
            [
                str(BIN / "kubepci"),
                "-p",
                "no:cacheprovider",
                *_kubeconfig_args(places["kubeconfig"], form),
                "--collect-only",
                "-q",
            ],
            places["a project with its own tests"],
        )
        headers.append([ln for ln in done.stdout.splitlines() if ln.startswith("rootdir:")])
    assert headers[0] == headers[1]


def test_space_form_writes_no_cache_next_to_the_kubeconfig(places) -> None:
    """The space form roots pytest from the kubeconfig's path (its first parse takes PATH
    for a test path); its cache, which writes under the rootdir, is off for that run."""
    project = places["a project with its own tests"]
    done = _run(
        [str(BIN / "pytest"), "--kubeconfig", str(places["kubeconfig"]), "--check=kubelet-config"],
        project,
    )
    assert done.returncode == 2, done.stdout[-2000:]
    assert f"rootdir: {project}\n" not in done.stdout  # the premise: rooted elsewhere
    for folder in (places["the kubeconfig's folder"], places["root"], project):
        assert not (folder / ".pytest_cache").exists(), folder


@pytest.mark.parametrize("folder", ["plain", "my_tests_pci_fork"])
def test_pytest_without_kubepci_options_stays_passive(places, folder: str) -> None:
    """An unrelated project's run, even with $KUBECONFIG set and a folder named like the
    suite, is never an audit: its own test runs, and kubepci says nothing."""
    project = places["root"] / folder
    (project / "tests").mkdir(parents=True, exist_ok=True)
    (project / "tests" / "test_own.py").write_text("def test_own():\n    assert True\n")
    done = _run(
        [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"],
        project,
        KUBECONFIG=str(places["kubeconfig"]),
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
    assert "kubepci" not in done.stdout + done.stderr


def test_plugin_loaded_by_a_conftest_still_runs_the_suite(places) -> None:
    """A bare checkout loads the plugin from its root conftest, too late to change the
    command line: the test paths pytest took from the working directory are replaced."""
    bare = places["root"] / "bare"
    (bare / "tests").mkdir(parents=True)
    (bare / "conftest.py").write_text('pytest_plugins = ["kubepci.plugin"]\n')
    (bare / "tests" / "test_own.py").write_text("def test_own():\n    assert True\n")
    out = places["root"] / "out-bare"
    done = _run(
        [
            str(BIN / "pytest"),
            "--disable-plugin-autoload",
            "-p",
            "no:cacheprovider",
            f"--kubeconfig={places['kubeconfig']}",
            f"--evidence-dir={out}",
        ],
        bare,
    )
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert {check for check, _ in _verdicts(out)} == set(catalogue.load().checks)


# ------------------------------------------------------------------ the decisions, unit


def _options(**given: object) -> Namespace:
    base: dict[str, object] = {
        "help": False,
        "version": False,
        "file_or_dir": [],
        "kubeconfig": [],
        "context": [],
        "check": [],
        "from_evidence": None,
    }
    return Namespace(**{**base, **given})


def test_name_the_suite_only_for_an_audit_without_test_paths() -> None:
    suite = invocation.suite_directory()
    assert suite is not None and (suite / "test_1_1_unauthenticated_access.py").is_file()

    args = ["--kubeconfig", "k"]
    options = _options(kubeconfig=["k"])
    assert invocation.name_the_suite(args, options)
    assert args == [str(suite), "--kubeconfig", "k"]
    assert options.file_or_dir == [str(suite)]

    for options in (
        _options(),  # no audit asked for
        _options(kubeconfig=["k"], file_or_dir=["tests/unit"]),  # the user named tests
        _options(check=["kubelet-config"], help=True),
    ):
        args = ["x"]
        assert not invocation.name_the_suite(args, options)
        assert args == ["x"]


@pytest.mark.parametrize("option", invocation.AUDIT_OPTIONS)
def test_each_audit_option_asks_for_an_audit(option: str) -> None:
    assert not invocation.asks_for_audit(_options())
    assert invocation.asks_for_audit(_options(**{option: ["x"]}))
