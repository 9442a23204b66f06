"""What was in force for a run, recorded in the evidence pack's manifest.

An assessor asks of a pack: which version of the suite judged, from which catalogue data,
with which command line, and was the waivers (or attestations) file in force the one that
was approved? Each input is recorded with its SHA-256, read once before any cluster is
contacted; an input file is also copied into the pack (``inputs/``) when it holds nothing
that looks like a credential, so the signature covers its exact bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from kubepci.report.redact import redact

Obj = dict[str, Any]
INPUTS = "inputs"
# Data the checks judge with: the catalogue, risky permissions, default policy, OSCAL.
CATALOGUE_SUFFIXES = (".yaml", ".json")
# The options whose files the manifest records, in this order. ``attestations`` may not
# be an option of this kubepci (getattr), and is recorded when it is.
INPUT_OPTIONS = ("waivers", "attestations")


@dataclass(frozen=True)
class InputFile:
    """One input file given on the command line, as it was when the run started."""

    role: str
    path: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def copy_name(self) -> str | None:
        """Where the pack holds its copy; None when the copy would have to be redacted
        (a redacted copy would not have the recorded hash)."""
        try:
            text = self.content.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if redact(text) != text:
            return None
        suffix = self.path.rsplit(".", 1)[-1] if "." in self.path.rsplit("/", 1)[-1] else "txt"
        return f"{INPUTS}/{self.role}.{suffix}"

    def to_json(self) -> Obj:
        copy = self.copy_name
        out: Obj = {
            "path": redact(self.path),
            "bytes": len(self.content),
            "sha256": self.sha256,
            "copy": copy,
        }
        if copy is None:
            out["not_copied"] = "it holds text that looks like a credential"
        return out


def read_inputs(option: Any) -> tuple[dict[str, InputFile], list[str]]:
    """The input files given on the command line (``config.option``), and why any could
    not be read. An unreadable file is left for its own loader to report as a usage error."""
    found: dict[str, InputFile] = {}
    problems: list[str] = []
    for role in INPUT_OPTIONS:
        path = getattr(option, role, None)
        if not path:
            continue
        try:
            with open(path, "rb") as handle:
                found[role] = InputFile(role, str(path), handle.read())
        except OSError as exc:
            problems.append(f"--{role} {path}: {exc.strerror or exc}")
    return found, problems


def _walk(node: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        name = f"{prefix}/{child.name}"
        if child.is_dir():
            if not child.name.startswith(("_", ".")):
                out += _walk(child, name)
        elif child.name.endswith(CATALOGUE_SUFFIXES):
            out.append((name, child))
    return out


def catalogue_files() -> list[Obj]:
    """Path (inside the kubepci package), size and SHA-256 of every catalogue data file."""
    root = resources.files("kubepci.catalogue")
    entries = []
    for name, node in _walk(root, "kubepci/catalogue"):
        data = node.read_bytes()
        entries.append(
            {"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )
    return entries


def record(inputs: dict[str, InputFile], catalogue: list[Obj]) -> Obj:
    """The manifest's ``inputs`` section: every role named, ``null`` when not given."""
    out: Obj = {"catalogue": catalogue}
    for role in INPUT_OPTIONS:
        given = inputs.get(role)
        out[role] = given.to_json() if given else None
    return out
