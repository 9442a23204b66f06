"""The waiver register: every waiver in force for the run, what it matched, and which
matched nothing (stale) or expired.

A waiver that matched nothing is only called *stale* where its check was judged: when
the check errored, ended manual or did not run, the waiver could not have matched and is
reported *not judged*, since a finding it would cover may still exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from kubepci.verdict import Verdict
from kubepci.waivers import Waiver

Obj = dict[str, Any]
JUDGED = frozenset({Verdict.PASSED.value, Verdict.FAILED.value, Verdict.WAIVED.value})
STATUSES = ("applied", "stale", "not_judged", "expired")


def key(record: Obj) -> tuple[str, ...]:
    """A waiver's identity in its JSON form (the file's fields, not its free text, which
    the outputs' redaction may alter)."""
    selector = record.get("selector") or {}
    return (
        str(record.get("check", "")),
        str(selector.get("kind", "")),
        str(selector.get("namespace", "")),
        str(selector.get("name", "")),
        str(record.get("class", "")),
        str(record.get("approver", "")),
        str(record.get("expires", "")),
    )


def _ref(finding: Obj) -> str:
    namespace = finding.get("namespace") or ""
    where = f"{namespace}/{finding['name']}" if namespace else finding["name"]
    return f"{finding['kind']} {where}"


def build(waivers: Iterable[Waiver], results: list[Obj], today: dt.date) -> list[Obj]:
    """One entry per waiver, in file order, with its matches and status."""
    matched: dict[tuple[str, ...], list[Obj]] = {}
    for result in results:
        for waived in result.get("waived") or []:
            matched.setdefault(key(waived["waiver"]), []).append(
                {
                    "cluster": result["cluster"],
                    "check_id": result["check_id"],
                    "finding": _ref(waived["finding"]),
                    "class": waived["finding"].get("class", ""),
                }
            )
    out: list[Obj] = []
    for waiver in waivers:
        record = waiver.to_json()
        matches = matched.get(key(record), [])
        ran = [r for r in results if r["check_id"] == waiver.check]
        judged_on = sorted({r["cluster"] for r in ran if r["verdict"] in JUDGED})
        not_judged_on = sorted({r["cluster"] for r in ran} - set(judged_on))
        if waiver.expires < today:
            status = "expired"
        elif matches:
            status = "applied"
        elif judged_on:
            status = "stale"
        else:
            status = "not_judged"
        out.append(
            {
                **record,
                "status": status,
                "matched": matches,
                "judged_on": judged_on,
                "not_judged_on": not_judged_on,
                "days_left": (waiver.expires - today).days,
            }
        )
    return out


def counts(register: list[Obj]) -> dict[str, int]:
    """How many waivers have each status (every status present, zero or not)."""
    found = {status: 0 for status in STATUSES}
    for entry in register:
        found[entry["status"]] = found.get(entry["status"], 0) + 1
    return found
