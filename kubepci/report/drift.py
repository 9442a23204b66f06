"""Drift against a previous evidence pack (``--baseline PACK``): which findings are new,
resolved or unchanged, and which waivers and attestations expired in between.

A finding's identity is what stays the same while nothing changes on the cluster: the
check, the cluster's fingerprint (its kube-system namespace UID, else its API server's
URL), the object (kind, namespace, name) and the finding's class. The detail text is not
part of it: a later version may word the same finding differently.

Fail closed: a baseline finding is *resolved* only when this run judged its check on that
cluster (passed, failed or waived). When the check errored, ended manual or was not run,
the finding is *not re-examined*, never resolved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubepci.verdict import Verdict

Obj = dict[str, Any]
RESULTS_FORMAT = "kubepci-results/1"
MANIFEST_FORMAT = "kubepci-manifest/"
RESULTS = "results.json"
MANIFEST = "manifest.json"
JUDGED = frozenset({Verdict.PASSED.value, Verdict.FAILED.value, Verdict.WAIVED.value})
IDENTITY = (
    "check, cluster fingerprint (kube-system namespace UID, else the API server URL), "
    "object (kind, namespace, name), finding class"
)
Identity = tuple[str, str, str, str, str, str]


class BaselineError(ValueError):
    """The baseline is not a kubepci evidence pack this version can compare with."""


@dataclass(frozen=True)
class Baseline:
    path: str
    results: Obj
    results_sha256: str


def _json(path: Path, what: str, where: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise BaselineError(f"{where}: {what} is not readable ({exc.strerror})") from None
    except ValueError:
        raise BaselineError(f"{where}: {what} is not JSON; not a kubepci evidence pack") from None


def load(path: str) -> Baseline:
    """Read and check a pack written by ``--evidence-dir``: a kubepci manifest, results in
    the format this version compares, and results.json still matching its manifest hash."""
    where = f"--baseline {path}"
    directory = Path(path).expanduser()
    if not directory.is_dir():
        raise BaselineError(
            f"{where}: not a directory; give the evidence pack directory a previous run"
            " wrote with --evidence-dir"
        )
    if not (directory / MANIFEST).is_file() or not (directory / RESULTS).is_file():
        raise BaselineError(
            f"{where}: not a kubepci evidence pack (no {MANIFEST} and {RESULTS}); give the"
            " directory a previous run wrote with --evidence-dir"
        )
    manifest = _json(directory / MANIFEST, MANIFEST, where)
    if not isinstance(manifest, dict) or not str(manifest.get("format", "")).startswith(
        MANIFEST_FORMAT
    ):
        raise BaselineError(f"{where}: {MANIFEST} is not a kubepci manifest")
    raw = (directory / RESULTS).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    listed = {
        e.get("path"): e.get("sha256") for e in manifest.get("files") or [] if isinstance(e, dict)
    }
    if listed.get(RESULTS) != digest:
        raise BaselineError(
            f"{where}: {RESULTS} does not match its SHA-256 in {MANIFEST}: it was changed"
            " after the pack was written, so it is no baseline"
        )
    results = _json(directory / RESULTS, RESULTS, where)
    found = results.get("format") if isinstance(results, dict) else None
    if found != RESULTS_FORMAT:
        raise BaselineError(
            f"{where}: {RESULTS} is in format {found!r}; this kubepci compares with"
            f" {RESULTS_FORMAT!r} packs only"
        )
    if not isinstance(results.get("results"), list) or not isinstance(results.get("scope"), dict):
        raise BaselineError(f"{where}: {RESULTS} has no results or scope")
    return Baseline(str(directory), results, digest)


def fingerprints(scope: Obj) -> dict[str, str]:
    """Each audited cluster's fingerprint: ``kube-system:<UID>``, else ``server:<URL>``."""
    out: dict[str, str] = {}
    for cluster in scope.get("clusters") or []:
        uid = str(cluster.get("kube_system_uid") or "")
        out[str(cluster.get("cluster", ""))] = (
            f"kube-system:{uid}" if uid else f"server:{cluster.get('api_server', '')}"
        )
    return out


def _fingerprint(prints: dict[str, str], cluster: str) -> str:
    # A result always names a cluster of the scope; "context:" only if a run was cut short.
    return prints.get(cluster) or f"context:{cluster}"


def identity_id(identity: Identity) -> str:
    """A short stable id for one finding identity, for tickets and spreadsheets."""
    return hashlib.sha256("\x1f".join(identity).encode()).hexdigest()[:16]


