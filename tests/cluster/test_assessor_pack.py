"""A signed evidence pack and its OSCAL document from a real run, checked as an assessor would.

The suite runs against the local cluster with --evidence-dir, --sign-key, --waivers and
--oscal (inside the pack, so the signature covers it); then ``kubepci verify`` passes,
fails naming the file when any file of the pack (or the approved waivers file) is altered,
and the OSCAL document validates with trestle and with NIST's schema.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from trestle.core.validator_factory import validator_factory
from trestle.oscal.assessment_results import AssessmentResults

from kubepci import catalogue
from tests.cluster.conftest import REPO, LocalCluster, SuiteRun, run_suite
from tests.support import oscal_schema
from tests.unit.test_pack_signing import write_key, write_public

KUBEPCI = Path(sys.executable).with_name("kubepci")
OSCAL = "oscal/assessment-results.json"


@dataclass(frozen=True)
class SignedRun:
    run: SuiteRun
    pack: Path
    public_key: Path
    waivers: Path


@pytest.fixture(scope="module")
def signed(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SignedRun:
    outdir = tmp_path_factory.mktemp("assessor")
    key = Ed25519PrivateKey.generate()
    private = write_key(outdir / "signer.pem", key)
    public = write_public(outdir / "signer.pub.pem", key)
    waivers = outdir / "approved-waivers.yaml"
    shutil.copyfile(REPO / "examples" / "waivers.yaml", waivers)
    pack = outdir / "evidence"
    run = run_suite(
        local_cluster.kubeconfig,
        outdir,
        f"--evidence-dir={pack}",
        f"--sign-key={private}",
        f"--waivers={waivers}",
        f"--oscal={pack / OSCAL}",
    )
    assert (pack / "manifest.json").is_file(), run.stdout[-3000:] + run.stderr[-2000:]
    return SignedRun(run, pack, public, waivers)


def kubepci_verify(pack: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUBEPCI), "verify", str(pack), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_run_wrote_a_signed_pack(signed: SignedRun) -> None:
    assert signed.run.returncode in (0, 1, 2), signed.run.stdout[-3000:]
    manifest = json.loads((signed.pack / "manifest.json").read_text())
    assert manifest["signed"] is True
    assert (signed.pack / "manifest.sig").stat().st_size == 64
    assert "signed, Ed25519 key sha256:" in signed.run.stdout
    assert OSCAL in {e["path"] for e in manifest["files"]}
    waivers = manifest["inputs"]["waivers"]
    assert waivers["path"] == str(signed.waivers) and waivers["copy"] == "inputs/waivers.yaml"
    assert any(" --sign-key=" in f" {a}" for a in manifest["command_line"])
    assert "attestations" in manifest["inputs"]  # recorded, null when none was given


def test_kubepci_verify_passes(signed: SignedRun) -> None:
    done = kubepci_verify(
        signed.pack, "--public-key", str(signed.public_key), "--waivers", str(signed.waivers)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "INTACT:" in done.stdout and "FAIL" not in done.stdout
    unchecked = kubepci_verify(signed.pack)
    assert unchecked.returncode == 2, unchecked.stdout
    assert "NOT VERIFIED" in unchecked.stdout


def test_openssl_verifies_the_same_signature(signed: SignedRun) -> None:
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(signed.public_key), "-rawin",
         "-in", str(signed.pack / "manifest.json"), "-sigfile", str(signed.pack / "manifest.sig")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def raw_export(pack: Path) -> str:
    return sorted(p.relative_to(pack).as_posix() for p in (pack / "raw").rglob("list-*.json"))[0]


@pytest.mark.parametrize(
    "target",
    ["results.json", "raw export", "manifest.json", "manifest.sig", "inputs/waivers.yaml", OSCAL],
)
def test_tampering_with_a_pack_file_fails_naming_it(
    signed: SignedRun, target: str, tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(signed.pack, pack)
    name = raw_export(pack) if target == "raw export" else target
    flip(pack / name)
    done = kubepci_verify(pack, "--public-key", str(signed.public_key))
    assert done.returncode == 1, done.stdout + done.stderr
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAIL ")]
    assert any(line.startswith(f"FAIL {name}") for line in failures), done.stdout


def test_a_changed_waivers_original_fails_naming_it(signed: SignedRun, tmp_path: Path) -> None:
    changed = tmp_path / "approved-waivers.yaml"
    changed.write_bytes(signed.waivers.read_bytes().replace(b"expires: 20", b"expires: 21"))
    assert changed.read_bytes() != signed.waivers.read_bytes()
    done = kubepci_verify(
        signed.pack, "--public-key", str(signed.public_key), "--waivers", str(changed)
    )
    assert done.returncode == 1, done.stdout
    assert f"FAIL {changed}: differs from the waivers file in force" in done.stdout


def test_the_oscal_document_validates_with_trestle_and_nist_schema(signed: SignedRun) -> None:
    path = signed.pack / OSCAL
    model = AssessmentResults.oscal_read(path)
    assert model is not None
    assert validator_factory.get(argparse.Namespace(mode="all")).model_is_valid(model, False)
    document = json.loads(path.read_text())
    assert oscal_schema.errors(document) == []


def test_the_oscal_document_matches_the_pack(signed: SignedRun) -> None:
    body = json.loads((signed.pack / OSCAL).read_text())["assessment-results"]
    results = json.loads((signed.pack / "results.json").read_text())["results"]
    [result] = body["results"]
    observed = {
        tuple(p["value"] for p in o["props"] if p["name"] in ("check-id", "verdict"))
        for o in result["observations"]
    }
    assert observed == {(r["check_id"], r["verdict"]) for r in results}
    assert len(result["observations"]) == len(results) == len(catalogue.load().checks)
    assert len(result["findings"]) == 6  # one per PCI item, one cluster
    manifest = json.loads((signed.pack / "manifest.json").read_text())
    hashes = {
        r["title"]: r["rlinks"][0]["hashes"][0]["value"]
        for r in body["back-matter"]["resources"]
        if r.get("rlinks")
    }
    for entry in manifest["files"]:
        if entry["path"] != OSCAL:  # the document cannot hold its own hash
            assert hashes[entry["path"]] == entry["sha256"], entry["path"]
