"""The evidence pack (``--evidence-dir``): results, raw exports and a SHA-256 manifest.

Layout::

    results.json              scope, control summary, limitations, every check's payload
    raw/<cluster>/<name>.json the snapshot store the checks judged from (redacted copies)
    replay.json               what else the verdicts depend on, for ``--from-evidence``
    inputs/waivers.yaml       the --waivers (and --attestations) file in force, byte for byte
    manifest.json             scope, suite version, command line, the inputs in force (the
                              catalogue's, waivers' and attestations' SHA-256) and path, size
                              and SHA-256 of every file above; "signed": true or false
    manifest.sig              with --sign-key: Ed25519 signature of manifest.json's bytes
    SHA256SUMS                the same hashes (and manifest.json's, manifest.sig's) for
                              ``sha256sum -c``

``kubepci verify PACK`` (:mod:`kubepci.verify`) checks all of it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

import kubepci
from kubepci import jsonio
from kubepci.records import listing
from kubepci.report import run
from kubepci.report.provenance import INPUTS
from kubepci.report.redact import json_text_may_need_redaction, redact_obj
from kubepci.report.seal import SIGNATURE, Seal, describe

Obj = dict[str, Any]
RESULTS = "results.json"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
RAW = "raw"
REPLAY = "replay.json"


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
    Each line goes to the file as it is encoded: at 150,000 pods the results are 50 MB
    of text, which joined in memory would be held several times over.
    """
    path.parent.mkdir(parents=True, exist_ok=True)

    def line(value: Any) -> bytes:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)

    with path.open("wb") as out:
        out.write(b"{\n")
        for i, key in enumerate(sorted(view)):
            value = view[key]
            out.write((b",\n" if i else b"") + b"  " + line(key) + b": ")
            if isinstance(value, list) and value:
                out.write(b"[\n")
                for j, element in enumerate(value):
                    out.write((b",\n" if j else b"") + b"    " + line(element))
                out.write(b"\n  ]")
            else:
                out.write(line(value))
        out.write(b"\n}\n")


