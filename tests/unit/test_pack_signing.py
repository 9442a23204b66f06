"""The signed evidence pack: what the manifest records, the signature, and key checks.

The signature is checked here by ``cryptography`` and, independently, by ``openssl``; the
verifier (``kubepci verify``) has its own tests in test_verify.py.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import kubepci
from kubepci.report import pack, signing
from kubepci.report.provenance import InputFile
from kubepci.report.redact import MASK, forget_secrets
from kubepci.report.seal import SIGNATURE, Seal
from tests.unit.test_report_pack import result, store, view

CATALOGUE = Path(kubepci.__file__).parent / "catalogue"
WAIVERS = Path(__file__).parents[2] / "examples" / "waivers.yaml"


def write_key(path: Path, key: object, password: bytes | None = None) -> Path:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    return path


def write_public(path: Path, key: Ed25519PrivateKey) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def write_pack(tmp_path: Path, seal: Seal) -> Path:
    out = tmp_path / "evidence"
    pack.write(
        out, view([result("static-token-file", "failed")]), {"ctx": store(tmp_path)}, None, seal
    )
    return out


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


# ------------------------------------------------------------------ what the manifest says
def test_an_unsigned_pack_says_so(tmp_path: Path) -> None:
    out = write_pack(tmp_path, Seal())
    data = manifest(out)
    assert data["signed"] is False
    assert data["signature"] is None
    assert not (out / SIGNATURE).exists()
    assert data["format"] == "kubepci-manifest/2"
    assert data["suite_version"] == kubepci.__version__


def test_manifest_records_every_catalogue_file_with_its_hash(tmp_path: Path) -> None:
    recorded = {
        e["path"]: e["sha256"]
        for e in manifest(write_pack(tmp_path, Seal()))["inputs"]["catalogue"]
    }
    on_disk = {
        f"kubepci/catalogue/{p.relative_to(CATALOGUE).as_posix()}": hashlib.sha256(
            p.read_bytes()
        ).hexdigest()
        for p in CATALOGUE.rglob("*")
        if p.suffix in (".yaml", ".json") and "__pycache__" not in p.parts
    }
    assert recorded == on_disk
    for name in ("section1.yaml", "privileges.yaml", "methods.yaml"):
        assert f"kubepci/catalogue/{name}" in recorded
    assert "kubepci/catalogue/oscal/pci-container-section1-catalog.json" in recorded


def test_manifest_records_the_command_line_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLWJ5dGVz"
    monkeypatch.setattr(sys, "argv", ["kubepci", f"--token={token}", "--evidence-dir=x"])
    data = manifest(write_pack(tmp_path, Seal()))
    assert data["command_line"] == ["kubepci", f"--token={MASK}", "--evidence-dir=x"]
    assert token not in (tmp_path / "evidence" / "manifest.json").read_text()


def test_waivers_in_force_are_hashed_and_copied_byte_for_byte(tmp_path: Path) -> None:
    content = WAIVERS.read_bytes()
    seal = Seal(inputs={"waivers": InputFile("waivers", str(WAIVERS), content)})
    out = write_pack(tmp_path, seal)
    data = manifest(out)
    recorded = data["inputs"]["waivers"]
    assert recorded["sha256"] == hashlib.sha256(content).hexdigest()
    assert recorded["path"] == str(WAIVERS)
    assert recorded["copy"] == "inputs/waivers.yaml"
    assert (out / "inputs/waivers.yaml").read_bytes() == content
    assert "inputs/waivers.yaml" in {e["path"] for e in data["files"]}
    assert data["inputs"]["attestations"] is None


def test_an_input_that_holds_a_credential_is_hashed_not_copied(tmp_path: Path) -> None:
    content = b"- check: x\n  justification: 'password: hunter2hunter2'\n"
    seal = Seal(inputs={"waivers": InputFile("waivers", "/w.yaml", content)})
    out = write_pack(tmp_path, seal)
    recorded = manifest(out)["inputs"]["waivers"]
    assert recorded["copy"] is None and recorded["not_copied"]
    assert recorded["sha256"] == hashlib.sha256(content).hexdigest()
    assert not (out / "inputs").exists()
    assert b"hunter2" not in b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())


# ------------------------------------------------------------------ the signature
def test_signature_covers_the_exact_manifest_bytes(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    out = write_pack(tmp_path, Seal(key=key))
    data = manifest(out)
    assert data["signed"] is True
    assert data["signature"]["file"] == SIGNATURE
    assert data["signature"]["public_key_sha256"] == signing.fingerprint(key.public_key())
    signature = (out / SIGNATURE).read_bytes()
    assert len(signature) == 64
    body = (out / "manifest.json").read_bytes()
    assert signing.is_valid(key.public_key(), body, signature)
    one_byte_off = body.replace(b'"signed": true', b'"signed": True', 1)
    assert one_byte_off != body
    assert not signing.is_valid(key.public_key(), one_byte_off, signature)
    assert not signing.is_valid(Ed25519PrivateKey.generate().public_key(), body, signature)
    sums = (out / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(signature).hexdigest()}  {SIGNATURE}\n" in sums


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl absent")
def test_openssl_verifies_the_signature_and_the_fingerprint(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    out = write_pack(tmp_path, Seal(key=key))
    public = write_public(tmp_path / "signer.pub.pem", key)
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin",
         "-in", str(out / "manifest.json"), "-sigfile", str(out / SIGNATURE)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "Verified Successfully" in done.stdout, done.stderr
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(public), "-outform", "DER"],
        capture_output=True, check=True,
    )  # fmt: skip
    assert manifest(out)["signature"]["public_key_sha256"] == (
        "sha256:" + hashlib.sha256(der.stdout).hexdigest()
    )


def test_rewriting_a_pack_unsigned_removes_the_old_signature_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    write_pack(tmp_path, Seal(key=Ed25519PrivateKey.generate(), oscal=out / "oscal.json"))
    assert (out / SIGNATURE).is_file() and (out / "oscal.json").is_file()
    pack.write(out, view([]), {}, None, Seal())
    assert not (out / SIGNATURE).exists()
    assert not (out / "oscal.json").exists()  # listed by the old manifest, not asked for now
    assert not (out / "inputs").exists()


# ------------------------------------------------------------------ key checks, at configure
def config(**options: object) -> SimpleNamespace:
    values = {"sign_key": None, "oscal": None, "waivers": None, **options}
    return SimpleNamespace(option=SimpleNamespace(**values))


def usage(message: str, **options: object) -> None:
    with pytest.raises(pytest.UsageError, match=message):
        Seal.from_config(config(**options), Path("/tmp/evidence"))  # type: ignore[arg-type]


def test_good_key_is_loaded(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    seal = Seal.from_config(
        config(sign_key=str(write_key(tmp_path / "k.pem", key))),  # type: ignore[arg-type]
        tmp_path,
    )
    assert seal.key is not None
    assert signing.fingerprint(seal.key.public_key()) == signing.fingerprint(key.public_key())


def test_a_key_that_is_not_ed25519_is_a_usage_error(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    usage("RSAPrivateKey key, not Ed25519", sign_key=str(write_key(tmp_path / "r.pem", rsa_key)))
    ec_key = ec.generate_private_key(ec.SECP256R1())
    usage("not Ed25519", sign_key=str(write_key(tmp_path / "e.pem", ec_key)))


def test_an_unreadable_or_malformed_key_is_a_usage_error(tmp_path: Path) -> None:
    usage("cannot read it", sign_key=str(tmp_path / "absent.pem"))
    (tmp_path / "junk.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n")
    usage("not a PEM private key", sign_key=str(tmp_path / "junk.pem"))
    public = write_public(tmp_path / "pub.pem", Ed25519PrivateKey.generate())
    usage("not a PEM private key", sign_key=str(public))


def test_an_encrypted_key_takes_its_passphrase_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_key(tmp_path / "k.pem", Ed25519PrivateKey.generate(), b"correct horse")
    monkeypatch.delenv(signing.PASSPHRASE_ENV, raising=False)
    usage(signing.PASSPHRASE_ENV, sign_key=str(path))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "wrong horse")
    usage("wrong passphrase", sign_key=str(path))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "correct horse")
    try:
        assert isinstance(signing.load_private_key(path), Ed25519PrivateKey)
    finally:
        forget_secrets()


def test_sign_key_without_an_evidence_dir_is_a_usage_error(tmp_path: Path) -> None:
    path = write_key(tmp_path / "k.pem", Ed25519PrivateKey.generate())
    with pytest.raises(pytest.UsageError, match="give --evidence-dir"):
        Seal.from_config(config(sign_key=str(path)), None)  # type: ignore[arg-type]


def test_oscal_into_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    usage("is a directory", oscal=str(tmp_path))


def kubeconfig_of_nothing(tmp_path: Path) -> Path:
    """A cluster that cannot be reached (a closed loopback port): every check errors."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: not-a-real-token-value}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    return path


