"""The reasons PCI 1.2.1 gives for a generic audit identity, read as an assessor reads them.

Found by ``make mutation`` (tests/mutation/): the reason naming several generic groups was
asserted only to contain one of them.
"""

from __future__ import annotations

from kubepci.analysis import identities


def test_every_generic_group_is_named_in_order() -> None:
    # A shared break-glass group and the anonymous catch-all, as a kubeconfig for a CI
    # robot might carry them; system:authenticated is added by every authenticator.
    groups = ["system:unauthenticated", "kubeadm:cluster-admins", "system:authenticated"]
    assert identities.identity_reason("ci-bot", groups) == (
        "authenticates through generic group(s) kubeadm:cluster-admins, system:unauthenticated"
    )
