"""Run-level views of the results: the control summary and the limitations.

Both the HTML report and ``results.json`` are built from these, so the assessor reads the
same roll-up and the same list of what could not be inspected in either.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from kubepci.catalogue import Catalogue
from kubepci.verdict import Verdict

Obj = dict[str, Any]
NOT_RUN = "not_run"
# Worst first: an item is only "passed" when every check on every cluster passed.
SEVERITY = [
    Verdict.FAILED.value,
    Verdict.ERROR.value,
    Verdict.MANUAL.value,
    Verdict.NOT_APPLICABLE.value,
    NOT_RUN,
    Verdict.WAIVED.value,
    Verdict.ATTESTED.value,
    Verdict.PASSED.value,
]
# An attested check is still one the suite did not inspect: a person vouches for it.
LIMITING = (
    Verdict.ERROR.value,
    Verdict.NOT_APPLICABLE.value,
    Verdict.MANUAL.value,
    Verdict.ATTESTED.value,
)

STANDING_LIMITATIONS = (
    "Membership of system:masters is not an RBAC binding and is invisible to the API; it "
    "shows only in credentials (client certificates, CSRs), so holders outside this run's "
    "view cannot be listed.",
    "Secret data is never read: Secrets are listed as metadata only (names, owning "
    "ServiceAccount, legacy-token labels).",
    "Probes show what answered from the host that ran the suite; a network path that "
    "only exists elsewhere (another subnet, the node itself) is not covered.",
    "The CSR list shows recent requests only: kube-controller-manager's csrcleaner deletes "
    "a CSR 1 h after its certificate is issued (1 h after denial, 24 h if never handled or "
    "never issued), so a certificate issued earlier leaves no CSR. client-certificate-csrs "
    "also reads the API server audit log under --node-root, as far back as that log "
    "reaches (its verdict says how far); without it, older certificates are not covered.",
)


def label(verdict: str) -> str:
    return verdict.replace("_", " ")


def rollup(verdicts: list[str]) -> str:
    """The worst verdict among ``verdicts`` (``not_run`` when there are none)."""
    if not verdicts:
        return NOT_RUN
    return min(verdicts, key=lambda v: SEVERITY.index(v) if v in SEVERITY else 0)


def ordered(results: list[Obj], catalogue: Catalogue) -> list[Obj]:
    """Catalogue order, then cluster: the same order whatever order xdist finished in."""
    index = {check_id: i for i, check_id in enumerate(catalogue.checks)}
    return sorted(results, key=lambda r: (index.get(r["check_id"], len(index)), r["cluster"]))


def control_summary(catalogue: Catalogue, results: list[Obj], clusters: list[str]) -> list[Obj]:
    """PCI item → recommendations → checks → verdict per cluster."""
    by_key = {(r["check_id"], r["cluster"]): r for r in results}
    summary: list[Obj] = []
    for item in catalogue.items.values():
        item_checks = {c.id for c in catalogue.checks.values() if item in catalogue.items_of(c.id)}
        verdicts = [
            by_key[(c, cl)]["verdict"] if (c, cl) in by_key else NOT_RUN
            for c in sorted(item_checks)
            for cl in clusters
        ]
        recommendations = []
        for rec in catalogue.recommendations.values():
            if rec.item != item.id:
                continue
            checks = []
            for check in catalogue.checks_of(rec.id):
                found = {cl: by_key.get((check.id, cl)) for cl in clusters}
                checks.append(
                    {
                        "check_id": check.id,
                        "title": check.title,
                        "severity": check.severity,
                        "verdicts": {cl: r["verdict"] if r else NOT_RUN for cl, r in found.items()},
                        "reasons": {cl: r["reason"] if r else "" for cl, r in found.items()},
                    }
                )
            recommendations.append({"id": rec.id, "text": rec.text, "checks": checks})
        summary.append(
            {
                "item": item.id,
                "title": item.title,
                "best_practice": item.best_practice,
                "dss": list(item.dss),
                "verdict": rollup(verdicts),
                "counts": dict(sorted(Counter(verdicts).items())),
                "recommendations": recommendations,
            }
        )
    return summary


def limitations(
    catalogue: Catalogue, results: list[Obj], scope: Obj, clusters: list[str]
) -> list[Obj]:
    """What could not be inspected, and why: every error, not-applicable, manual and
    attested verdict's reason, managed control planes, scope values not collected, checks
    not run."""
    out: list[Obj] = []
    for cluster in scope.get("clusters", []):
        distribution = cluster.get("distribution") or {}
        if cluster.get("managed"):
            out.append(
                {
                    "cluster": cluster["cluster"],
                    "kind": "managed-distribution",
                    "reason": (
                        f"{str(distribution.get('name', '')).upper()} is a managed distribution "
                        f"({'; '.join(distribution.get('reasons') or [])}): the provider runs "
                        "the API server, controller manager, scheduler and etcd, so their flags "
                        "and ports cannot be inspected. Checks that depend on them are not "
                        "applicable here; the provider's own attestation covers them."
                    ),
                }
            )
        for missing in cluster.get("unavailable") or []:
            out.append({"cluster": cluster["cluster"], "kind": "scope", "reason": missing})
    for result in ordered(results, catalogue):
        if result["verdict"] in LIMITING:
            out.append(
                {
                    "cluster": result["cluster"],
                    "kind": result["verdict"],
                    "check_id": result["check_id"],
                    "pci_items": result["pci_items"],
                    "reason": result["reason"],
                }
            )
    ran = {(r["check_id"], r["cluster"]) for r in results}
    for cluster in clusters:
        skipped = [c for c in catalogue.checks if (c, cluster) not in ran]
        if skipped:
            out.append(
                {
                    "cluster": cluster,
                    "kind": NOT_RUN,
                    "reason": "not run in this session (deselected, not collected or "
                    "interrupted): " + ", ".join(skipped),
                }
            )
    out.extend({"cluster": "", "kind": "standing", "reason": r} for r in STANDING_LIMITATIONS)
    return out