def run_kubepci(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from kubepci.cli import main; raise SystemExit(main())",
         *args, "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip


def test_a_bad_key_stops_the_run_before_any_cluster_is_contacted(tmp_path: Path) -> None:
    """End to end: the console script exits 4 naming the key, before connecting."""
    (tmp_path / "bad.pem").write_text("not a key")
    done = run_kubepci(
        tmp_path,
        f"--kubeconfig={kubeconfig_of_nothing(tmp_path)}",
        f"--evidence-dir={tmp_path / 'ev'}",
        f"--sign-key={tmp_path / 'bad.pem'}",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 4, output
    assert "--sign-key" in output and "not a PEM private key" in output
    assert "connecting to" not in output
    assert not (tmp_path / "ev").exists()


def test_the_options_sign_the_pack_and_write_oscal_end_to_end(tmp_path: Path) -> None:
    """Through the console script, on a cluster that cannot be reached: the pack is still
    written and signed, verifies, and the OSCAL document (outside the pack) is recorded
    and finds no item satisfied (fail closed)."""
    from kubepci import verify
    from tests.support import oscal_schema

    key = Ed25519PrivateKey.generate()
    done = run_kubepci(
        tmp_path,
        f"--kubeconfig={kubeconfig_of_nothing(tmp_path)}",
        f"--evidence-dir={tmp_path / 'ev'}",
        f"--sign-key={write_key(tmp_path / 'k.pem', key)}",
        f"--oscal={tmp_path / 'ar.json'}",
        f"--waivers={WAIVERS}",
    )
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "signed, Ed25519 key" in done.stdout and "OSCAL assessment results" in done.stdout
    found = verify.verify(tmp_path / "ev", key.public_key(), {"waivers": WAIVERS})
    assert found.problems == [] and found.exit_code == verify.INTACT
    data = manifest(tmp_path / "ev")
    assert (
        data["outputs"]["oscal"]["sha256"]
        == hashlib.sha256((tmp_path / "ar.json").read_bytes()).hexdigest()
    )
    document = json.loads((tmp_path / "ar.json").read_text())
    assert oscal_schema.errors(document) == []
    findings = document["assessment-results"]["results"][0]["findings"]
    assert {f["target"]["status"]["state"] for f in findings} == {"not-satisfied"}


def test_an_oscal_failure_keeps_the_pack_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubepci.report import oscal

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("model refused")

    monkeypatch.setattr(oscal, "build", broken)
    seal = Seal(key=Ed25519PrivateKey.generate(), oscal=tmp_path / "evidence" / "ar.json")
    out = write_pack(tmp_path, seal)
    assert seal.oscal_error == "ValueError: model refused"
    assert not (out / "ar.json").exists()
    assert manifest(out)["outputs"]["oscal"]["error"] == "ValueError: model refused"
