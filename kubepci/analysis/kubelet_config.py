"""Judging each kubelet's effective configuration (its ``/configz``) for 1.1.4.

Pure: from the node → ``{"config"}`` / ``{"error", "kind"?}`` record that
:meth:`kubepci.access.cluster.ClusterSession.kubelet_configz` stores. A node whose configz
was refused because the optional ``nodes/proxy`` grant is absent
(:data:`kubepci.records.kubelet_configz.NOT_GRANTED`) is neither an error nor judged: it is
named, so the check can say the configuration is for a person to attest while the live
probes (kubelet-anonymous-probe, kubelet-read-only-port) still judge 1.1.4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubepci.records.kubelet_configz import KUBELET_CONFIG_ROLE as ROLE
from kubepci.records.kubelet_configz import NOT_GRANTED
from kubepci.verdict import Finding

Obj = dict[str, Any]


@dataclass
class ConfigzJudgement:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "node: why", not collected
    not_granted: list[str] = field(default_factory=list)  # nodes the grant did not reach
    judged: list[str] = field(default_factory=list)  # nodes whose configuration was read

    def not_granted_reason(self) -> str:
        """The manual verdict's reason (also the run's recorded limitation)."""
        nodes = ", ".join(self.not_granted[:10])
        more = f" and {len(self.not_granted) - 10} more" if len(self.not_granted) > 10 else ""
        read = f"; read on {len(self.judged)} other node(s), no finding" if self.judged else ""
        return (
            f"nodes/proxy get is not granted to the audit's identity (optional: ClusterRole "
            f"{ROLE} in deploy/auditor-rbac.yaml; the API server's SelfSubjectAccessReview "
            f"says not allowed), so the kubelet configuration of {nodes}{more} was not "
            f"read{read}. The live probes still judge 1.1.4: kubelet-anonymous-probe "
            "(port 10250) and kubelet-read-only-port (the default port 10255, assumed). "
            "Attest authentication.anonymous.enabled=false, authorization.mode=Webhook and "
            f"readOnlyPort=0 in each kubelet's configuration, or grant {ROLE}."
        )


def kubelet_findings(node: str, config: Obj) -> list[Finding]:
    """anonymous off, Webhook authorization, readOnlyPort 0 (the v1beta1
    KubeletConfiguration that /configz serves)."""
    findings = []
    authn = config.get("authentication") or {}
    if (authn.get("anonymous") or {}).get("enabled", False):
        findings.append(Finding("Node", "", node, "kubelet authentication.anonymous.enabled=true"))
    mode = (config.get("authorization") or {}).get("mode", "")
    if mode != "Webhook":
        findings.append(Finding("Node", "", node, f"kubelet authorization.mode={mode or '?'}"))
    if int(config.get("readOnlyPort") or 0) != 0:
        findings.append(Finding("Node", "", node, f"kubelet readOnlyPort={config['readOnlyPort']}"))
    return findings


def judge_configz(configs: dict[str, Obj]) -> ConfigzJudgement:
    out = ConfigzJudgement()
    for node, entry in sorted(configs.items()):
        if entry.get("kind") == NOT_GRANTED:
            out.not_granted.append(node)
        elif "error" in entry:
            out.errors.append(f"{node}: {entry['error']}")
        else:
            out.judged.append(node)
            out.findings += kubelet_findings(node, entry.get("config") or {})
    return out
