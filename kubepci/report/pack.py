"""The evidence pack (``--evidence-dir``): results, raw exports and a SHA-256 manifest.

Layout::

    results.json              scope, control summary, limitations, every check's payload
    raw/<cluster>/<name>.json the snapshot store the checks judged from (redacted copies)
    manifest.json             scope plus path, size and SHA-256 of every file above
    SHA256SUMS                the same hashes (and manifest.json's) for ``sha256sum -c``
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import kubepci
from kubepci import jsonio
from kubepci.report import run
from kubepci.report.redact import json_text_may_need_redaction, redact_obj

Obj = dict[str, Any]
RESULTS = "results.json"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
RAW = "raw"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def _write_results(path: Path, view: Obj) -> None:
    """results.json: one line per top-level field and per list element (one per result).

    Readable and diffable line by line, and written by the C encoder: a fully indented
    dump goes through the pure-Python one, which a 10,000-pod cluster's results make slow.
    """
    compact = jsonio.dumps
    fields = []
    for key in sorted(view):
        value = view[key]
        if isinstance(value, list) and value:
            body = ",\n".join(f"    {compact(element)}" for element in value)
            fields.append(f"  {compact(key)}: [\n{body}\n  ]")
        else:
            fields.append(f"  {compact(key)}: {compact(value)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{\n" + ",\n".join(fields) + "\n}\n", encoding="utf-8")


def _clear_previous(directory: Path) -> None:
    """Remove an earlier kubepci pack's files, so no stale export sits unlisted beside
    the new manifest; files kubepci did not write are left alone."""
    if not (directory / MANIFEST).is_file():
        return
    shutil.rmtree(directory / RAW, ignore_errors=True)
    for name in (RESULTS, MANIFEST, SUMS):
        (directory / name).unlink(missing_ok=True)


def export_raw(stores: dict[str, Path], directory: Path) -> list[Path]:
    """Copy every stored ``*.json`` of every cluster, redacted, under ``raw/<cluster>/``.

    A stored document the redactor would leave unchanged is copied as it was written
    (compact, sorted keys), so an assessor can match it byte for byte with what the checks
    judged from; any other is parsed, redacted and written in the same form.
    """
    written: list[Path] = []
    for store in stores.values():
        for source in sorted(store.glob("*.json")):
            try:
                text = source.read_text(encoding="utf-8")
            except OSError:
                continue  # a store file being replaced; the checks never read it either
            if json_text_may_need_redaction(text):
                try:
                    text = jsonio.dumps(redact_obj(jsonio.loads(text)))
                except ValueError:
                    continue
            target = directory / RAW / store.name / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
            written.append(target)
    return written


def write(directory: Path, view: Obj, stores: dict[str, Path]) -> list[Path]:
    """Write the pack; returns every file written, manifest and sums last."""
    directory.mkdir(parents=True, exist_ok=True)
    _clear_previous(directory)
    files = [directory / RESULTS]
    _write_results(files[0], view)
    files += export_raw(stores, directory)
    entries = [
        {
            "path": f.relative_to(directory).as_posix(),
            "bytes": f.stat().st_size,
            "sha256": sha256(f),
        }
        for f in files
    ]
    manifest = {
        "format": "kubepci-manifest/1",
        "generated_by": f"kubepci {kubepci.__version__}",
        "algorithm": "sha256",
        "scope": view["scope"],
        "files": entries,
    }
    _write_json(directory / MANIFEST, manifest)
    sums = [(e["sha256"], e["path"]) for e in entries]
    sums.append((sha256(directory / MANIFEST), MANIFEST))
    (directory / SUMS).write_text("".join(f"{h}  {p}\n" for h, p in sums), encoding="utf-8")
    return [*files, directory / MANIFEST, directory / SUMS]


def verify(directory: Path) -> list[str]:
    """Problems found re-hashing a pack against its manifest (empty when it is intact)."""
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    problems = []
    for entry in manifest["files"]:
        path = directory / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
        elif sha256(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: SHA-256 differs from the manifest")
    return problems


class EvidencePack:
    """Controller-side: writes the pack at session finish when --evidence-dir is given."""

    NAME = "kubepci-evidence-pack"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.directory: Path | None = None
        self.written: list[Path] = []
        option = getattr(config.option, "evidence_dir", None)
        if option:
            self.directory = Path(option).expanduser().absolute()
            if self.directory.exists() and not self.directory.is_dir():
                raise pytest.UsageError(f"--evidence-dir {option}: exists and is not a directory")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.directory is None or hasattr(self.config, "workerinput"):
            return
        if self.config.option.collectonly:
            return
        self.written = write(self.directory, run.view(self.config), run.store_dirs(self.config))

    @pytest.hookimpl(tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        # tryfirst: the per-item verdict lines must stay the last thing kubepci prints.
        if self.written and self.directory is not None:
            terminalreporter.write_line(
                f"kubepci: evidence pack written to {self.directory} "
                f"({len(self.written)} files; SHA-256 in {MANIFEST})"
            )
