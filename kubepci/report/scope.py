"""The scope of a run: who audited what, when, with which tool and command line.

Built on the controller from the ClusterSessions (connected and prefetched there at
session start, also under pytest-xdist). Nothing here contacts a cluster: a value that was
not collected before the run ended is reported as unavailable, never fetched late.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
from typing import Any

import pytest

import kubepci
from kubepci.access.cluster import ClusterSession
from kubepci.report.redact import redact_argv, redact_obj
from kubepci.report.results import STARTED
from kubepci.stash import REPLAYED
from kubepci.verdict import EvidenceUnavailable

FINISHED = pytest.StashKey[dt.datetime]()
Obj = dict[str, Any]


def _utc(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def finished(config: pytest.Config) -> dt.datetime:
    """The run's end, fixed the first time an output asks, so all outputs agree."""
    if FINISHED not in config.stash:
        config.stash[FINISHED] = dt.datetime.now(dt.UTC)
    return config.stash[FINISHED]


def _node(node: Obj) -> Obj:
    meta = node.get("metadata") or {}
    status = node.get("status") or {}
    info = status.get("nodeInfo") or {}
    labels = meta.get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    ready = [c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    return {
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "roles": roles,
        "internal_ip": addresses.get("InternalIP", ""),
        "kubelet_version": info.get("kubeletVersion", ""),
        "os_image": info.get("osImage", ""),
        "container_runtime": info.get("containerRuntimeVersion", ""),
        "ready": ready[0] if ready else "Unknown",
    }


def cluster_scope(session: ClusterSession) -> Obj:
    """One audited cluster's identity card; collected values only."""
    target = session.target
    stored = session.export()
    out: Obj = {
        "cluster": target.id,
        "api_server": target.server,
        "context": target.context,
        "kubeconfig": target.kubeconfig,
        "kubeconfig_user": target.user,
        "credential": target.credential.to_json(),
    }
    unavailable: list[str] = []

    def read(name: str, needs: str, compute: Any) -> Any:
        # Only what the run already collected: a missing store file means it was never
        # read (first contact failed, or the run stopped early), and reading it now would
        # contact the cluster.
        if needs not in stored:
            unavailable.append(f"{name}: not collected (first contact failed or never happened)")
            return None
        try:
            return compute()
        except EvidenceUnavailable as exc:
            unavailable.append(f"{name}: {exc.reason}")
            return None

    version = read("server version", "version", lambda: session.version) or {}
    out["server_version"] = version.get("gitVersion", "")
    out["server_platform"] = version.get("platform", "")
    out["identity"] = read("identity", "identity", lambda: session.identity)
    distribution = read("distribution", "list-pods", lambda: session.distribution)
    out["distribution"] = distribution.to_json() if distribution is not None else None
    out["managed"] = bool(distribution and distribution.managed)
    out["kube_system_uid"] = (
        read("kube-system UID", "list-namespaces", lambda: session.kube_system_uid) or ""
    )
    nodes = read("nodes", "list-nodes", lambda: session.snapshot.nodes)
    out["nodes"] = [_node(n) for n in nodes or []]
    out["unavailable"] = unavailable
    return out


def build(config: pytest.Config, sessions: dict[str, ClusterSession]) -> Obj:
    """The whole run's scope, redacted; identical for every output of the run."""
    option = config.option
    scope: Obj = {
        "tool": "kubepci",
        "tool_version": kubepci.__version__,
        "python": platform.python_version(),
        "pytest": pytest.__version__,
        "started_utc": _utc(config.stash.get(STARTED, None)),
        "finished_utc": _utc(finished(config)),
        "command_line": redact_argv(sys.argv),
        "working_directory": str(config.invocation_params.dir),
        "options": {
            "waivers": option.waivers or "",
            "node_root": option.node_root or "",
            "token_lifetime_limit": str(option.token_lifetime_limit),
            "xdist_workers": str(getattr(option, "numprocesses", None) or 0),
        },
        "clusters": [cluster_scope(s) for s in sessions.values()],
    }
    replayed = config.stash.get(REPLAYED, None)
    if replayed is not None:
        # A re-performance: the verdicts are those of the recorded evidence, collected when
        # the original run started; this run only judged it again.
        scope["replay_of"] = {
            "evidence_pack": str(replayed.directory),
            "started_utc": replayed.started_utc,
        }
    return redact_obj(scope)
