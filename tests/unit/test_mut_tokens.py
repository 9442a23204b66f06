"""What PCI 1.5.1's evidence says about a pod's token, in the words the report shows.

Found by ``make mutation`` (tests/mutation/): a pod that receives no token was never
shown, so its evidence line could read "token mounted" unnoticed.
"""

from __future__ import annotations

from kubepci.analysis import tokens
from tests.builders import pod, service_account


def test_a_pod_opting_out_reads_not_mounted() -> None:
    worker = pod("batch-worker", "payments", automount=False)
    automount = tokens.effective_automount(worker, {})
    assert automount.text() == ("token not mounted; pod sets automountServiceAccountToken: false")


def test_an_account_opting_out_reads_not_mounted_and_names_the_account() -> None:
    accounts = tokens.service_account_index(
        [service_account("default", "payments", automount=False)]
    )
    automount = tokens.effective_automount(pod("web", "payments"), accounts)
    assert automount.text() == (
        "token not mounted; ServiceAccount payments/default sets "
        "automountServiceAccountToken: false"
    )


def test_the_default_reads_mounted() -> None:
    automount = tokens.effective_automount(pod("web", "payments"), {})
    assert automount.text() == (
        "token mounted; neither pod nor ServiceAccount sets it; default true"
    )
