"""Waivers: findings an approver accepted in writing, until a date.

A waiver never turns a missing piece of evidence into a pass: it only applies to a
finding the suite actually made, names who approved it and why, and names the finding
by check, object and class, so a new, worse finding on a waived object stays open. The
file is validated before any cluster is contacted; an expired waiver stops the run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from kubepci.verdict import Finding

REQUIRED = ("check", "selector", "class", "justification", "approver", "expires")
SELECTOR_KEYS = ("kind", "namespace", "name")


class WaiverError(ValueError):
    """The waivers file is unusable; the message is one line for the user."""


@dataclass(frozen=True)
class Waiver:
    check: str
    kind: str
    namespace: str
    name: str
    # Glob over Finding.finding_class; "*" (written out in the file) accepts every class,
    # including findings that carry none.
    finding_class: str
    justification: str
    approver: str
    expires: dt.date

    def matches(self, check_id: str, finding: Finding) -> bool:
        return (
            self.check == check_id
            and fnmatchcase(finding.kind, self.kind)
            and fnmatchcase(finding.namespace, self.namespace)
            and fnmatchcase(finding.name, self.name)
            and fnmatchcase(finding.finding_class, self.finding_class)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "selector": {"kind": self.kind, "namespace": self.namespace, "name": self.name},
            "class": self.finding_class,
            "justification": self.justification,
            "approver": self.approver,
            "expires": self.expires.isoformat(),
        }


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise WaiverError(f"{where}: 'expires' must be a date YYYY-MM-DD, got {value!r}") from None


def parse(document: Any, known_checks: set[str], today: dt.date, source: str) -> list[Waiver]:
    if document is None:
        return []
    if not isinstance(document, list):
        raise WaiverError(f"waivers {source}: expected a YAML list of waivers")
    waivers: list[Waiver] = []
    for index, entry in enumerate(document, start=1):
        where = f"waivers {source}: entry {index}"
        if not isinstance(entry, dict):
            raise WaiverError(f"{where}: expected a mapping")
        # Blank text names no reason or approver: as good as missing.
        missing = [k for k in REQUIRED if not entry.get(k) or str(entry[k]).strip() == ""]
        if missing:
            raise WaiverError(f"{where}: missing {', '.join(missing)}")
        unknown = sorted(set(entry) - set(REQUIRED))
        if unknown:
            raise WaiverError(f"{where}: unknown field(s) {', '.join(unknown)}")
        check = str(entry["check"])
        if check not in known_checks:
            raise WaiverError(f"{where}: unknown check id {check!r}")
        selector = entry["selector"]
        if not isinstance(selector, dict) or not selector.get("kind") or not selector.get("name"):
            raise WaiverError(f"{where}: selector needs at least kind and name")
        bad = sorted(set(selector) - set(SELECTOR_KEYS))
        if bad:
            raise WaiverError(f"{where}: unknown selector field(s) {', '.join(bad)}")
        finding_class = entry["class"]
        if not isinstance(finding_class, str):
            raise WaiverError(
                f"{where}: 'class' must be one finding class or glob (quote \"*\" for every"
                f" class; one entry per class), got {finding_class!r}"
            )
        expires = _date(entry["expires"], where)
        if expires < today:
            raise WaiverError(
                f"{where} (check {check}) expired on {expires.isoformat()}; renew or remove it"
            )
        waivers.append(
            Waiver(
                check,
                str(selector["kind"]),
                str(selector.get("namespace", "")),
                str(selector["name"]),
                finding_class.strip(),
                str(entry["justification"]).strip(),
                str(entry["approver"]).strip(),
                expires,
            )
        )
    return waivers


def load(path: str, known_checks: set[str], today: dt.date | None = None) -> list[Waiver]:
    file = Path(path)
    if not file.is_file():
        raise WaiverError(f"waivers {path}: file not found")
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise WaiverError(f"waivers {path}: not readable ({exc.__class__.__name__})") from None
    except yaml.YAMLError as exc:
        # `class: *` is the likeliest slip: an unquoted * starts a YAML alias.
        alias = "alias" in f"{getattr(exc, 'context', '')} {getattr(exc, 'problem', '')}"
        hint = ' (a glob starting with * must be quoted: class: "*")' if alias else ""
        raise WaiverError(f"waivers {path}: not valid YAML{hint}") from None
    return parse(document, known_checks, today or dt.datetime.now(dt.UTC).date(), path)


def split(
    check_id: str, findings: list[Finding], waivers: list[Waiver]
) -> tuple[list[Finding], list[tuple[Finding, Waiver]]]:
    """Separate the findings no waiver covers from the waived ones."""
    open_findings: list[Finding] = []
    waived: list[tuple[Finding, Waiver]] = []
    for finding in findings:
        waiver = next((w for w in waivers if w.matches(check_id, finding)), None)
        if waiver is None:
            open_findings.append(finding)
        else:
            waived.append((finding, waiver))
    return open_findings, waived
