"""``kubepci verify PACK``: is this evidence pack exactly what kubepci wrote, and who wrote it?

Checks, and names every file that fails:

- every file the manifest lists is there, with its size and SHA-256;
- no file is in the pack that the manifest does not list (only ``manifest.json``,
  ``SHA256SUMS`` and, for a signed pack, ``manifest.sig`` are not listed in it);
- ``SHA256SUMS`` says the same as the manifest, and holds the manifest's and the
  signature's own hashes;
- the copies of the waivers and attestations files in force match the hashes recorded for
  them, and so do the files given with ``--waivers`` / ``--attestations`` (the approved
  originals, say);
- with ``--public-key``: ``manifest.sig`` is a valid Ed25519 signature of the exact bytes
  of ``manifest.json`` by that key. Since the manifest holds every other file's hash,
  that signature covers the whole pack.

Hashes alone prove a pack consistent, not who wrote it: anyone can rewrite a file and its
hashes. So a signed pack verified without ``--public-key`` is reported as not verified
(exit 2), never as intact; an unsigned pack (``"signed": false``) is intact when its hashes
hold, and says so; an unsigned pack checked with ``--public-key`` fails, because a
signature was expected and a stripped one looks exactly like that.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn, TypeGuard

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kubepci.report import provenance, signing
from kubepci.report.pack import MANIFEST, SUMS
from kubepci.report.seal import SIGNATURE

Obj = dict[str, Any]
FORMATS = ("kubepci-manifest/2",)

INTACT, TAMPERED, NOT_VERIFIED, USAGE = 0, 1, 2, 4
EXIT_CODES = f"""\
exit codes:
  {INTACT}  intact: every hash holds, no file is missing or extra, and the signature is
     valid for --public-key; or the pack says it is unsigned ("signed": false), no
     --public-key was given, and its hashes hold (the output says it is unsigned)
  {TAMPERED}  not intact: a file differs, is missing or is extra; SHA256SUMS disagrees with
     the manifest; a --waivers/--attestations file differs from the one in force; the
     signature does not verify with --public-key; or --public-key was given and the pack
     is not signed. Each problem is printed as 'FAIL <file>: <what>'
  {NOT_VERIFIED}  not verified: the hashes hold, but the pack is signed and no --public-key
     was given, so who wrote it was not checked
  {USAGE}  usage error: PACK is not a directory, or a key or file given cannot be read
