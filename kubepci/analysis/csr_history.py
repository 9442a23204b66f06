"""CSRs the list no longer shows, rebuilt from the API server's audit log.

csrcleaner deletes an issued CSR an hour or two after approval, so the list alone says
nothing about certificates issued earlier. The audit log records every CSR write: who
filed it (create), who approved or denied it (the ``approval`` subresource), who wrote
its certificate (the ``status`` subresource, which only signers write) and who deleted
it. At the Metadata level it keeps neither the signer nor the subject; at Request level
and above the create event carries the request itself, which is then judged in full.

What is judged from the log, per CSR no longer listed:
- the request itself, when the log kept it (certificates.request_findings);
- otherwise, a CSR filed by an identity that is neither a node nor a bootstrapper,
  approved by someone and then written by a signer: a certificate most likely issued to a
  non-node identity (a finding);
- an approval by the certificate-controller (sarapprove.go: it approves only kubelet
  client requests whose requester holds the selfnodeclient or nodeclient right) of a CSR
  whose filing the log does not show: taken as a kubelet's, and said so;
- any other approval whose filing the log does not show (a generateName create names no
  CSR at the Metadata level): counted and listed, not judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubepci.analysis import certificates
from kubepci.verdict import Finding

Obj = dict[str, Any]
RESOURCE = "certificatesigningrequests"
# cmd/kube-controller-manager/app/certificates.go: the approver, signer and cleaner all
# use the "certificate-controller" client; without --use-service-account-credentials
# they run as the controller manager itself.
CONTROLLERS = (
    "system:serviceaccount:kube-system:certificate-controller",
    "system:kube-controller-manager",
)


@dataclass(frozen=True)
class Write:
    at: str
    by: str


@dataclass
class Lifecycle:
    """One CSR from its filing (when the log shows it) to its deletion (when it does)."""

    name: str
    filed: Write | None = None
    requester_groups: tuple[str, ...] = ()
    spec: Obj | None = None  # the request, when the audit level kept it
    approvals: list[Write] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)  # condition types, when kept
    signed: list[Write] = field(default_factory=list)
    deleted: Write | None = None


def _effective(event: Obj) -> tuple[str, tuple[str, ...]]:
    """The identity the request acted as: the impersonated user when there is one (the
    API server files a CSR under the effective user's name)."""
    user = event.get("impersonatedUser") or event.get("user") or {}
    return str(user.get("username", "")), tuple(str(g) for g in user.get("groups") or [])


def _counts(event: Obj) -> bool:
    """A completed, successful, real (not dry-run) write."""
    if event.get("stage", "ResponseComplete") != "ResponseComplete":
        return False
    code = (event.get("responseStatus") or {}).get("code")
    if not isinstance(code, int) or not 200 <= code < 300:
        return False
    query = parse_qs(urlsplit(str(event.get("requestURI", ""))).query)
    return not query.get("dryRun")


def lifecycles(events: Sequence[Obj]) -> tuple[list[Lifecycle], list[Write]]:
    """CSR lifecycles from audit events in log order, and the unnamed (generateName)
    filings, which a Metadata-level log cannot tie to any CSR."""
    current: dict[str, Lifecycle] = {}
    done: list[Lifecycle] = []
    unnamed: list[Write] = []
    for event in events:
        ref = event.get("objectRef") or {}
        if ref.get("resource") != RESOURCE or not _counts(event):
            continue
        name = str(ref.get("name") or "")
        sub = str(ref.get("subresource") or "")
        verb = str(event.get("verb", ""))
        at = str(event.get("stageTimestamp") or event.get("requestReceivedTimestamp") or "")
        who, groups = _effective(event)
        request_object = event.get("requestObject")
        body: Obj = request_object if isinstance(request_object, dict) else {}
        if verb == "create" and not sub:
            spec = body.get("spec") if isinstance(body.get("spec"), dict) else None
            name = name or str((body.get("metadata") or {}).get("name") or "")
            if not name:
                unnamed.append(Write(at, who))
                continue
            if name in current:
                done.append(current.pop(name))
            if spec is not None:
                spec = {**spec, "username": who, "groups": list(groups)}
            current[name] = Lifecycle(name, Write(at, who), groups, spec)
            continue
        if not name:
            continue
        life = current.setdefault(name, Lifecycle(name))
        if verb == "delete" and not sub:
            life.deleted = Write(at, who)
            done.append(current.pop(name))
        elif verb in ("update", "patch") and sub == "approval":
            life.approvals.append(Write(at, who))
            conditions = (body.get("status") or {}).get("conditions") or []
            life.decisions += [str(c.get("type")) for c in conditions if isinstance(c, dict)]
        elif verb in ("update", "patch") and sub == "status":
            life.signed.append(Write(at, who))
    return done + list(current.values()), unnamed


@dataclass
class HistoryJudgement:
    findings: list[Finding] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)  # one line per CSR judged from the log
    kubelet_assumed: list[str] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)


def _how(life: Lifecycle) -> str:
    parts = []
    if life.filed:
        parts.append(f"filed by {life.filed.by} at {life.filed.at}")
    if life.approvals:
        parts.append(f"approval written by {life.approvals[-1].by} at {life.approvals[-1].at}")
    if life.signed:
        parts.append(f"status written by {life.signed[-1].by} at {life.signed[-1].at}")
    gone = (
        f"deleted by {life.deleted.by} at {life.deleted.at}" if life.deleted else "no longer listed"
    )
    return f" (from the API server audit log: {', '.join(parts)}; {gone})"


def judge(life_cycles: list[Lifecycle], listed: set[str]) -> HistoryJudgement:
    """Findings for the CSRs the log shows and the list does not (see the module doc)."""
    out = HistoryJudgement()
    for life in life_cycles:
        if life.deleted is None and life.name in listed:
            continue  # the CSR object itself is judged
        how = _how(life)
        denied_only = bool(life.decisions) and "Approved" not in life.decisions
        granted = bool(life.approvals) and not denied_only
        if life.spec is not None:
            if not certificates.is_client_request(life.spec):
                continue
            identity = certificates.requested_identity({"spec": life.spec})
            found = certificates.request_findings(life.name, life.spec, identity, how, granted)
            out.findings += found
            out.judged.append(f"{life.name}: {'finding' if found else 'no finding'}{how}")
            continue
        if life.filed is not None:
            who, groups = life.filed.by, life.requester_groups
            if certificates.is_node_user(who, groups) or certificates.is_bootstrapper(groups):
                out.kubelet_assumed.append(
                    f"{life.name}: filed by node or bootstrap identity {who}{how}"
                )
                continue
            if granted and life.signed:
                out.findings.append(
                    Finding(
                        certificates.KIND,
                        "",
                        life.name,
                        f"a certificate was most likely issued to {who}, which is neither a "
                        "node nor a bootstrap identity: approved, then written by a signer"
                        f"{how}; the Metadata-level log keeps neither signer nor subject",
                        "client-certificate-in-audit-log",
                    )
                )
                out.judged.append(f"{life.name}: finding{how}")
            elif life.approvals:
                out.judged.append(f"{life.name}: approval written, no certificate{how}")
            continue
        if not life.approvals:
            continue
        if all(a.by in CONTROLLERS for a in life.approvals):
            out.kubelet_assumed.append(
                f"{life.name}: auto-approved by the certificate-controller (kubelet client "
                f"requests only; filer not in the log){how}"
            )
        else:
            out.unjudged.append(f"{life.name}: filing not in the log{how}")
    return out
