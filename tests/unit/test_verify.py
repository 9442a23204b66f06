"""``kubepci verify``: every way a pack can be altered is caught and named; exit codes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kubepci import cli, verify
from kubepci.report import pack
from kubepci.report.provenance import InputFile
from kubepci.report.seal import SIGNATURE, Seal
from tests.unit.test_pack_signing import WAIVERS, write_public
from tests.unit.test_report_pack import result, store, view

KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    """A signed pack with a waivers copy and an OSCAL document inside it."""
    out = tmp_path / "evidence"
    seal = Seal(
        key=KEY,
        oscal=out / "oscal" / "assessment-results.json",
        inputs={"waivers": InputFile("waivers", str(WAIVERS), WAIVERS.read_bytes())},
    )
    results = [result("static-token-file", "failed"), result("pod-token-automount", "passed")]
    pack.write(out, view(results), {"ctx": store(tmp_path)}, None, seal)
    return out


@pytest.fixture
def public(tmp_path: Path) -> Path:
    return write_public(tmp_path / "signer.pub.pem", KEY)


def check(out: Path, key: bool = True, **given: Path) -> verify.Verification:
    return verify.verify(out, KEY.public_key() if key else None, given)


def named(found: verify.Verification) -> set[str]:
    return {p.split(": ", 1)[0] for p in found.problems}


def flip(path: Path) -> None:
    """Change one byte, keeping the size: only the hash can tell."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def resum(out: Path) -> None:
    """What a careful forger does after editing a file: recompute SHA256SUMS."""
    lines = []
    for line in (out / "SHA256SUMS").read_text().splitlines():
        name = line.split("  ", 1)[1]
        if not (out / name).is_file():
            continue
        lines.append(f"{hashlib.sha256((out / name).read_bytes()).hexdigest()}  {name}\n")
    (out / "SHA256SUMS").write_text("".join(lines))