"""
_SUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


class UsageError(Exception):
    """Arguments that cannot be used; exit 4."""


@dataclass
class Verification:
    """What ``kubepci verify`` found: problems name a file first (``file: what``)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signed: bool | None = None
    signature_checked: bool = False
    files: int = 0

    def fail(self, name: str, what: str) -> None:
        self.problems.append(f"{name}: {what}")

    @property
    def exit_code(self) -> int:
        if self.problems:
            return TAMPERED
        if self.signed and not self.signature_checked:
            return NOT_VERIFIED
        return INTACT


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe(name: Any) -> TypeGuard[str]:
    """A manifest path names a file inside the pack: relative, no '..', POSIX form."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and str(path) == name


def _on_disk(root: Path, check: Verification) -> set[str]:
    """Every regular file in the pack, by relative POSIX path; links are problems."""
    found: set[str] = set()
    for folder, dirs, names in os.walk(root):
        for name in [*dirs, *names]:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                check.fail(relative, "a symbolic link (a pack holds regular files only)")
            elif name in names:
                found.add(relative)
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
    return found


def _read_manifest(root: Path, check: Verification) -> tuple[bytes, Obj] | None:
    try:
        data = (root / MANIFEST).read_bytes()
    except FileNotFoundError:
        check.fail(MANIFEST, "missing; this is not an evidence pack or it was removed")
        return None
    except OSError as exc:
        check.fail(MANIFEST, f"cannot be read ({exc.strerror or exc})")
        return None
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        check.fail(MANIFEST, f"not JSON ({exc})")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        check.fail(MANIFEST, f"format {found!r} is not one of {', '.join(FORMATS)}")
        return None
    if not isinstance(manifest.get("signed"), bool):
        check.fail(MANIFEST, 'does not say whether the pack is signed ("signed": true/false)')
        return None
    if not isinstance(manifest.get("files"), list):
        check.fail(MANIFEST, "has no list of files")
        return None
    return data, manifest


def _check_files(root: Path, manifest: Obj, present: set[str], check: Verification) -> Obj:
    """Each listed file against its size and hash; returns path → recorded SHA-256."""
    listed: Obj = {}
    for entry in manifest["files"]:
        name = entry.get("path") if isinstance(entry, dict) else None
        if not _safe(name) or name in (MANIFEST, SUMS, SIGNATURE):
            check.fail(MANIFEST, f"lists a path that cannot be a pack file: {name!r}")
            continue
        if name in listed:
            check.fail(MANIFEST, f"lists {name} twice")
            continue
        listed[name] = entry.get("sha256")
        if name not in present:
            check.fail(name, "missing (listed in the manifest)")
            continue
        path = root / name
        if path.stat().st_size != entry.get("bytes"):
            check.fail(name, f"size differs from the manifest ({entry.get('bytes')} bytes)")
        if _sha256_file(path) != entry.get("sha256"):
            check.fail(name, "SHA-256 differs from the manifest")
    return listed


def _check_sums(root: Path, expected: dict[str, str], check: Verification) -> None:
    """SHA256SUMS must list exactly ``expected`` (path → SHA-256), each with its hash."""
    try:
        text = (root / SUMS).read_text(encoding="utf-8")
    except FileNotFoundError:
        check.fail(SUMS, "missing")
        return
    except (OSError, UnicodeDecodeError) as exc:
        check.fail(SUMS, f"cannot be read ({exc})")
        return
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _SUM_LINE.match(line)
        if match is None:
            check.fail(SUMS, f"line {number} is not '<sha256>  <path>'")
            continue
        sums[match.group(2)] = match.group(1)
    for name in sorted(set(sums) - set(expected)):
        check.fail(SUMS, f"lists {name}, which the manifest does not")
    for name in sorted(set(expected) - set(sums)):
        check.fail(SUMS, f"does not list {name}")
    for name in sorted(set(sums) & set(expected)):
        if sums[name] != expected[name]:
            # For the manifest and the signature, the files' own hashes are expected: a
            # difference names them (the signature then says which to trust).
            if name in (MANIFEST, SIGNATURE):
                check.fail(name, f"SHA-256 differs from {SUMS}")
            else:
                check.fail(SUMS, f"{name}'s SHA-256 differs from the manifest")


def _check_signature(
    root: Path,
    manifest_bytes: bytes,
    manifest: Obj,
    key: Ed25519PublicKey | None,
    check: Verification,
) -> None:
    signed = manifest["signed"]
    check.signed = signed
    described = manifest.get("signature")
    if not signed:
        if described is not None:
            check.fail(MANIFEST, 'says "signed": false but describes a signature')
        if key is not None:
            check.fail(
                MANIFEST,
                '"signed": false, but --public-key was given: a signed pack was expected '
                "(an unsigned one may have had its signature stripped)",
            )
        return
    if not isinstance(described, dict) or described.get("file") != SIGNATURE:
        check.fail(MANIFEST, f'"signed": true, but its signature is not described as {SIGNATURE}')
        return
    if described.get("algorithm") != signing.ALGORITHM:
        check.fail(MANIFEST, f"signature algorithm {described.get('algorithm')!r} is not Ed25519")
        return
    try:
        signature = (root / SIGNATURE).read_bytes()
    except OSError:
        check.fail(SIGNATURE, "missing (the manifest says the pack is signed)")
        return
    if key is None:
        check.notes.append(
            f"signature: NOT CHECKED: the pack is signed (key {described.get('public_key_sha256')}"
            "); give the signer's public key with --public-key to check it"
        )
        return
    given = signing.fingerprint(key)
    if signing.is_valid(key, manifest_bytes, signature):
        check.signature_checked = True
        check.notes.append(f"signature: valid, Ed25519 key {given}")
        return
    hint = ""
    if described.get("public_key_sha256") not in (None, given):
        hint = f" (the manifest names key {described.get('public_key_sha256')}, not {given})"
    check.fail(
        f"{MANIFEST}, {SIGNATURE}",
        f"the signature does not verify with the given public key{hint}: one of them was "
        "altered, or another key signed it",
    )


def _check_inputs(
    root: Path, manifest: Obj, present: set[str], given: dict[str, Path], check: Verification
) -> None:
    inputs = manifest.get("inputs")
    if not isinstance(inputs, dict):
        check.fail(MANIFEST, "does not record the inputs in force")
        return
    for role in provenance.INPUT_OPTIONS:
        found = inputs.get(role)
        recorded: Obj = found if isinstance(found, dict) else {}
        copy = recorded.get("copy")
        if copy:
            if not _safe(copy) or copy not in present:
                check.fail(copy if _safe(copy) else MANIFEST, f"the {role} file's copy is missing")
            elif _sha256_file(root / copy) != recorded.get("sha256"):
                check.fail(copy, f"differs from the {role} file in force (its recorded SHA-256)")
        path = given.get(role)
        if path is None:
            if recorded:
                where = f"its copy {copy}" if copy else "no copy in the pack"
                check.notes.append(
                    f"{role}: {recorded.get('path')} was in force ({where}); "
                    f"--{role} FILE compares a file with it"
                )
            continue
        if not recorded:
            check.fail(str(path), f"the run used no {role} file")
        elif _sha256_file(path) != recorded.get("sha256"):
            check.fail(
                str(path),
                f"differs from the {role} file in force when the pack was written "
                f"({recorded.get('path')}, SHA-256 {recorded.get('sha256')})",
            )
        else:
            check.notes.append(f"{role}: {path} is the file that was in force")


def _note_catalogue(manifest: Obj, check: Verification) -> None:
    """Informational: does this kubepci's catalogue match the one the pack was judged by?"""
    recorded = {
        str(e.get("path")): e.get("sha256")
        for e in (manifest.get("inputs") or {}).get("catalogue") or []
        if isinstance(e, dict)
    }
    if not recorded:
        check.fail(MANIFEST, "does not record the catalogue in force")
        return
    installed = {e["path"]: e["sha256"] for e in provenance.catalogue_files()}
    differ = sorted(
        p for p in set(recorded) | set(installed) if recorded.get(p) != installed.get(p)
    )
    version = manifest.get("suite_version")
    if differ:
        check.notes.append(
            f"catalogue: judged with kubepci {version}'s catalogue; this kubepci's differs in "
            f"{', '.join(differ)} (not a problem of the pack)"
        )
    else:
        check.notes.append(f"catalogue: the same as this kubepci's ({len(recorded)} files)")


