"""HTML fragments for the pytest-html report: scope, control summary, limitations, and
each check's verdict with its raw evidence.

Everything is rendered from redacted, JSON-safe data and escaped here; the fragments are
plain HTML and CSS (``<details>`` for collapsing), so the self-contained report reads the
same offline, with scripts blocked, or printed.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from kubepci.report.summary import label

Obj = dict[str, Any]
# A report that opens on a laptop: long lists are cut here and kept whole in results.json.
MAX_ROWS = 300

STYLE = """
<style>
/* The control summary comes first: pytest-html's environment table moves to the end. */
body { display: flex; flex-direction: column; }
#environment-header, #environment { order: 1; }
footer { order: 2; }
.kp, .kp-check { color: #1a1a1a; }
.kp h2 { margin: 1.2em 0 .4em; }
.kp table { border-collapse: collapse; margin: .3em 0 1em; font-size: 13px; }
.kp th, .kp td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
.kp th { background: #f3f3f3; }
.kp tr.kp-item th { background: #e4e9f2; font-size: 14px; }
.kp-v { display: inline-block; padding: 1px 7px; border-radius: 9px; font-weight: bold;
        font-size: 12px; white-space: nowrap; }
.kp-v-passed { background: #d6f5d6; color: #145214; }
.kp-v-failed { background: #f8d0d0; color: #8a1010; }
.kp-v-error { background: #f1b0b0; color: #5a0000; }
.kp-v-manual, .kp-v-not_applicable { background: #fdf0c2; color: #6b5200; }
.kp-v-waived { background: #e0dcf5; color: #3b2a80; }
.kp-v-attested { background: #d2eef3; color: #0b4f5c; }
.kp-v-not_run { background: #e6e6e6; color: #444; }
.kp pre, .kp-check pre { white-space: pre-wrap; word-break: break-all; max-height: 30em;
        overflow: auto; background: #fafafa; border: 1px solid #ddd; padding: 4px; margin: 2px 0; }
.kp-check { font-size: 13px; line-height: 1.4; }
.kp-check td pre { min-width: 16em; }
.kp-check table { border-collapse: collapse; margin: .3em 0; }
.kp-check th, .kp-check td { border: 1px solid #ccc; padding: 2px 5px; text-align: left;
        vertical-align: top; }
.kp-check details { margin: .3em 0; border-left: 3px solid #9ab; padding-left: 6px; }
.kp-check summary { cursor: pointer; font-weight: bold; }
.kp-kind { color: #666; font-weight: normal; font-size: 11px; text-transform: uppercase; }
.kp-cmd { font-family: monospace; }
</style>
"""


def badge(verdict: str) -> str:
    return f'<span class="kp-v kp-v-{escape(verdict)}">{escape(label(verdict))}</span>'


def _pre(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True)
    return f"<pre>{escape(text)}</pre>"


def _table(headers: list[str], rows: list[list[str]], raw: bool = False) -> str:
    """A table; cells are escaped unless ``raw`` (already-built HTML)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    shown = rows[:MAX_ROWS]
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else escape(c)}</td>" for c in row) + "</tr>"
        for row in shown
    )
    more = (
        f"<p>… {len(rows) - MAX_ROWS} more rows in the evidence pack (results.json)</p>"
        if len(rows) > MAX_ROWS
        else ""
    )
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _list(values: list[Any]) -> str:
    shown = values[:MAX_ROWS]
    items = "".join(f"<li>{escape(v) if isinstance(v, str) else _pre(v)}</li>" for v in shown)
    more = (
        f"<li>… {len(values) - MAX_ROWS} more in results.json</li>"
        if len(values) > MAX_ROWS
        else ""
    )
    return f"<ul>{items}{more}</ul>" if values else "<p><em>(none)</em></p>"


# ---------------------------------------------------------------------------- evidence kinds
def _probes(content: Any) -> str:
    if not isinstance(content, list):
        return _pre(content)
    rows = []
    for p in content:
        if not isinstance(p, dict):
            rows.append([escape(str(p)), "", "", "", ""])
            continue
        status = p.get("status")
        answer = str(status) if status is not None else f"no answer ({p.get('error', '')})"
        headers = "\n".join(f"{k}: {v}" for k, v in (p.get("headers") or {}).items())
        rows.append(
            [
                f"<span class='kp-cmd'>{escape(str(p.get('method', '')))} "
                f"{escape(str(p.get('url', '')))}</span>",
                f"<b>{escape(answer)}</b>",
                escape(str(p.get("credentials_sent", ""))),
                f"<pre>{escape(headers)}</pre>" if headers else "",
                f"<pre>{escape(str(p.get('body_excerpt', '')))}</pre>"
                if p.get("body_excerpt")
                else "",
            ]
        )
    return _table(
        ["Request", "Status", "Credentials sent", "Response headers", "Body excerpt"],
        rows,
        raw=True,
    )


def _flags(content: Any) -> str:
    if not isinstance(content, dict) or not isinstance(content.get("flags"), dict):
        return _pre(content)
    where = (
        f"<p>{escape(str(content.get('component', '')))} on pod "
        f"<b>{escape(str(content.get('pod', '')))}</b>, node "
        f"{escape(str(content.get('node', '')))}</p>"
    )
    rows = [[f"--{name}", str(source)] for name, source in content["flags"].items()]
    return where + _table(["Flag", "Value and where it was read"], rows)


def _rbac(content: Any) -> str:
    if isinstance(content, list) and all(isinstance(v, str) for v in content):
        return _list(content)
    return _pre(content)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return f"<p>{escape(content)}</p>"
    if isinstance(content, list) and all(isinstance(v, str) for v in content):
        return _list(content)
    return _pre(content)


RENDERERS = {"probe": _probes, "flags": _flags, "rbac": _rbac, "objects": _pre, "text": _text}
KIND_LABELS = {
    "probe": "HTTP probe transcripts",
    "flags": "flags read",
    "rbac": "RBAC privilege paths",
    "objects": "objects",
    "text": "note",
}


def evidence_html(item: Obj, open_: bool = False) -> str:
    kind = str(item.get("kind", "text"))
    body = RENDERERS.get(kind, _pre)(item.get("content"))
    return (
        f"<details{' open' if open_ else ''}><summary>{escape(str(item.get('title', '')))} "
        f"<span class='kp-kind'>{escape(KIND_LABELS.get(kind, kind))}</span></summary>"
        f"{body}</details>"
    )


# ---------------------------------------------------------------------------- one check
def anchor(check_id: str, cluster: str) -> str:
    return "check-" + "".join(c if c.isalnum() else "-" for c in f"{check_id}-{cluster}")


def _waived_class(waived: Obj) -> str:
    """The waived finding's class, and the waiver's glob when that is wider ("*")."""
    found = str(waived["finding"].get("class", ""))
    accepted = str(waived["waiver"].get("class", ""))
    return found if accepted in ("", found) else f"{found or '(none)'} (waiver: {accepted})"


def attestation_html(record: Obj) -> str:
    """The attestation a manual check was matched with: in force (the check is attested)
    or expired (the check is manual again)."""
    document = record.get("document") or {}
    rows = [
        ("Status", escape(str(record.get("status", "")))),
        ("Statement", escape(str(record.get("statement", "")))),
        ("Attested by", escape(f"{record.get('attested_by', '')} ({record.get('role', '')})")),
        ("Date / expires", escape(f"{record.get('date', '')} / {record.get('expires', '')}")),
        ("Document", f"<code>{escape(str(document.get('ref', '')))}</code>"),
        ("SHA-256", f"<code>{escape(str(document.get('sha256', '')))}</code>"),
        ("Document check", escape(str(document.get("verification", "")))),
    ]
    return "<p><b>Attestation</b></p>" + _dl(rows)


def check_html(payload: Obj) -> str:
    """One check on one cluster: what it verifies, verdict and why, remediation, evidence."""
    verdict = str(payload.get("verdict", ""))
    recommendations = "".join(
        f"<li><b>{escape(r['id'])}</b> {escape(r['text'])}</li>"
        for r in payload.get("recommendations", [])
    )
    parts = [
        f"<div class='kp-check' id='{anchor(payload['check_id'], payload['cluster'])}'>",
        f"<p><b>Check</b> <code>{escape(payload['check_id'])}</code> — "
        f"{escape(str(payload.get('title', '')))} (severity {escape(str(payload.get('severity')))}"
        f"; cluster {escape(payload['cluster'])})</p>",
        f"<p><b>PCI item</b> {escape(', '.join(payload.get('pci_items', [])))} · "
        f"<b>PCI DSS v4.0.1</b> {escape(', '.join(payload.get('dss', [])))}</p>",
        f"<p><b>Verifies</b></p><ul>{recommendations}</ul>",
        f"<p><b>Verdict</b> {badge(verdict)} — {escape(str(payload.get('reason', '')))}</p>",
    ]
    findings = payload.get("findings") or []
    if findings:
        rows = [
            [f["kind"], f["namespace"], f["name"], f.get("class", ""), f["detail"]]
            for f in findings
        ]
        parts.append(
            f"<p><b>Findings</b> ({len(findings)})</p>"
            + _table(["Kind", "Namespace", "Name", "Class", "Detail"], rows)
        )
    waived = payload.get("waived") or []
    if waived:
        rows = [
            [
                f"{w['finding']['kind']} {w['finding']['namespace']}/{w['finding']['name']}",
                _waived_class(w),
                w["waiver"]["approver"],
                w["waiver"]["expires"],
                w["waiver"]["justification"],
            ]
            for w in waived
        ]
        parts.append(
            "<p><b>Waivers applied</b></p>"
            + _table(["Finding", "Class", "Approved by", "Expires", "Justification"], rows)
        )
    if payload.get("attestation"):
        parts.append(attestation_html(payload["attestation"]))
    parts.append(f"<p><b>Remediation</b> {escape(str(payload.get('remediation', '')))}</p>")
    parts.append(f"<p><b>Evidence source</b> {escape(str(payload.get('evidence_source', '')))}</p>")
    evidence = payload.get("evidence") or []
    # A failing or erroring check shows its evidence opened: that is what the reader checks.
    opened = verdict in ("failed", "error")
    parts.append("".join(evidence_html(e, opened) for e in evidence) or "<p>(no raw evidence)</p>")
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------- run level
def _dl(rows: list[tuple[str, str]]) -> str:
    return (
        "<table>"
        + "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
        + "</table>"
    )


def scope_html(scope: Obj) -> str:
    run = [
        ("Tool", escape(f"{scope['tool']} {scope['tool_version']}")),
        ("Started (UTC)", escape(scope["started_utc"])),
        ("Finished (UTC)", escape(scope["finished_utc"])),
        ("Command line", f"<span class='kp-cmd'>{escape(' '.join(scope['command_line']))}</span>"),
        ("Working directory", escape(scope["working_directory"])),
        ("Python / pytest", escape(f"{scope['python']} / {scope['pytest']}")),
        (
            "Options",
            escape(", ".join(f"{k}={v or '-'}" for k, v in scope["options"].items())),
        ),
    ]
    parts = ["<h2 id='kp-scope'>Scope</h2>", _dl(run)]
    for cluster in scope["clusters"]:
        identity = cluster.get("identity") or {}
        distribution = cluster.get("distribution") or {}
        credential = cluster.get("credential") or {}
        rows = [
            ("API server", f"<span class='kp-cmd'>{escape(cluster['api_server'])}</span>"),
            ("Context", escape(cluster["context"])),
            ("Kubeconfig", escape(f"{cluster['kubeconfig']} (user {cluster['kubeconfig_user']})")),
            ("Credential type", escape(str(credential.get("detail") or credential.get("kind")))),
            (
                "Ran as (SelfSubjectReview)",
                escape(
                    f"{identity.get('username', '?')} groups "
                    f"{', '.join(identity.get('groups') or []) or '-'}"
                )
                if identity
                else "<em>not collected</em>",
            ),
            (
                "Server version",
                escape(f"{cluster['server_version']} {cluster['server_platform']}".strip()),
            ),
            (
                "Distribution",
                escape(
                    f"{distribution.get('name', '?')}"
                    f"{' (managed)' if cluster.get('managed') else ''}: "
                    f"{'; '.join(distribution.get('reasons') or [])}"
                )
                if distribution
                else "<em>not collected</em>",
            ),
            (
                "Fingerprint (kube-system namespace UID)",
                f"<code>{escape(cluster['kube_system_uid'] or 'not collected')}</code>",
            ),
        ]
        nodes = _table(
            ["Node", "Roles", "Internal IP", "Kubelet", "OS image", "Runtime", "Ready"],
            [
                [
                    n["name"],
                    ", ".join(n["roles"]) or "-",
                    n["internal_ip"],
                    n["kubelet_version"],
                    n["os_image"],
                    n["container_runtime"],
                    n["ready"],
                ]
                for n in cluster.get("nodes") or []
            ],
        )
        parts.append(f"<h3>Cluster {escape(cluster['cluster'])}</h3>{_dl(rows)}")
        parts.append(f"<p><b>Nodes</b> ({len(cluster.get('nodes') or [])})</p>{nodes}")
    return "".join(parts)


def summary_html(summary: list[Obj], clusters: list[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in clusters)
    rows = [f"<tr><th>Recommendation</th><th>Check</th>{head}</tr>"]
    width = 2 + len(clusters)
    for item in summary:
        counts = ", ".join(f"{n} {label(v)}" for v, n in item["counts"].items())
        rows.append(
            f"<tr class='kp-item' id='kp-item-{escape(item['item'])}'><th colspan='{width}'>"
            f"PCI {escape(item['item'])} — {escape(item['title'])} {badge(item['verdict'])}"
            f"<br><span style='font-weight:normal'>PCI DSS v4.0.1: "
            f"{escape(', '.join(item['dss']))} · {escape(counts)}</span></th></tr>"
        )
        for rec in item["recommendations"]:
            span = max(1, len(rec["checks"]))
            first = True
            for check in rec["checks"]:
                rec_cell = (
                    f"<td rowspan='{span}'><b>{escape(rec['id'])}</b> {escape(rec['text'])}</td>"
                    if first
                    else ""
                )
                first = False
                cells = "".join(
                    f"<td><a href='#{anchor(check['check_id'], c)}'>"
                    f"{badge(check['verdicts'][c])}</a>"
                    f"<br><small>{escape(check['reasons'][c])}</small></td>"
                    for c in clusters
                )
                rows.append(
                    f"<tr>{rec_cell}<td><code>{escape(check['check_id'])}</code><br>"
                    f"{escape(check['title'])}</td>{cells}</tr>"
                )
    return (
        "<h2 id='kp-control-summary'>Control summary — PCI container guidance, Section 1 "
        "(Authentication)</h2><table>" + "".join(rows) + "</table>"
    )


def _check_ref(entry: Obj) -> str:
    items = ", ".join(entry.get("pci_items") or [])
    return f"<code>{escape(entry['check_id'])}</code> (PCI {escape(items)})"


def limitations_html(limits: list[Obj]) -> str:
    rows = [
        [
            escape(entry.get("cluster") or "all"),
            badge(entry["kind"])
            if entry["kind"] in ("error", "manual", "not_applicable", "not_run", "attested")
            else escape(entry["kind"]),
            _check_ref(entry) if entry.get("check_id") else "",
            escape(entry["reason"]),
        ]
        for entry in limits
    ]
    return (
        "<h2 id='kp-limitations'>Limitations — what could not be inspected, and why</h2>"
        + _table(["Cluster", "Kind", "Check", "Reason"], rows, raw=True)
    )