def rehash_manifest(out: Path, edit: object = None) -> None:
    """Rewrite every file hash in the manifest (and SHA256SUMS) to match the files."""
    data = json.loads((out / "manifest.json").read_text())
    for entry in data["files"]:
        body = (out / entry["path"]).read_bytes()
        entry["sha256"], entry["bytes"] = hashlib.sha256(body).hexdigest(), len(body)
    if callable(edit):
        edit(data)
    (out / "manifest.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    resum(out)


# ------------------------------------------------------------------ intact packs
def test_an_intact_signed_pack_verifies(signed: Path) -> None:
    found = check(signed)
    assert found.problems == []
    assert found.signature_checked and found.exit_code == verify.INTACT
    assert found.files == len(json.loads((signed / "manifest.json").read_text())["files"])
    assert any(n.startswith("signature: valid") for n in found.notes)


def test_a_signed_pack_without_the_public_key_is_not_verified(signed: Path) -> None:
    found = check(signed, key=False)
    assert found.problems == []
    assert found.exit_code == verify.NOT_VERIFIED
    assert any("NOT CHECKED" in n for n in found.notes)


def test_an_unsigned_pack_is_intact_and_says_it_is_unsigned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "evidence"
    pack.write(out, view([]), {"ctx": store(tmp_path)}, None, Seal())
    assert verify.main([str(out)]) == verify.INTACT
    assert "INTACT, UNSIGNED" in capsys.readouterr().out


def test_an_unsigned_pack_fails_when_a_signature_is_expected(tmp_path: Path, public: Path) -> None:
    out = tmp_path / "evidence"
    pack.write(out, view([]), {"ctx": store(tmp_path)}, None, Seal())
    found = check(out)
    assert found.exit_code == verify.TAMPERED
    assert named(found) == {"manifest.json"}
    assert "a signed pack was expected" in found.problems[0]


# ------------------------------------------------------------------ tampering, file by file
@pytest.mark.parametrize(
    "name",
    [
        "results.json",
        "raw/ctx/version.json",
        "raw/ctx/list-secrets.json",
        "oscal/assessment-results.json",
    ],
)
def test_a_changed_file_is_named(signed: Path, name: str) -> None:
    flip(signed / name)
    found = check(signed)
    assert found.exit_code == verify.TAMPERED
    assert f"{name}: SHA-256 differs from the manifest" in found.problems


def test_a_changed_waivers_copy_is_named(signed: Path) -> None:
    flip(signed / "inputs/waivers.yaml")
    found = check(signed)
    assert named(found) == {"inputs/waivers.yaml"}
    assert any("differs from the waivers file in force" in p for p in found.problems)


def test_a_changed_manifest_is_named(signed: Path) -> None:
    text = (signed / "manifest.json").read_text()
    (signed / "manifest.json").write_text(text.replace('"suite_version"', '"suite_versioN"'))
    found = check(signed)
    assert "manifest.json" in named(found)  # SHA256SUMS records its hash
    assert "manifest.json, manifest.sig" in named(found)  # and the signature fails


def test_a_changed_signature_is_named(signed: Path) -> None:
    flip(signed / SIGNATURE)
    found = check(signed)
    assert named(found) == {"manifest.sig", "manifest.json, manifest.sig"}
    assert "manifest.sig: SHA-256 differs from SHA256SUMS" in found.problems


def test_a_forged_pack_with_every_hash_recomputed_fails_on_the_signature(signed: Path) -> None:
    (signed / "results.json").write_text(
        (signed / "results.json").read_text().replace('"failed"', '"passed"')
    )
    rehash_manifest(signed)
    found = check(signed)
    assert found.problems == [
        "manifest.json, manifest.sig: the signature does not verify with the given public key: "
        "one of them was altered, or another key signed it"
    ]
    # Without the key the forgery cannot be seen: which is why that is never "intact".
    assert check(signed, key=False).exit_code == verify.NOT_VERIFIED


def test_a_stripped_signature_is_caught_with_the_public_key(signed: Path) -> None:
    (signed / SIGNATURE).unlink()

    def unsign(data: dict) -> None:
        data["signed"], data["signature"] = False, None

    rehash_manifest(signed, unsign)
    assert check(signed).exit_code == verify.TAMPERED
    assert check(signed, key=False).exit_code == verify.INTACT  # and says UNSIGNED


def test_another_key_does_not_verify(signed: Path) -> None:
    found = verify.verify(signed, Ed25519PrivateKey.generate().public_key())
    assert named(found) == {"manifest.json, manifest.sig"}
    assert "the manifest names key sha256:" in found.problems[0]


def test_missing_and_extra_files_are_named(signed: Path) -> None:
    (signed / "raw/ctx/version.json").unlink()
    (signed / "raw/ctx/planted.json").write_text("{}")
    (signed / "notes.txt").write_text("x")
    found = check(signed)
    assert "raw/ctx/version.json: missing (listed in the manifest)" in found.problems
    assert "raw/ctx/planted.json: not listed in the manifest" in found.problems
    assert "notes.txt: not listed in the manifest" in found.problems


def test_a_missing_signature_or_manifest_or_sums_is_named(signed: Path) -> None:
    (signed / SIGNATURE).unlink()
    assert "manifest.sig" in named(check(signed))
    (signed / "SHA256SUMS").unlink()
    assert "SHA256SUMS: missing" in check(signed).problems
    (signed / "manifest.json").unlink()
    assert named(check(signed)) == {"manifest.json"}


def test_sums_that_disagree_with_the_manifest_are_named(signed: Path) -> None:
    sums = (signed / "SHA256SUMS").read_text().splitlines()
    first_hash, first_name = sums[0].split("  ", 1)
    sums[0] = f"{'0' * 64}  {first_name}"
    sums.append(f"{first_hash}  extra.json")
    (signed / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    found = check(signed)
    assert f"SHA256SUMS: {first_name}'s SHA-256 differs from the manifest" in found.problems
    assert "SHA256SUMS: lists extra.json, which the manifest does not" in found.problems


def test_a_symbolic_link_is_not_a_pack_file(signed: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_bytes((signed / "results.json").read_bytes())
    (signed / "results.json").unlink()
    os.symlink(target, signed / "results.json")
    found = check(signed)
    assert "results.json: a symbolic link (a pack holds regular files only)" in found.problems


def test_a_manifest_path_outside_the_pack_is_refused(signed: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.json").write_text("{}")
    data = json.loads((signed / "manifest.json").read_text())
    data["files"].append({"path": "../outside.json", "bytes": 3, "sha256": "0" * 64})
    (signed / "manifest.json").write_text(json.dumps(data))
    found = check(signed)
    assert any("cannot be a pack file: '../outside.json'" in p for p in found.problems)


# ------------------------------------------------------------------ inputs given by path
def test_the_approved_waivers_file_matches(signed: Path) -> None:
    found = check(signed, waivers=WAIVERS)
    assert found.problems == []
    assert any("is the file that was in force" in n for n in found.notes)


def test_a_changed_waivers_original_is_named(signed: Path, tmp_path: Path) -> None:
    changed = tmp_path / "waivers.yaml"
    changed.write_bytes(WAIVERS.read_bytes().replace(b"2027", b"2028"))
    found = check(signed, waivers=changed)
    assert named(found) == {str(changed)}
    assert "differs from the waivers file in force" in found.problems[0]


def test_an_input_the_run_did_not_use_is_named(signed: Path) -> None:
    found = check(signed, attestations=WAIVERS)
    assert found.problems == [f"{WAIVERS}: the run used no attestations file"]


# ------------------------------------------------------------------ the command
def test_help_documents_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["verify", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "kubepci verify" in text and "--public-key" in text
    for code in ("0  intact", "1  not intact", "2  not verified", "4  usage error"):
        assert code in text, code


def test_the_console_script_dispatches_verify(
    signed: Path, public: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify", str(signed), "--public-key", str(public)]) == verify.INTACT
    assert "INTACT:" in capsys.readouterr().out
    assert cli.main(["verify", str(signed)]) == verify.NOT_VERIFIED
    assert "NOT VERIFIED" in capsys.readouterr().out
    flip(signed / "results.json")
    assert cli.main(["verify", str(signed), "--public-key", str(public)]) == verify.TAMPERED
    out = capsys.readouterr().out
    assert "FAIL results.json: SHA-256 differs from the manifest" in out
    assert "NOT INTACT" in out


def test_usage_errors_exit_4(signed: Path, tmp_path: Path) -> None:
    assert verify.main([str(tmp_path / "absent")]) == verify.USAGE
    (tmp_path / "bad.pem").write_text("nope")
    assert verify.main([str(signed), "--public-key", str(tmp_path / "bad.pem")]) == verify.USAGE
    assert verify.main([str(signed), "--waivers", str(tmp_path / "absent.yaml")]) == verify.USAGE
    with pytest.raises(SystemExit) as stop:
        verify.main([str(signed), "--no-such-option"])
    assert stop.value.code == verify.USAGE
