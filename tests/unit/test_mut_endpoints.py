"""A kubelet read-only port bound to ``localhost`` (KubeletConfiguration ``address``).

Found by ``make mutation`` (tests/mutation/): only numeric loopback binds were read. The
name is loopback too: the node address must refuse the port, so the node is still probed
there to confirm, and the basis says why.
"""

from __future__ import annotations

from kubepci.analysis import endpoints
from kubepci.analysis.endpoints import NodeAddress

NODE = NodeAddress("vm", "192.0.2.2", 10250)


def test_a_localhost_bind_is_probed_on_the_node_address() -> None:
    configz = {"vm": {"config": {"readOnlyPort": 10255, "address": "localhost"}}}
    [target] = endpoints.read_only_targets([NODE], configz)
    assert (target.address, target.port) == ("192.0.2.2", 10255)
    assert target.basis == (
        "configz readOnlyPort=10255; bound to localhost, so the node address should refuse it"
    )


def test_a_bind_to_a_name_is_probed_there() -> None:
    configz = {"vm": {"config": {"readOnlyPort": 10255, "address": "node-1.internal"}}}
    [target] = endpoints.read_only_targets([NODE], configz)
    assert (target.address, target.basis) == (
        "node-1.internal",
        "configz readOnlyPort=10255; bound to node-1.internal",
    )
