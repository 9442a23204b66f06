"""A binding to a role that does not exist yet (PCI 1.5.3): which subjects make it a
finding, since whoever creates the role grants it to them at once.

Found by ``make mutation`` (tests/mutation/): the anonymous user and the system:masters
group were never named by such a binding in a test, nor a user or group that only looks
like them.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.authorizer import Binding, Subject
from kubepci.analysis.privilege_report import latent_risk


def binding(*subjects: Subject) -> Binding:
    return Binding("RoleBinding", "payments", "future-admin", "ClusterRole", "not-yet", subjects)


@pytest.mark.parametrize(
    ("subject", "why"),
    [
        (Subject("User", "system:anonymous"), "names User system:anonymous"),
        (Subject("Group", "system:unauthenticated"), "names Group system:unauthenticated"),
        (Subject("Group", "system:masters"), "names Group system:masters"),
        # Look-alikes: a user is no group, a group is no user.
        (Subject("User", "system:masters"), ""),
        (Subject("Group", "system:anonymous"), ""),
        (Subject("User", "jane@example.com"), ""),
        (Subject("Group", "payments-admins"), ""),
    ],
)
def test_who_a_latent_binding_reaches(subject: Subject, why: str) -> None:
    assert latent_risk(binding(subject)) == why


def test_the_first_catch_all_subject_is_named() -> None:
    jane, anonymous = Subject("User", "jane@example.com"), Subject("User", "system:anonymous")
    assert latent_risk(binding(jane, anonymous)) == "names User system:anonymous"
