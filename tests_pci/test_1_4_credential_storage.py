"""PCI 1.4 — authentication mechanisms keep credentials in a properly secured store."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis.keyfiles import key_file_findings
from kubepci.facade import Cluster
from kubepci.verdict import Finding


@check("static-token-file")
def test_api_server_uses_no_static_token_file(cluster: Cluster) -> None:
    """1.4.1 — the API server does not read bearer tokens from a clear-text file: its
    effective --token-auth-file (the last one given; empty means none) is empty."""
    findings = []
    for flags in cluster.flags("kube-apiserver"):
        cluster.evidence(
            f"kube-apiserver flags ({flags.pod})", flags.evidence(["token-auth-file"]), "flags"
        )
        if flags.get("token-auth-file"):
            findings.append(
                Finding(
                    "Pod",
                    *flags.pod.split("/", 1),
                    "static token file in use: " + flags.source("token-auth-file"),
                )
            )
    cluster.judge(findings, passed="no --token-auth-file")


@check("key-file-permissions")
def test_private_keys_readable_only_by_root(cluster: Cluster) -> None:
    """1.4.2 — every private key under /etc/kubernetes/pki and /var/lib/kubelet is owned by
    root and not readable by group or others (needs --node-root)."""
    if not cluster.settings.node_root:
        cluster.manual("pass --node-root (a node's filesystem) to inspect private key files")
    keys = cluster.private_keys()
    cluster.evidence("Private key files inspected", [k.to_json() for k in keys], "objects")
    cluster.judge(key_file_findings(keys), passed=f"{len(keys)} private key file(s) are root-only")
