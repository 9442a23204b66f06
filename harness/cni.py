"""Pod network: one Linux bridge (cni0) with host-local IPAM on the node's pod CIDR.

No kube-proxy and no CNI DaemonSet: containerd calls the Debian CNI plugins directly, so
pods get real, routable IPs from this host (the API server's service proxy and the tests
reach them over cni0). containerd sets up each pod's loopback itself, so the chain holds
only bridge and portmap.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from pathlib import Path

from harness.layout import CNI_CONF_DIR

BRIDGE = "cni0"
CONF = CNI_CONF_DIR / "10-kubepci-bridge.conflist"
NETWORK = "kubepci"
IPAM_STATE = Path("/var/lib/cni/networks") / NETWORK


def node_cidr(pod_subnet: str) -> str:
    """The first /24 of the pod subnet: what kube-controller-manager gives the first node."""
    net = ipaddress.ip_network(pod_subnet)
    if net.prefixlen >= 24:
        return str(net)
    return str(next(net.subnets(new_prefix=24)))


def write_conflist(pod_subnet: str) -> Path:
    conf = {
        "cniVersion": "1.0.0",
        "name": NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": node_cidr(pod_subnet)}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    CNI_CONF_DIR.mkdir(parents=True, exist_ok=True)
    CONF.write_text(json.dumps(conf, indent=2) + "\n")
    return CONF


def remove_network() -> None:
    """Delete the bridge, the conflist and leftover IPAM leases (after all pods are gone)."""
    subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True, check=False)
    CONF.unlink(missing_ok=True)
    if IPAM_STATE.exists():
        for lease in IPAM_STATE.iterdir():
            lease.unlink()
