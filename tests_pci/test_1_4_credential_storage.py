"""PCI 1.4 — authentication mechanisms keep credentials in a properly secured store."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import authenticators, keyfiles
from kubepci.facade import Cluster


@check("static-token-file")
def test_api_server_uses_no_static_token_file(cluster: Cluster) -> None:
    """1.4.1 — the API server does not read bearer tokens from a clear-text file: its
    effective --token-auth-file (the last one given; empty means none) is empty."""
    cluster.conclude(authenticators.judge_static_token_file(cluster.flags("kube-apiserver")))


@check("key-file-permissions")
def test_private_keys_readable_only_by_root(cluster: Cluster) -> None:
    """1.4.2 — every private key under /etc/kubernetes/pki and /var/lib/kubelet is owned by
    root and not readable by group or others (needs --node-root)."""
    cluster.conclude(
        keyfiles.plan_key_inspection(
            cluster.settings.node_root, "a node's filesystem", "private key files"
        ),
        final=False,
    )
    cluster.conclude(keyfiles.judge_private_keys(cluster.private_keys()))
