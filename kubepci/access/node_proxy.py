"""Whether a 403 from the node proxy means the optional ``nodes/proxy`` grant is absent.

``deploy/auditor-rbac.yaml`` keeps ``get nodes/proxy`` in a ClusterRole of its own
(``kubepci-auditor-kubelet-config``): it reaches the whole kubelet API, so an operator may
leave it out. The kubelet-configz reads then answer 403. A 403 alone does not say whose
refusal it is (the API server's authorizer, or the kubelet behind the proxy), so the API
server is asked: a SelfSubjectAccessReview for the same request. Only its "not allowed"
makes the refusals a recorded limitation (``NOT_GRANTED``, see
:mod:`kubepci.records.kubelet_configz`); an allowed review, or one that
fails, leaves them errors (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubepci.access.api import ApiUnavailable
from kubepci.records.kubelet_configz import NOT_GRANTED

Obj = dict[str, Any]

SELF_SUBJECT_ACCESS_REVIEW = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
# GET /api/v1/nodes/NAME/proxy/configz is, to the authorizer, verb get on resource nodes,
# subresource proxy (k8s.io/apiserver pkg/endpoints/request/requestinfo.go: "parts look
# like: resource/resourceName/subresource/..."). No name: the grant for every node.
NODE_PROXY = {"verb": "get", "resource": "nodes", "subresource": "proxy"}


def review_body() -> Obj:
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": dict(NODE_PROXY)},
    }


def mark_not_granted(configz: dict[str, Obj], review: Callable[[], Obj]) -> dict[str, Obj]:
    """``configz`` (node → ``{"config"}`` or ``{"error", "status"}``) with each 403 marked
    ``"kind": NOT_GRANTED`` when ``review()`` (the SelfSubjectAccessReview's answer) says
    the request is not allowed. ``review`` is called at most once, only if a node was
    refused; its ApiUnavailable is recorded on the refused entries, which stay errors."""
    refused = [node for node, entry in configz.items() if entry.get("status") == 403]
    if not refused:
        return configz
    out = dict(configz)
    try:
        answer = review()
    except ApiUnavailable as exc:  # the review's own failure is recorded; never a pass
        for node in refused:
            out[node] = {
                **configz[node],
                "error": f"{configz[node]['error']} (SelfSubjectAccessReview failed: {exc})",
            }
        return out
    status = answer.get("status") if isinstance(answer, dict) else None
    if not isinstance(status, dict) or status.get("allowed") is not False:
        allowed = isinstance(status, dict) and status.get("allowed") is True
        note = (
            "the API server's SelfSubjectAccessReview allows get nodes/proxy, so the 403 "
            "came from elsewhere"
            if allowed
            else "the SelfSubjectAccessReview gave no decision"
        )
        for node in refused:
            out[node] = {**configz[node], "error": f"{configz[node]['error']} ({note})"}
        return out
    review_record = {
        "allowed": False,
        "denied": bool(status.get("denied", False)),
        "reason": str(status.get("reason", "")),
    }
    for node in refused:
        out[node] = {**configz[node], "kind": NOT_GRANTED, "review": review_record}
    return out
