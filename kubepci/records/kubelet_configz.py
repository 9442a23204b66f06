"""A kubelet's configz as the suite records it, per node: ``{"config": ...}`` when read;
``{"error": why, "status": HTTP status}`` when not; ``"kind"`` says why it was not read
when that is known (``unanswered``: the probe phase's deadline; ``not-granted``: the
optional nodes/proxy grant is absent, with the SelfSubjectAccessReview's ``"review"``)."""

from __future__ import annotations

NOT_GRANTED = "not-granted"
# The ClusterRole of deploy/auditor-rbac.yaml that holds the optional nodes/proxy grant.
KUBELET_CONFIG_ROLE = "kubepci-auditor-kubelet-config"
