"""Attestations (``--attestations FILE``): what only a person can vouch for, on the record.

Some controls are outside anything the cluster shows (custody of the break-glass
credential, MFA at the identity provider), others outside what a run could see (a managed
control plane's authenticator, node key files without ``--node-root``): those checks end
*manual*. An attestation names who attests such a check, in which role, on which date,
until when, and the document that supports it, by its SHA-256. A check it covers is
reported *attested*, a verdict of its own and never *passed*; once the attestation has
expired the check is *manual* again and its reason says so.

An attestation never stands in for evidence the suite could collect: it only applies to a
check that ended manual, and one for a check the run judged is reported *unused*, with
the verdict the check ended in. The file is validated before any cluster is contacted:
an unknown check, a blank or unknown field, an expiry before the date, a date in the
future, or a document whose SHA-256 differs from the file it names stops the run (a
usage error).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PrivateAttr,
    StringConstraints,
    ValidationError,
)

from kubepci.verdict import Verdict

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# Lower-cased before the pattern: sha256sum prints lower case, other tools upper.
Sha256 = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[0-9a-f]{64}$"),
]


class AttestationError(ValueError):
    """The attestations file is unusable; the message is one line for the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Document(_Strict):
    """The supporting document: a path (relative to the attestations file) or a
    reference in the organisation's document system, and its SHA-256."""

    ref: Text
    sha256: Sha256


class Attestation(_Strict):
    check: Text
    # A glob over the audited cluster's id (its kubeconfig context); "*" is every cluster.
    cluster: Text = "*"
    statement: Text
    attested_by: Text
    role: Text
    date: dt.date
    expires: dt.date
    document: Document
    # What the suite could verify of the document when the file was loaded.
    _document_check: str = PrivateAttr(default="not verified")

    def matches(self, check_id: str, cluster: str) -> bool:
        return self.check == check_id and fnmatchcase(cluster, self.cluster)

    def in_force(self, today: dt.date) -> bool:
        """Valid through its expiry day, like a waiver."""
        return self.date <= today <= self.expires

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "cluster": self.cluster,
            "statement": self.statement,
            "attested_by": self.attested_by,
            "role": self.role,
            "date": self.date.isoformat(),
            "expires": self.expires.isoformat(),
            "document": {
                "ref": self.document.ref,
                "sha256": self.document.sha256,
                "verified": self._document_check.startswith("SHA-256 verified"),
                "verification": self._document_check,
            },
        }