def _clear_previous(directory: Path) -> None:
    """Remove an earlier kubepci pack's files, so no stale export sits unlisted beside
    the new manifest; files kubepci did not write are left alone."""
    if not (directory / MANIFEST).is_file():
        return
    try:
        listed = [str(e["path"]) for e in json.loads((directory / MANIFEST).read_bytes())["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        listed = []
    root = directory.resolve()
    for name in listed:  # whatever it wrote, e.g. an OSCAL document inside the pack
        path = (directory / name).resolve()
        if path.is_relative_to(root) and path.is_file():
            path.unlink(missing_ok=True)
    shutil.rmtree(directory / RAW, ignore_errors=True)
    shutil.rmtree(directory / INPUTS, ignore_errors=True)
    for name in (RESULTS, MANIFEST, SUMS, SIGNATURE):
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
            target = directory / RAW / store.name / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if source.name.startswith("list-"):
                    _export_listing(source, target)
                else:
                    _export_document(source, target)
            except OSError:
                continue  # a store file being replaced; the checks never read it either
            except ValueError:
                target.unlink(missing_ok=True)
                continue
            written.append(target)
    return written


def _clean(text: str) -> str:
    if json_text_may_need_redaction(text):
        return jsonio.dumps(redact_obj(jsonio.loads(text)))
    return text


def _export_document(source: Path, target: Path) -> None:
    text = _clean(source.read_text(encoding="utf-8"))
    target.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def _export_listing(source: Path, target: Path) -> None:
    """A resource list, a line (one object) at a time: 150,000 pods are never held at once.
    Each object is looked at for credentials by itself, as a whole document would be."""
    with target.open("wb") as out:
        writer: listing.ListingWriter | None = None
        for kind, raw in listing.lines(source):
            text = _clean(raw.decode("utf-8")).encode("utf-8")
            if kind == "document":
                out.write(text.rstrip(b"\n") + b"\n")
                continue
            writer = writer or listing.ListingWriter(out)
            if kind == "item":
                writer.add_text(text)
            else:  # the trailer: the list's error, pages and timing
                writer.close(text)


def _entry(directory: Path, path: Path) -> Obj:
    return {
        "path": path.relative_to(directory).as_posix(),
        "bytes": path.stat().st_size,
        "sha256": sha256(path),
    }


def write(
    directory: Path,
    view: Obj,
    stores: dict[str, Path],
    documents: dict[str, Obj] | None = None,
    seal: Seal | None = None,
) -> list[Path]:
    """Write the pack; returns every file written, manifest and sums last.

    ``documents``: further top-level JSON files by name (``replay.json``), hashed too.
    ``seal``: the inputs in force, the OSCAL document and the signing key (default: the
    catalogue only, unsigned).
    """
    seal = seal or Seal()
    directory.mkdir(parents=True, exist_ok=True)
    _clear_previous(directory)
    files = [directory / RESULTS]
    _write_results(files[0], view)
    for name, document in sorted((documents or {}).items()):
        (directory / name).unlink(missing_ok=True)
        _write_json(directory / name, redact_obj(document))
        files.append(directory / name)
    files += export_raw(stores, directory)
    files += seal.attach(directory)
    entries = [_entry(directory, f) for f in files]
    # The OSCAL document's back matter names the files above; inside the pack it is one
    # of its files too (signed with them), outside it is recorded as an output.
    seal.write_oscal(view, directory, list(entries))
    outputs: Obj = {}
    if seal.oscal is not None and seal.oscal_error:
        outputs["oscal"] = {"path": str(seal.oscal), "error": seal.oscal_error}
    elif seal.oscal is not None and seal.oscal_inside(directory):
        files.append(seal.oscal)
        entries.append(_entry(directory, seal.oscal))
    elif seal.oscal is not None:
        outputs["oscal"] = {
            "path": str(seal.oscal),
            "bytes": seal.oscal.stat().st_size,
            "sha256": sha256(seal.oscal),
        }
    manifest = {
        "format": "kubepci-manifest/2",
        "generated_by": f"kubepci {kubepci.__version__}",
        "algorithm": "sha256",
        "scope": view["scope"],
        **seal.manifest_fields(outputs),
        "files": entries,
    }
    _write_json(directory / MANIFEST, manifest)
    signature = seal.sign(directory, (directory / MANIFEST).read_bytes())
    sums = [(e["sha256"], e["path"]) for e in entries]
    sums.append((sha256(directory / MANIFEST), MANIFEST))
    if signature is not None:
        sums.append((sha256(signature), SIGNATURE))
    (directory / SUMS).write_text("".join(f"{h}  {p}\n" for h, p in sums), encoding="utf-8")
    return [*files, directory / MANIFEST, *([signature] if signature else []), directory / SUMS]


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
        self.seal: Seal | None = None
        option = getattr(config.option, "evidence_dir", None)
        if option:
            self.directory = Path(option).expanduser().absolute()
            if self.directory.exists() and not self.directory.is_dir():
                raise pytest.UsageError(f"--evidence-dir {option}: exists and is not a directory")
        if not hasattr(config, "workerinput"):
            # Before any cluster is contacted: a bad key fails the run now, not at its end.
            self.seal = Seal.from_config(config, self.directory)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.seal is None or self.config.option.collectonly:
            return
        if self.directory is None:
            if self.seal.oscal is not None and run.results(self.config):
                self.seal.write_oscal(run.view(self.config), None, [])
                self.written = [] if self.seal.oscal_error else [self.seal.oscal]
        else:
            self._write_pack()
        if self.seal.oscal_error:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def _write_pack(self) -> None:
        assert self.directory is not None and self.seal is not None
        stores = run.store_dirs(self.config)
        self.written = write(
            self.directory,
            run.view(self.config),
            stores,
            {REPLAY: run.replay_record(self.config, stores)} if stores else {},
            self.seal,
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        # tryfirst: the per-item verdict lines must stay the last thing kubepci prints.
        if self.written and self.directory is not None and self.seal is not None:
            terminalreporter.write_line(
                f"kubepci: evidence pack written to {self.directory} "
                f"({len(self.written)} files; SHA-256 in {MANIFEST}; {describe(self.seal)})"
            )
        if self.seal is not None and self.seal.oscal_error:
            terminalreporter.write_line(
                f"kubepci: OSCAL document NOT written ({self.seal.oscal_error}); exit 3",
                red=True,
            )
        elif self.written and self.seal is not None and self.seal.oscal is not None:
            terminalreporter.write_line(
                f"kubepci: OSCAL assessment results written to {self.seal.oscal}"
            )
