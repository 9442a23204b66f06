"""HTML sections across runs: drift since the baseline (the first thing an assessor sees),
the waiver register and the attestations. Rendered from the run view's redacted data and
escaped here, like every other fragment of the report (see htmlparts)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from kubepci.report import htmlparts

Obj = dict[str, Any]
# Register statuses drawn with the verdict badges' colours: expired red, stale yellow
# (matched nothing), not judged and unused grey.
STATUS_COLOUR = {
    "applied": "waived",
    "stale": "manual",
    "expired": "error",
    "not_judged": "not_run",
    "unused": "not_run",
}


def _status(status: str, applied: str = "waived") -> str:
    colour = applied if status == "applied" else STATUS_COLOUR.get(status, "not_run")
    return f'<span class="kp-v kp-v-{colour}">{escape(status.replace("_", " "))}</span>'


def _finding_rows(records: list[Obj], extra: bool = False) -> list[list[str]]:
    rows = []
    for r in records:
        row = [r["check_id"], r["cluster"], r["kind"], r["namespace"], r["name"], r["class"]]
        row.append(r["detail"])
        if extra:
            notes = []
            if r.get("waived"):
                notes.append("waived")
            if r.get("baseline_judged") is False:
                notes.append("the baseline did not judge this check")
            row.append(", ".join(notes))
        rows.append(row)
    return rows


HEADERS = ["Check", "Cluster", "Kind", "Namespace", "Name", "Class", "Detail"]


def drift_html(section: Obj | None) -> str:
    """New, resolved and unchanged findings against the baseline pack; '' without one."""
    if not section:
        return ""
    base = section["baseline"]
    counts = section["counts"]
    parts = [
        "<h2 id='kp-drift'>Changes since the baseline</h2>",
        f"<p>Against the evidence pack <code>{escape(base['path'])}</code> (run started "
        f"{escape(base['started_utc'] or '?')}, kubepci {escape(base['tool_version'] or '?')}, "
        f"results.json SHA-256 <code>{escape(base['results_sha256'])}</code>). A finding is "
        f"the same finding when its {escape(section['identity'])} are.</p>",
        f"<p><b>{counts['new']} new</b> ({counts['new_open']} not waived) · "
        f"<b>{counts['resolved']} resolved</b> · {counts['unchanged']} unchanged · "
        f"{counts['not_reexamined']} not re-examined (their check was not judged this run) · "
        f"{counts['expired']} waiver(s) or attestation(s) expired in between</p>",
        "<h3>New findings</h3>",
        htmlparts._table([*HEADERS, "Note"], _finding_rows(section["new"], extra=True))
        if section["new"]
        else "<p><em>(none)</em></p>",
        "<h3>Resolved findings</h3>",
        htmlparts._table(HEADERS, _finding_rows(section["resolved"]))
        if section["resolved"]
        else "<p><em>(none)</em></p>",
    ]
    if section["expired"]:
        rows = [
            [
                e["type"],
                e["check"],
                e["by"],
                e["expires"],
                json.dumps(e.get("selector") or e.get("cluster", "")),
            ]
            for e in section["expired"]
        ]
        parts.append("<h3>Waivers and attestations that expired in between</h3>")
        parts.append(htmlparts._table(["Type", "Check", "By", "Expired", "Applies to"], rows))
    for key, title in (
        ("not_reexamined", "Not re-examined (check not judged in this run)"),
        ("unchanged", "Unchanged findings"),
    ):
        if section[key]:
            parts.append(
                f"<details><summary>{escape(title)} ({len(section[key])})</summary>"
                + htmlparts._table(HEADERS, _finding_rows(section[key]))
                + "</details>"
            )
    return "".join(parts)


def register_html(register: list[Obj]) -> str:
    """Every waiver: what it matched, or why it matched nothing."""
    if not register:
        return "<h2 id='kp-waiver-register'>Waiver register</h2><p><em>(no waivers)</em></p>"
    rows = []
    for entry in register:
        selector = entry["selector"]
        matched = "<br>".join(
            escape(f"{m['cluster']}: {m['finding']} [{m['class']}]") for m in entry["matched"]
        )
        if not matched and entry["status"] == "not_judged":
            matched = "<em>check not judged in this run</em>"
        rows.append(
            [
                _status(entry["status"]),
                f"<code>{escape(entry['check'])}</code>",
                escape(f"{selector['kind']} {selector['namespace']}/{selector['name']}"),
                escape(entry["class"]),
                escape(entry["approver"]),
                escape(f"{entry['expires']} ({entry['days_left']} days left)"),
                escape(entry["justification"]),
                matched or "<em>nothing</em>",
            ]
        )
    return "<h2 id='kp-waiver-register'>Waiver register</h2>" + htmlparts._table(
        [
            "Status",
            "Check",
            "Selector",
            "Class",
            "Approved by",
            "Expires",
            "Justification",
            "Matched",
        ],
        rows,
        raw=True,
    )


def attestations_html(register: list[Obj]) -> str:
    """Every attestation given: where it was applied, or that it expired or went unused."""
    if not register:
        return ""
    rows = []
    for entry in register:
        document = entry.get("document") or {}
        rows.append(
            [
                _status(entry["status"], applied="attested"),
                f"<code>{escape(entry['check'])}</code> ({escape(entry['cluster'])})",
                escape(f"{entry['attested_by']} ({entry['role']})"),
                escape(f"{entry['date']} / {entry['expires']}"),
                escape(entry["statement"]),
                f"<code>{escape(str(document.get('ref', '')))}</code><br>SHA-256 "
                f"<code>{escape(str(document.get('sha256', '')))}</code><br>"
                f"{escape(str(document.get('verification', '')))}",
                escape(", ".join(a["cluster"] for a in entry["applied_to"])) or "<em>-</em>",
            ]
        )
    return "<h2 id='kp-attestations'>Attestations</h2>" + htmlparts._table(
        ["Status", "Check", "Attested by", "Date / expires", "Statement", "Document", "Applied on"],
        rows,
        raw=True,
    )
