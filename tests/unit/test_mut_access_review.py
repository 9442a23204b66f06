"""How a SubjectAccessReview answer and the pair it was asked about read in the evidence.

Found by ``make mutation`` (tests/mutation/): an answer carrying both a reason and an
evaluation error, and an identity in no group, were never shown. The answer is the
``status`` of a SubjectAccessReview as kube-apiserver writes it
(k8s.io/api/authorization/v1 SubjectAccessReviewStatus).
"""

from __future__ import annotations

from kubepci.analysis.access_review import AccessAnswer, describe
from kubepci.analysis.authorizer import Identity, Request


def test_reason_and_evaluation_error_are_both_given_in_order() -> None:
    status = {
        "allowed": False,
        "denied": True,
        "reason": "webhook denied: outside change window",
        "evaluationError": 'RBAC: role.rbac.authorization.k8s.io "gone" not found',
    }
    assert AccessAnswer.from_status(status).text() == (
        "denied; reason: webhook denied: outside change window; "
        'evaluation error: RBAC: role.rbac.authorization.k8s.io "gone" not found'
    )


def test_an_identity_in_no_group_says_none() -> None:
    identity = Identity("system:kube-scheduler")
    request = Request("get", "", "secrets", namespace="kube-system")
    assert describe(identity, request) == (
        f"system:kube-scheduler (groups: none) to {request.text()}"
    )
    assert describe(Identity("jane", ("dev", "ops")), request).startswith(
        "jane (groups: dev, ops) to "
    )
