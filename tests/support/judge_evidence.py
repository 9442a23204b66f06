"""Recorded evidence of the local real clusters, as the judging functions take it.

``tests/data/judge/<profile>/`` is the raw store of one audit of each profile (the files a
replay reads, less the SubjectAccessReview answers), written by the suite on the local
noncompliant and compliant clusters. :class:`Recorded` turns it into the records and
analysis inputs a check hands to :mod:`kubepci.analysis`: probe transcripts, control-plane
flags with their settings files, node addresses, the privilege report, the kubeconfig
credential, key file modes. Only records and analysis modules are used: no session.
"""

from __future__ import annotations

import dataclasses
import json
from functools import cached_property
from pathlib import Path
from typing import Any

from kubepci.analysis import endpoints
from kubepci.analysis.distribution import Distribution, api_server_endpoints, detect
from kubepci.analysis.flags import ComponentFlags, ConfigFile, ControlPlane, control_plane_flags
from kubepci.analysis.judgement import Judgement
from kubepci.analysis.privilege_report import PrivilegeReport, analyse
from kubepci.analysis.rbac import RbacGraph
from kubepci.analysis.workloads import Workloads
from kubepci.records.credentials import Credential, credential_from_json
from kubepci.records.node_files import KeyFile
from kubepci.records.probes import PathProbe, ProbeResult

DATA = Path(__file__).resolve().parents[1] / "data" / "judge"
PROFILES = ("noncompliant", "compliant")
Obj = dict[str, Any]


PACKS = Path(__file__).resolve().parents[1] / "data" / "packs"


class Recorded:
    """One profile's recorded evidence: ``tests/data/judge/<profile>``, or with
    ``directory`` another raw store (a recorded pack's ``raw/<cluster>/``)."""

    def __init__(self, profile: str, directory: Path | None = None) -> None:
        self.profile = profile
        self.directory = directory or DATA / profile

    def ok(self, name: str) -> Any:
        """A stored answer (the store keeps ``{"ok": ...}`` or ``{"error": ...}``)."""
        return json.loads((self.directory / f"{name}.json").read_text())["ok"]

    def items(self, resource: str) -> list[Obj]:
        listing = json.loads((self.directory / f"list-{resource}.json").read_text())
        assert not listing["error"], listing["error"]
        return list(listing["items"])

    def probes(self, name: str) -> list[ProbeResult]:
        return [ProbeResult.from_json(p) for p in self.ok(f"probe-{name}")]

    def component_probes(self, component: str) -> list[ProbeResult]:
        (flags,) = self.flags(component)
        return self.probes(f"{component}-{flags.pod.replace('/', '_')}")

    def service_probes(self) -> list[list[PathProbe]]:
        return [
            [PathProbe.from_json(p) for p in port["paths"]] for port in self.ok("probe-services")
        ]

    @cached_property
    def target(self) -> Obj:
        """Who was audited, as the session recorded it (not an ``ok`` answer)."""
        raw: Obj = json.loads((self.directory / "target.json").read_text())
        return raw

    @property
    def server(self) -> str:
        return str(self.target["server"])

    @property
    def credential(self) -> Credential:
        return credential_from_json(self.target["credential"])

    @property
    def identity(self) -> Obj:
        return dict(self.ok("identity"))

    @property
    def version(self) -> str:
        return str(self.ok("version")["gitVersion"])

    @cached_property
    def control_plane(self) -> ControlPlane:
        return control_plane_flags(self.items("pods"), self.version)

    def flags(self, component: str) -> list[ComponentFlags]:
        """Each instance, with the settings files it names as they were read."""
        path = self.directory / f"node-config-files-{component}.json"
        files = json.loads(path.read_text())["ok"] if path.exists() else {}
        return [
            dataclasses.replace(
                i,
                files={f: ConfigFile(**raw) for f, raw in files.get(i.pod, {}).items()},
            )
            for i in self.control_plane[component]
        ]

    @cached_property
    def distribution(self) -> Distribution:
        """As the session detects it (kubepci/access/cluster.py, Session.distribution)."""
        kube_system = [
            p for p in self.items("pods") if p["metadata"].get("namespace") == "kube-system"
        ]
        return detect(
            self.ok("version"),
            self.items("nodes"),
            kube_system,
            api_server_endpoints(self.items("endpointslices")),
            self.server,
        )

    @cached_property
    def node_addresses(self) -> list[endpoints.NodeAddress]:
        return endpoints.node_addresses(self.items("nodes"))

    @cached_property
    def configz(self) -> dict[str, Obj]:
        return dict(self.ok("kubelet-configz"))

    def rbac(self) -> dict[str, list[Obj]]:
        return {
            kind: self.items(kind)
            for kind in ("clusterroles", "clusterrolebindings", "roles", "rolebindings")
        }

    @cached_property
    def rbac_graph(self) -> RbacGraph:
        return RbacGraph.from_snapshot(self.rbac())

    @cached_property
    def privileges(self) -> PrivilegeReport:
        workloads = Workloads.from_objects(
            self.items("serviceaccounts"), self.items("pods"), self.items("secrets")
        )
        return analyse(self.rbac(), workloads, self.version)

    def key_files(self, which: str) -> list[KeyFile]:
        return [KeyFile.from_json(k) for k in self.ok(f"node-{which}-keys")]

    def audit_log_record(self) -> Obj:
        (path,) = self.directory.glob("node-audit-log-*.json")
        return dict(json.loads(path.read_text())["ok"])


def recorded(profile: str) -> Recorded:
    return _RECORDED.setdefault(profile, Recorded(profile))


def recorded_pack(profile: str) -> Recorded:
    """The raw store of the recorded evidence pack of ``profile`` (tests/data/packs), whose
    ``results.json`` holds every piece of evidence the live run filed."""
    (directory,) = (PACKS / profile / "raw").iterdir()
    return _RECORDED.setdefault(f"pack:{profile}", Recorded(profile, directory))


def pack_results(profile: str) -> dict[str, Obj]:
    """The live run's results.json entries of the recorded pack, by check id."""
    document = json.loads((PACKS / profile / "results.json").read_text())
    return {entry["check_id"]: entry for entry in document["results"]}


_RECORDED: dict[str, Recorded] = {}


def verdict(judgement: Judgement) -> tuple[str, str]:
    """(verdict, reason) as Cluster.conclude ends the check with no waiver."""
    if judgement.not_applicable:
        return "not_applicable", judgement.not_applicable
    if judgement.manual:
        return "manual", judgement.manual
    if judgement.unavailable:
        return "error", judgement.unavailable
    findings = set(judgement.findings)
    if findings:
        return "failed", f"{len(findings)} finding(s)"
    return "passed", judgement.passed


def findings_json(judgement: Judgement) -> list[Obj]:
    """The findings as results.json holds them (sorted, distinct)."""
    return [f.to_json() for f in sorted(set(judgement.findings))]


def lines(judgement: Judgement) -> list[str]:
    return [f.line() for f in sorted(set(judgement.findings))]


def titles(judgement: Judgement) -> list[str]:
    return [e.title for e in judgement.evidence]


def evidence(judgement: Judgement, title: str) -> Any:
    """The content of the one piece of evidence with ``title``."""
    (content,) = [e.content for e in judgement.evidence if e.title == title]
    return content
