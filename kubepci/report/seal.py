"""What makes an evidence pack one an assessor can rely on, beyond its hashes.

Read from the command line at configure time, before any cluster is contacted (a bad
``--sign-key`` or ``--oscal`` is a usage error then, never a surprise at the end of a
long run): the inputs in force (catalogue, ``--waivers``, ``--attestations``) with their
SHA-256, the OSCAL document to write, and the Ed25519 key that signs the manifest. The
pack writer (:mod:`kubepci.report.pack`) calls in at each step.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import kubepci
from kubepci.report import provenance, signing
from kubepci.report.provenance import InputFile
from kubepci.report.redact import redact, redact_argv

Obj = dict[str, Any]
SIGNATURE = "manifest.sig"


@dataclass
class Seal:
    """The pack's provenance, OSCAL output and signing key, as the command line gave them."""

    key: Ed25519PrivateKey | None = None
    oscal: Path | None = None
    inputs: dict[str, InputFile] = field(default_factory=dict)
    catalogue: list[Obj] = field(default_factory=provenance.catalogue_files)
    command_line: list[str] = field(default_factory=lambda: redact_argv(sys.argv))
    # Why the OSCAL document could not be written, if it could not (the pack still is).
    oscal_error: str = ""

    @classmethod
    def from_config(cls, config: pytest.Config, evidence_dir: Path | None) -> Seal:
        """Validate ``--sign-key`` and ``--oscal``; read the inputs in force."""
        option = config.option
        key = None
        key_path = getattr(option, "sign_key", None)
        if key_path:
            if evidence_dir is None:
                raise pytest.UsageError(
                    "--sign-key signs the evidence pack's manifest: give --evidence-dir too"
                )
            try:
                key = signing.load_private_key(key_path)
            except signing.SigningKeyError as exc:
                raise pytest.UsageError(str(exc)) from None
        oscal = None
        oscal_option = getattr(option, "oscal", None)
        if oscal_option:
            oscal = Path(oscal_option).expanduser().absolute()
            if oscal.is_dir():
                raise pytest.UsageError(f"--oscal {oscal_option}: is a directory, not a file")
            if (
                evidence_dir is not None
                and oscal.parent == evidence_dir
                and oscal.name
                in (
                    "results.json",
                    "manifest.json",
                    SIGNATURE,
                )
            ):
                raise pytest.UsageError(f"--oscal {oscal_option}: a file the pack writes itself")
        inputs, _unreadable = provenance.read_inputs(option)  # their loaders report those
        return cls(key=key, oscal=oscal, inputs=inputs)

    @property
    def provenance(self) -> Obj:
        """The manifest's ``inputs`` section."""
        return provenance.record(self.inputs, self.catalogue)

    def attach(self, directory: Path) -> list[Path]:
        """Copy each input file into the pack (``inputs/``), byte for byte, where it may be."""
        shutil.rmtree(directory / provenance.INPUTS, ignore_errors=True)
        written = []
        for given in self.inputs.values():
            name = given.copy_name
            if name is None:
                continue
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(given.content)
            written.append(target)
        return written

    def oscal_inside(self, directory: Path | None) -> bool:
        return (
            self.oscal is not None
            and directory is not None
            and self.oscal.is_relative_to(directory)
        )

    def write_oscal(self, view: Obj, directory: Path | None, files: list[Obj]) -> None:
        """Write the OSCAL document, its back-matter naming ``files`` of the pack."""
        if self.oscal is None:
            return
        # Imported here: trestle's models take half a second to import, and only this
        # option needs them.
        from kubepci.report import oscal

        pack = {"directory": str(directory), "files": files} if directory is not None else None
        try:
            oscal.write(self.oscal, view, self.provenance, pack)
        except Exception as exc:  # a bug here must not cost the run its evidence pack
            self.oscal_error = redact(f"{type(exc).__name__}: {exc}")[:500]
            self.oscal.unlink(missing_ok=True)

    def manifest_fields(self, outputs: Obj) -> Obj:
        """What the manifest records beyond its files: version, command line, inputs,
        outputs written outside the pack, and whether (and how) it is signed."""
        fields: Obj = {
            "suite_version": kubepci.__version__,
            "command_line": self.command_line,
            "inputs": self.provenance,
            "outputs": outputs,
            "signed": self.key is not None,
            "signature": None,
        }
        if self.key is not None:
            fields["signature"] = {
                "algorithm": signing.ALGORITHM,
                "file": SIGNATURE,
                "covers": "the exact bytes of manifest.json",
                "public_key_sha256": signing.fingerprint(self.key.public_key()),
            }
        return fields

    def sign(self, directory: Path, manifest: bytes) -> Path | None:
        """Write ``manifest.sig`` for the manifest's bytes; None for an unsigned pack."""
        if self.key is None:
            return None
        target = directory / SIGNATURE
        target.write_bytes(signing.sign(self.key, manifest))
        return target


def describe(seal: Seal) -> str:
    """One terminal line: signed by which key, or unsigned."""
    if seal.key is None:
        return "unsigned (no --sign-key)"
    return redact(f"signed, Ed25519 key {signing.fingerprint(seal.key.public_key())}")