def findings(document: Obj) -> dict[Identity, Obj]:
    """Every finding of the checks judged in a results document, by identity."""
    prints = fingerprints(document.get("scope") or {})
    out: dict[Identity, Obj] = {}
    for result in document.get("results") or []:
        if result.get("verdict") not in JUDGED:
            continue
        fingerprint = _fingerprint(prints, str(result.get("cluster", "")))
        waived = {
            (f["kind"], f["namespace"], f["name"], str(f.get("class") or ""))
            for f in (w["finding"] for w in result.get("waived") or [])
        }
        for finding in result.get("findings") or []:
            ref = (finding["kind"], finding["namespace"], finding["name"])
            cls = str(finding.get("class") or "")
            identity: Identity = (str(result["check_id"]), fingerprint, *ref, cls)
            out.setdefault(
                identity,
                {
                    "id": identity_id(identity),
                    "check_id": result["check_id"],
                    "cluster": result["cluster"],
                    "fingerprint": fingerprint,
                    "kind": ref[0],
                    "namespace": ref[1],
                    "name": ref[2],
                    "class": cls,
                    "detail": finding.get("detail", ""),
                    "waived": (*ref, cls) in waived,
                },
            )
    return out


def judged(document: Obj) -> set[tuple[str, str]]:
    """(check, cluster fingerprint) pairs whose verdict came from judged evidence."""
    prints = fingerprints(document.get("scope") or {})
    return {
        (str(r["check_id"]), _fingerprint(prints, str(r.get("cluster", ""))))
        for r in document.get("results") or []
        if r.get("verdict") in JUDGED
    }


def _date(stamp: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(stamp)[:10])
    except ValueError:
        return None


def _expiry_record(kind: str, entry: Obj) -> Obj:
    if kind == "waiver":
        return {
            "type": "waiver",
            "check": entry.get("check", ""),
            "selector": entry.get("selector", {}),
            "class": entry.get("class", ""),
            "by": entry.get("approver", ""),
            "expires": entry.get("expires", ""),
        }
    return {
        "type": "attestation",
        "check": entry.get("check", ""),
        "cluster": entry.get("cluster", ""),
        "by": entry.get("attested_by", ""),
        "role": entry.get("role", ""),
        "expires": entry.get("expires", ""),
    }


def _expiry_key(record: Obj) -> str:
    return json.dumps(record, sort_keys=True)


def expired_between(documents: list[Obj], since: dt.date | None, today: dt.date) -> list[Obj]:
    """Waivers and attestations, from the baseline's registers and this run's, in force on
    the baseline's date and expired by today (both are valid through their expiry day)."""
    out: dict[str, Obj] = {}
    for document in documents:
        entries = [("waiver", w) for w in document.get("waiver_register") or []]
        entries += [("attestation", a) for a in document.get("attestations") or []]
        for kind, entry in entries:
            expires = _date(entry.get("expires", ""))
            if expires is None or expires >= today or (since is not None and expires < since):
                continue
            record = _expiry_record(kind, entry)
            out.setdefault(_expiry_key(record), record)
    return sorted(out.values(), key=lambda r: (r["expires"], r["type"], r["check"]))


def compare(baseline: Obj, current: Obj, baseline_path: str = "", sha256: str = "") -> Obj:
    """The drift section of results.json: ``current`` is this run's results document
    (scope, results and registers), ``baseline`` a previous pack's results.json."""
    before, after = findings(baseline), findings(current)
    judged_before, judged_now = judged(baseline), judged(current)
    new = [
        {**record, "baseline_judged": identity[:2] in judged_before}
        for identity, record in after.items()
        if identity not in before
    ]
    unchanged = [record for identity, record in after.items() if identity in before]
    resolved = [
        record
        for identity, record in before.items()
        if identity not in after and identity[:2] in judged_now
    ]
    not_reexamined = [
        record
        for identity, record in before.items()
        if identity not in after and identity[:2] not in judged_now
    ]
    base_scope = baseline.get("scope") or {}
    since = _date(base_scope.get("started_utc", ""))
    today = (
        _date((current.get("scope") or {}).get("started_utc", "")) or dt.datetime.now(dt.UTC).date()
    )
    expired = expired_between([baseline, current], since, today)
    return {
        "baseline": {
            "path": baseline_path,
            "results_sha256": sha256,
            "started_utc": base_scope.get("started_utc", ""),
            "finished_utc": base_scope.get("finished_utc", ""),
            "tool_version": base_scope.get("tool_version", ""),
            "clusters": sorted(set(fingerprints(base_scope).values())),
        },
        "identity": IDENTITY,
        "counts": {
            "new": len(new),
            "new_open": sum(not r["waived"] for r in new),
            "resolved": len(resolved),
            "unchanged": len(unchanged),
            "not_reexamined": len(not_reexamined),
            "expired": len(expired),
        },
        "new": sorted(new, key=_order),
        "resolved": sorted(resolved, key=_order),
        "unchanged": sorted(unchanged, key=_order),
        "not_reexamined": sorted(not_reexamined, key=_order),
        "expired": expired,
    }


def _order(record: Obj) -> tuple[str, ...]:
    return tuple(
        str(record[k]) for k in ("check_id", "cluster", "kind", "namespace", "name", "class")
    )