def key(record: dict[str, Any]) -> tuple[str, ...]:
    """One attestation's identity in any output (results.json, a baseline pack)."""
    document = record.get("document") or {}
    return (
        str(record.get("check", "")),
        str(record.get("cluster", "")),
        str(record.get("attested_by", "")),
        str(record.get("date", "")),
        str(record.get("expires", "")),
        str(document.get("sha256", "")),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_document(document: Document, base: Path, where: str) -> str:
    """Verify the document's SHA-256 where it is a readable file; a mismatch stops the run.

    A reference that is not a local file (a URL, a document-system id) is recorded as not
    verified: the assessor checks it against the hash given.
    """
    if "://" in document.ref:
        return f"not verified: {document.ref} is not a local file"
    path = Path(document.ref).expanduser()
    if not path.is_absolute():
        path = base / path
    try:
        digest = _sha256(path)
    except OSError as exc:
        return f"not verified: {path} is not readable ({exc.strerror or type(exc).__name__})"
    if digest != document.sha256:
        raise AttestationError(
            f"{where}: document {document.ref}: its SHA-256 is {digest}, not the"
            f" {document.sha256} attested; the document changed after it was attested"
        )
    return f"SHA-256 verified against {path}"


def _pydantic_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "entry"
    if error["type"] == "extra_forbidden":
        return f"unknown field {where}"
    if error["type"] == "missing":
        return f"missing {where}"
    return f"{where}: {error['msg']}"


def parse(
    document: Any, known_checks: set[str], today: dt.date, source: str, base: Path
) -> list[Attestation]:
    """Validate the file's YAML document; ``base`` is the folder documents are relative to."""
    if document is None:
        return []
    if not isinstance(document, list):
        raise AttestationError(f"attestations {source}: expected a YAML list of attestations")
    found: list[Attestation] = []
    for index, entry in enumerate(document, start=1):
        where = f"attestations {source}: entry {index}"
        if not isinstance(entry, dict):
            raise AttestationError(f"{where}: expected a mapping")
        try:
            attestation = Attestation.model_validate(entry)
        except ValidationError as exc:
            raise AttestationError(f"{where}: {_pydantic_problem(exc)}") from None
        where = f"{where} (check {attestation.check})"
        if attestation.check not in known_checks:
            raise AttestationError(f"{where}: unknown check id")
        if attestation.expires < attestation.date:
            raise AttestationError(
                f"{where}: expires {attestation.expires.isoformat()} is before its date"
                f" {attestation.date.isoformat()}"
            )
        if attestation.date > today:
            raise AttestationError(
                f"{where}: dated {attestation.date.isoformat()}, after today"
                f" ({today.isoformat()}): an attestation records what was already attested"
            )
        attestation._document_check = _check_document(attestation.document, base, where)
        found.append(attestation)
    return found


def load(path: str, known_checks: set[str], today: dt.date | None = None) -> list[Attestation]:
    file = Path(path).expanduser()
    if not file.is_file():
        raise AttestationError(f"attestations {path}: file not found")
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AttestationError(
            f"attestations {path}: not readable ({exc.__class__.__name__})"
        ) from None
    except yaml.YAMLError:
        raise AttestationError(f"attestations {path}: not valid YAML") from None
    when = today or dt.datetime.now(dt.UTC).date()
    return parse(document, known_checks, when, path, file.resolve().parent)


@dataclass(frozen=True)
class Outcome:
    """How a manual ending reads once the attestations are applied."""

    verdict: Verdict
    reason: str
    # The attestation matched (with its status), recorded on the result; None if none.
    attestation: dict[str, Any] | None = None


def judge(
    attestations: Iterable[Attestation],
    check_id: str,
    cluster: str,
    reason: str,
    today: dt.date,
) -> Outcome:
    """A check that ended manual with ``reason``: attested when an attestation for it is in
    force, else manual (saying so when the only attestations have expired)."""
    matching = [a for a in attestations if a.matches(check_id, cluster)]
    in_force = [a for a in matching if a.in_force(today)]
    if in_force:
        chosen = max(in_force, key=lambda a: (a.expires, a.date))
        return Outcome(
            Verdict.ATTESTED,
            f"attested by {chosen.attested_by} ({chosen.role}) on {chosen.date.isoformat()},"
            f" valid until {chosen.expires.isoformat()}: {chosen.statement}"
            f" (document {chosen.document.ref}, SHA-256 {chosen.document.sha256})",
            {**chosen.to_json(), "status": "in force"},
        )
    if matching:
        last = max(matching, key=lambda a: (a.expires, a.date))
        return Outcome(
            Verdict.MANUAL,
            f"{reason}; the attestation by {last.attested_by} ({last.role}) dated"
            f" {last.date.isoformat()} expired on {last.expires.isoformat()}: renew it",
            {**last.to_json(), "status": "expired"},
        )
    return Outcome(Verdict.MANUAL, reason)


def register(
    attestations: Iterable[Attestation], results: list[dict[str, Any]], today: dt.date
) -> list[dict[str, Any]]:
    """Every attestation given, with where it was applied and its status: ``applied``,
    ``expired``, or ``unused`` (in force, but the check did not end manual where it
    applies: ``ended`` gives the verdict per cluster, empty when the check did not run)."""
    applied: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for result in results:
        record = result.get("attestation")
        if record and result.get("verdict") == Verdict.ATTESTED:
            applied.setdefault(key(record), []).append(
                {"check_id": result["check_id"], "cluster": result["cluster"]}
            )
    out = []
    for attestation in attestations:
        record = attestation.to_json()
        used = applied.get(key(record), [])
        status = "applied" if used else "unused"
        if not attestation.in_force(today):
            status = "expired"
        ended = {
            r["cluster"]: r["verdict"]
            for r in results
            if attestation.matches(r["check_id"], r["cluster"])
        }
        out.append({**record, "status": status, "applied_to": used, "ended": ended})
    return out


def to_record(attestation: Attestation) -> dict[str, Any]:
    """An attestation as a replay records it: the entry as validated, and what checking its
    supporting document found then (a replay cannot read the document again)."""
    return {
        "entry": attestation.model_dump(mode="json"),
        "document_check": attestation._document_check,
    }


def from_record(raw: dict[str, Any]) -> Attestation:
    attestation = Attestation.model_validate(raw["entry"])
    attestation._document_check = str(raw["document_check"])
    return attestation
