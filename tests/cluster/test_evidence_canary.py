"""Leak canary: no credential reaches any output (HTML, JUnit, evidence pack, terminal).

Planted where a careless suite could copy them from:
- a Secret's value (fixtures/<profile>/90-canary-secret.yaml): the suite lists Secret
  metadata only;
- the static token file of the noncompliant API server (kind-configs/files/noncompliant/
  static-tokens.csv): the suite reads the flag naming the file, never the file;
- a second user's bearer token in a copy of the kubeconfig (not the audited context);
- a credential on the command line (``--metadata api_token VALUE``), which the report
  shows as part of the scope and pytest-metadata puts in the environment table: it must
  appear redacted there.
Each is searched for in plain text and in every base64 alignment.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from tests.cluster.conftest import LocalCluster, SuiteRun, run_suite

SECRET_VALUE = "kubepci-canary-secret-value-5d1e8b"
STATIC_TOKEN = "kubepci-canary-static-token-7f3a9c"
KUBECONFIG_TOKEN = "kubepci-canary-kubeconfig-token-4b8d2e"
COMMAND_LINE_TOKEN = "kubepci-canary-cli-token-9e6a1f"
CANARIES = (SECRET_VALUE, STATIC_TOKEN, KUBECONFIG_TOKEN, COMMAND_LINE_TOKEN)
PATH_KEYS = ("certificate-authority", "client-certificate", "client-key", "tokenFile")


def encodings(value: str) -> set[bytes]:
    """The value as text and as it would appear inside any base64 (or base64url) blob."""
    raw = value.encode()
    found = {raw}
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            blob = encode(b"\0" * shift + raw).rstrip(b"=")
            # Drop the characters that also depend on neighbouring bytes.
            found.add(blob[4 if shift else 0 : -3])
    return found


def canary_kubeconfig(source: str, directory: Path) -> Path:
    """A copy of the suite's kubeconfig with a second user and context holding a canary
    bearer token; the current context (the one audited) is unchanged."""
    base = Path(source).resolve().parent
    document = yaml.safe_load(Path(source).read_text())
    for section, key in (("clusters", "cluster"), ("users", "user")):
        for entry in document.get(section) or []:
            body = entry.get(key) or {}
            for field in PATH_KEYS:
                if field in body and not Path(body[field]).is_absolute():
                    body[field] = str(base / body[field])
    current = next(c for c in document["contexts"] if c["name"] == document["current-context"])
    document["users"].append({"name": "kubepci-canary", "user": {"token": KUBECONFIG_TOKEN}})
    document["contexts"].append(
        {
            "name": "kubepci-canary",
            "context": {"cluster": current["context"]["cluster"], "user": "kubepci-canary"},
        }
    )
    path = directory / "canary.kubeconfig"
    path.write_text(yaml.safe_dump(document))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def canary_run(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    outdir = tmp_path_factory.mktemp("canary")
    kubeconfig = canary_kubeconfig(local_cluster.kubeconfig, tmp_path_factory.mktemp("kc"))
    return run_suite(
        str(kubeconfig),
        outdir / "out",
        "-n",
        "2",
        "-v",  # pytest-metadata prints its table (with the command-line canary) in the header
        "-rA",
        f"--html={outdir / 'out' / 'report.html'}",
        "--self-contained-html",
        f"--evidence-dir={outdir / 'out' / 'evidence'}",
        "--metadata",
        "api_token",
        COMMAND_LINE_TOKEN,
    )


def test_the_suite_ran(canary_run: SuiteRun) -> None:
    assert canary_run.returncode in (0, 1, 2), canary_run.stdout[-3000:] + canary_run.stderr[-2000:]
    assert (canary_run.outdir / "report.html").stat().st_size > 0
    assert (canary_run.outdir / "evidence" / "manifest.json").is_file()


def test_the_canaries_were_there_to_leak(canary_run: SuiteRun, local_cluster: LocalCluster) -> None:
    """Without the plants the test below proves nothing."""
    [secrets] = (canary_run.outdir / "evidence" / "raw").glob("*/list-secrets.json")
    names = {
        (s["metadata"].get("namespace"), s["metadata"]["name"])
        for s in json.loads(secrets.read_text())["items"]
    }
    assert ("payments", "kubepci-canary") in names, "the canary Secret is not in the cluster"
    if local_cluster.profile == "noncompliant":
        results = json.loads((canary_run.outdir / "evidence" / "results.json").read_text())
        static = next(r for r in results["results"] if r["check_id"] == "static-token-file")
        assert static["verdict"] == "failed", "the static token file is not in use"
    report = (canary_run.outdir / "report.html").read_text()
    # The command-line canary reached the report's scope, redacted.
    assert "api_token [REDACTED]" in report


def test_no_canary_appears_in_any_output(canary_run: SuiteRun) -> None:
    outputs: dict[str, bytes] = {
        "stdout": canary_run.stdout.encode(),
        "stderr": canary_run.stderr.encode(),
    }
    for path in sorted(canary_run.outdir.rglob("*")):
        if path.is_file():
            outputs[str(path.relative_to(canary_run.outdir))] = path.read_bytes()
    assert len(outputs) > 10, sorted(outputs)
    leaks = [
        f"{canary} in {name}"
        for canary in CANARIES
        for name, content in outputs.items()
        if any(form in content for form in encodings(canary))
    ]
    assert not leaks, leaks