def verify(
    pack: Path, public_key: Ed25519PublicKey | None = None, given: dict[str, Path] | None = None
) -> Verification:
    """Check the pack at ``pack`` (see the module docstring)."""
    check = Verification()
    root = pack.absolute()
    present = _on_disk(root, check)
    read = _read_manifest(root, check)
    if read is None:
        return check
    manifest_bytes, manifest = read
    listed = _check_files(root, manifest, present, check)
    check.files = len(listed)
    not_listed = {MANIFEST, SUMS} | ({SIGNATURE} if manifest["signed"] else set())
    for name in sorted(present - set(listed) - not_listed):
        check.fail(name, "not listed in the manifest")
    expected = {k: str(v) for k, v in listed.items()}
    expected[MANIFEST] = _sha256_bytes(manifest_bytes)
    if manifest["signed"] and SIGNATURE in present:
        expected[SIGNATURE] = _sha256_file(root / SIGNATURE)
    _check_sums(root, expected, check)
    _check_signature(root, manifest_bytes, manifest, public_key, check)
    _check_inputs(root, manifest, present, given or {}, check)
    _note_catalogue(manifest, check)
    return check


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    out = _Parser(
        prog="kubepci verify",
        description="Check that a kubepci evidence pack is intact: every file's SHA-256 "
        "against manifest.json and SHA256SUMS, no file missing or extra, the waivers and "
        "attestations files in force, and the Ed25519 signature of manifest.json.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    out.add_argument("pack", metavar="PACK", type=Path, help="the evidence pack directory")
    out.add_argument(
        "--public-key",
        metavar="PATH",
        help="the signer's Ed25519 public key (PEM); without it a signed pack is not verified",
    )
    for role in provenance.INPUT_OPTIONS:
        out.add_argument(
            f"--{role}",
            metavar="FILE",
            type=Path,
            help=f"a file to compare with the {role} file in force when the pack was written",
        )
    return out


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        if not args.pack.is_dir():
            raise UsageError(f"{args.pack}: not a directory")
        key = signing.load_public_key(args.public_key) if args.public_key else None
        given: dict[str, Path] = {}
        for role in provenance.INPUT_OPTIONS:
            path = getattr(args, role)
            if path is not None:
                if not path.is_file():
                    raise UsageError(f"--{role} {path}: no such file")
                given[role] = path
    except (UsageError, signing.SigningKeyError) as exc:
        print(f"kubepci verify: error: {exc}", file=sys.stderr)
        return USAGE
    check = verify(args.pack, key, given)
    print(f"kubepci verify: {args.pack}")
    for problem in check.problems:
        print(f"FAIL {problem}")
    for note in check.notes:
        print(f"  {note}")
    code = check.exit_code
    if code == TAMPERED:
        print(f"NOT INTACT: {len(check.problems)} problem(s); the pack is not what was written")
    elif code == NOT_VERIFIED:
        print(
            f"NOT VERIFIED: {check.files} files match the manifest, but the signature was not "
            "checked (no --public-key)"
        )
    elif check.signed:
        print(f"INTACT: {check.files} files match the manifest, signed by the given key")
    else:
        print(
            f"INTACT, UNSIGNED: {check.files} files match the manifest; the pack is not signed, "
            "so nothing shows who wrote it"
        )
    return code
