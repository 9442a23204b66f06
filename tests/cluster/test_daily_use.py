"""Daily use on the real cluster: the suite as people type it, and with only the role they
must grant.

- ``pytest --kubeconfig PATH`` (space) from four working directories, and the installed
  console script ``kubepci --kubeconfig PATH``, give the verdicts the documented
  ``--kubeconfig=PATH`` run gives (results.json).
- An identity holding only deploy/'s required kubepci-auditor role (no nodes/proxy) exits
  0 on the compliant profile: kubelet-config is manual with the limitation recorded in
  results.json and the report, and the live kubelet probes still judge 1.1.4.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kubepci.records.kubelet_configz import KUBELET_CONFIG_ROLE, NOT_GRANTED
from tests.cluster.conftest import REPO, LocalCluster, require_profile
from tests.support import identities

BIN = Path(sys.executable).parent
DEPLOY = REPO / "deploy" / "auditor-rbac.yaml"
REQUIRED_ROLE = "kubepci-auditor"
SA_NAME = "required-role"
# A project of its own, whose conftest would empty any run it is loaded into.
OWN_CONFTEST = "def pytest_collection_modifyitems(items):\n    items.clear()\n"


def _audit(command: list[str], cwd: Path, out: Path) -> tuple[int, str, dict]:
    done = subprocess.run(
        [*command, "-p", "no:cacheprovider", f"--evidence-dir={out}", "-q"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )
    results = out / "results.json"
    document = json.loads(results.read_text()) if results.exists() else {}
    return done.returncode, done.stdout[-3000:] + done.stderr[-2000:], document


def _verdicts(document: dict) -> dict[tuple[str, str], str]:
    return {(r["check_id"], r["cluster"]): r["verdict"] for r in document["results"]}


def test_space_form_from_anywhere_gives_the_same_verdicts(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    kube_dir = tmp_path / "kube"
    kube_dir.mkdir()
    kubeconfig = kube_dir / "config"
    shutil.copy2(local_cluster.kubeconfig, kubeconfig)  # its folder is a place to run from
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    (project / "tests" / "test_own.py").write_text("def test_own():\n    pass\n")
    (project / "tests" / "conftest.py").write_text(OWN_CONFTEST)

    code, output, reference = _audit(
        [str(BIN / "pytest"), f"--kubeconfig={kubeconfig}"], REPO, tmp_path / "reference"
    )
    assert reference, output
    expected = _verdicts(reference)
    assert len(expected) >= 30

    places = {
        "repository": REPO,
        "its parent": REPO.parent,
        "the kubeconfig's folder": kube_dir,
        "a project with its own tests": project,
    }
    runs = {
        f"pytest from {name}": ([str(BIN / "pytest"), "--kubeconfig", str(kubeconfig)], cwd)
        for name, cwd in places.items()
    }
    runs["kubepci (console script)"] = (
        [str(BIN / "kubepci"), "--kubeconfig", str(kubeconfig)],
        project,
    )
    for index, (name, (command, cwd)) in enumerate(runs.items()):
        got_code, got_output, document = _audit(command, cwd, tmp_path / f"run-{index}")
        assert got_code == code, f"{name}: exit {got_code}, not {code}\n{got_output}"
        assert _verdicts(document) == expected, name
    assert not (kube_dir / ".pytest_cache").exists()


# ------------------------------------------------------------------ only the required role


def _required_rules() -> list[dict]:
    documents = yaml.safe_load_all(DEPLOY.read_text())
    (role,) = [
        d
        for d in documents
        if d["kind"] == "ClusterRole" and d["metadata"]["name"] == REQUIRED_ROLE
    ]
    return role["rules"]


def _waivers(path: Path) -> Path:
    """What a nightly CI identity waives (README: a ServiceAccount token in a kubeconfig,
    and the required role's cluster-wide list secrets)."""
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    common = {"approver": "ci@example.com", "expires": expires}
    path.write_text(
        yaml.safe_dump(
            [
                {
                    "check": "service-account-privileges",
                    "selector": {
                        "kind": "ServiceAccount",
                        "namespace": identities.NAMESPACE,
                        "name": SA_NAME,
                    },
                    "class": "read-secrets",
                    "justification": "the required auditor role lists Secrets as metadata "
                    "only to find legacy tokens; nothing narrower exists",
                    **common,
                },
                {
                    "check": "kubeconfig-credential-plugin",
                    "selector": {"kind": "KubeconfigUser", "name": SA_NAME},
                    "class": "service-account-token",
                    "justification": "the nightly job runs as a ServiceAccount with a "
                    "one-hour TokenRequest token, not as a person",
                    **common,
                },
            ]
        )
    )
    return path


@pytest.fixture(scope="module")
def required_role_run(
    local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, str, dict, Path]]:
    local = require_profile(local_cluster, "compliant")
    tmp = tmp_path_factory.mktemp("required-role")
    try:
        # deploy/'s required role, as a labelled copy the test removes again; a one-hour
        # TokenRequest token (what `kubectl create token` asks for) in a kubeconfig.
        identity = identities.service_account_identity(
            local.admin_kubeconfig, SA_NAME, [], tmp / "sa.kubeconfig", rules=_required_rules()
        )
        command = [
            str(BIN / "pytest"),
            "--kubeconfig",
            str(identity.kubeconfig),
            "--waivers",
            str(_waivers(tmp / "waivers.yaml")),
            f"--html={tmp / 'report.html'}",
            "--self-contained-html",
        ]
        code, output, document = _audit(command, REPO, tmp / "evidence")
        yield code, output, document, tmp
    finally:
        identities.remove(local.admin_kubeconfig)


def test_required_role_alone_exits_0(required_role_run) -> None:
    code, output, document, _ = required_role_run
    assert code == 0, output
    verdicts = {check: verdict for (check, _), verdict in _verdicts(document).items()}
    assert "error" not in verdicts.values(), verdicts
    # The live probes still judge 1.1.4; the configuration is for a person to attest.
    assert verdicts["kubelet-anonymous-probe"] == "passed"
    assert verdicts["kubelet-read-only-port"] == "passed"
    assert verdicts["kubelet-config"] == "manual"


def test_missing_optional_grant_is_a_recorded_limitation(required_role_run) -> None:
    _, _, document, tmp = required_role_run
    (limitation,) = [x for x in document["limitations"] if x.get("check_id") == "kubelet-config"]
    assert limitation["kind"] == "manual"
    assert "nodes/proxy" in limitation["reason"] and KUBELET_CONFIG_ROLE in limitation["reason"]
    # The premise, from the evidence itself: the API server confirmed the grant is absent.
    (store,) = (tmp / "evidence" / "raw").iterdir()
    configz = json.loads((store / "kubelet-configz.json").read_text())["ok"]
    assert configz and all(entry["kind"] == NOT_GRANTED for entry in configz.values())
    assert all(entry["review"]["allowed"] is False for entry in configz.values())
    report = (tmp / "report.html").read_text()
    assert f"or grant {KUBELET_CONFIG_ROLE}" in report
