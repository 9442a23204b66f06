"""``--oscal FILE``: the run as an OSCAL assessment-results document (compliance-trestle).

Built from the same run view as ``results.json`` and the HTML report, as trestle model
objects, serialised by trestle; nothing is assembled as JSON by hand. One result holds:

- an inventory item per audited cluster (API server, kube-system UID as fingerprint,
  server version), and kubepci as the assessment platform;
- one observation per check and cluster: method TEST or EXAMINE (``methods.yaml``; a
  manual verdict is EXAMINE), the verdict, reason and every finding, the cluster as its
  subject, ``results.json`` as its evidence when there is a pack;
- one finding per PCI item and cluster, targeting the item's statement in the shipped
  catalogue (``pci-1.1_smt``…): *satisfied* only when every check of the item passed on
  that cluster (fail closed: an error, a manual or a waived check leaves it not satisfied,
  and the ``verdict`` property says which);
- back-matter resources: the catalogue, the inputs in force, and, with ``--evidence-dir``,
  every file of the pack with its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal import assessment_results as ar

import kubepci
from kubepci import catalogue
from kubepci.catalogue.methods import MANUAL_METHOD, methods
from kubepci.report import oscal_catalog
from kubepci.report.oscal_catalog import KUBEPCI_NS, control_id, statement_id
from kubepci.report.redact import redact_obj
from kubepci.report.summary import rollup

Obj = dict[str, Any]
# Verdicts that satisfy an objective. "attested": a person attested it (--attestations).
SATISFYING = ("passed", "attested")
MEDIA_TYPES = {".json": "application/json", ".yaml": "application/yaml", ".yml": "application/yaml"}


def _time(text: str, fallback: dt.datetime) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return fallback


def _prop(name: str, value: Any) -> common.Property:
    return common.Property(name=name, value=str(value), ns=KUBEPCI_NS)


def _props(**values: Any) -> list[common.Property] | None:
    """Properties for the values that are set (OSCAL forbids empty values and lists)."""
    out = [
        _prop(k.replace("_", "-"), _one_line(str(v)))
        for k, v in values.items()
        if str(v or "").strip()
    ]
    return out or None


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "-"


def _href(path: str, base: Path | None) -> str:
    """A URI reference to ``path``, relative to the OSCAL document when it can be."""
    if base is not None and os.path.isabs(path):
        path = os.path.relpath(path, base)
    return quote(Path(path).as_posix())


def _hash(value: str) -> list[common.Hash]:
    return [common.Hash(algorithm="SHA-256", value=value)]


class _Ids:
    """Every UUID of one document, derived from its own: references stay consistent."""

    def __init__(self) -> None:
        self.document = uuid.uuid4()

    def __call__(self, name: str) -> str:
        return str(uuid.uuid5(self.document, name))


def _resource(ids: _Ids, key: str, title: str, href: str, sha256: str, what: str) -> Any:
    suffix = Path(href).suffix
    return common.Resource(
        uuid=ids(f"resource:{key}"),
        title=title,
        description=what,
        rlinks=[
            common.Rlink(
                href=href,
                media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
                hashes=_hash(sha256),
            )
        ],
    )


def _back_matter(
    ids: _Ids, pack: Obj | None, provenance: Obj, base: Path | None
) -> list[common.Resource]:
    shipped = oscal_catalog.shipped_path()
    catalogue_entry = next(
        (c for c in provenance.get("catalogue", []) if c["path"] == oscal_catalog.CATALOG_PATH),
        None,
    )
    out = [
        common.Resource(
            uuid=ids("resource:assessment-plan"),
            title=f"kubepci {kubepci.__version__}: the assessment plan",
            description="No separate OSCAL assessment plan exists: the plan is the kubepci "
            "suite itself, every check of its catalogue run against each cluster in scope, "
            "with the options recorded in this result's properties and the evidence pack's "
            "manifest.",
        )
    ]
    if catalogue_entry is not None:
        out.append(
            _resource(
                ids,
                "catalog",
                "OSCAL catalogue: PCI container guidance Section 1, applied by kubepci",
                shipped.as_uri(),
                catalogue_entry["sha256"],
                "The catalogue this document's findings target (shipped with kubepci as "
                f"{oscal_catalog.CATALOG_PATH}).",
            )
        )
    for role in ("waivers", "attestations"):
        given = provenance.get(role)
        if given:
            # The pack's copy where there is one (it travels with the document); else
            # the file as it was named on the command line.
            copy = given.get("copy") if pack is not None else None
            href = _href(str(Path(pack["directory"]) / copy), base) if pack and copy else ""
            out.append(
                _resource(
                    ids,
                    f"input:{role}",
                    f"The {role} file in force",
                    href or quote(given["path"]),
                    given["sha256"],
                    f"--{role} {given['path']} as it was when the run started"
                    + (f", copied into the evidence pack as {copy}" if copy else ""),
                )
            )
    if pack is not None:
        directory = Path(pack["directory"])
        for entry in pack["files"]:
            out.append(
                _resource(
                    ids,
                    f"pack:{entry['path']}",
                    entry["path"],
                    _href(str(directory / entry["path"]), base),
                    entry["sha256"],
                    f"Evidence pack file ({entry['bytes']} bytes), listed in the pack's "
                    "manifest.json.",
                )
            )
    return out


def _cluster_item(ids: _Ids, cluster: Obj) -> common.InventoryItem:
    identity = cluster.get("identity") or {}
    distribution = cluster.get("distribution") or {}
    return common.InventoryItem(
        uuid=ids(f"cluster:{cluster['cluster']}"),
        description=f"Kubernetes cluster {cluster['cluster']} at {cluster.get('api_server')}",
        props=_props(
            cluster=cluster["cluster"],
            api_server=cluster.get("api_server"),
            kube_system_uid=cluster.get("kube_system_uid"),
            server_version=cluster.get("server_version"),
            distribution=distribution.get("name"),
            audited_as=identity.get("username"),
        ),
    )


def _observation(ids: _Ids, result: Obj, collected: dt.datetime, pack: Obj | None) -> Any:
    check_id, cluster, verdict = result["check_id"], result["cluster"], result["verdict"]
    # Manual or attested: a person's word, examined as a document, whatever the check's
    # automated method would have been.
    method = MANUAL_METHOD if verdict in ("manual", "attested") else methods()[check_id]
    lines = [f"{result['title']}.", f"Verdict: {verdict.replace('_', ' ')}."]
    if result.get("reason"):
        lines.append(result["reason"])
    for finding in result.get("findings") or []:
        where = "/".join(p for p in (finding["namespace"], finding["name"]) if p)
        klass = f" [{finding['class']}]" if finding.get("class") else ""
        lines.append(f"- {finding['kind']} {where}: {finding['detail']}{klass}")
    for waived in result.get("waived") or []:
        lines.append(f"- waived: {_one_line(str(waived))}")
    evidence = None
    if pack is not None:
        evidence = [
            common.RelevantEvidence(
                href=f"#{ids('resource:pack:results.json')}",
                description=f"results.json: the record of {check_id} on {cluster} (verdict, "
                "findings, evidence); the raw exports it was judged from are under raw/.",
            )
        ]
    return common.Observation(
        uuid=ids(f"observation:{check_id}:{cluster}"),
        title=f"{check_id} on {cluster}",
        description="\n".join(lines),
        props=_props(
            check_id=check_id,
            verdict=verdict,
            severity=result.get("severity"),
            pci_item=",".join(result.get("pci_items") or []),
        ),
        methods=[method],
        types=["finding"] if verdict == "failed" else None,
        origins=[
            common.Origin(
                actors=[common.OriginActor(type="assessment-platform", actor_uuid=ids("platform"))]
            )
        ],
        subjects=[
            common.SubjectReference(
                subject_uuid=ids(f"cluster:{cluster}"), type="inventory-item", title=cluster
            )
        ],
        relevant_evidence=evidence,
        collected=collected,
    )


def _finding(ids: _Ids, item: Any, cluster: str, results: list[Obj]) -> common.Finding:
    verdicts = [r["verdict"] for r in results]
    satisfied = bool(verdicts) and all(v in SATISFYING for v in verdicts)
    failed = "failed" in verdicts
    worst = "passed" if satisfied else rollup([v for v in verdicts if v not in SATISFYING])
    per_check = "; ".join(f"{r['check_id']}: {r['verdict'].replace('_', ' ')}" for r in results)
    return common.Finding(
        uuid=ids(f"finding:{item.id}:{cluster}"),
        title=f"PCI {item.id} {item.title} on {cluster}: {worst.replace('_', ' ')}",
        description=f"{item.best_practice}\nChecks: {per_check or 'none ran'}.",
        props=_props(pci_item=item.id, verdict=worst, pci_dss=",".join(item.dss)),
        target=common.FindingTarget(
            type="statement-id",
            target_id=statement_id(item.id),
            status=common.ObjectiveStatus(
                state="satisfied" if satisfied else "not-satisfied",
                reason="pass" if satisfied else ("fail" if failed else "other"),
                remarks=None
                if satisfied or failed
                else "Not satisfied: the evidence does not show it (a check errored, is "
                "manual, not applicable, waived or did not run).",
            ),
        ),
        related_observations=[
            common.RelatedObservation(
                observation_uuid=ids(f"observation:{r['check_id']}:{cluster}")
            )
            for r in results
        ]
        or None,
    )


def build(view: Obj, provenance: Obj, pack: Obj | None = None, base: Path | None = None) -> Any:
    """The assessment-results model of a run.

    ``view`` is the run view (``kubepci.report.run.view``); ``provenance`` the manifest's
    ``inputs`` section; ``pack`` ``{"directory": ..., "files": [manifest entries]}`` when
    an evidence pack is written; ``base`` the OSCAL file's folder, for relative links.
    """
    cat = catalogue.load()
    scope = view["scope"]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = _time(scope.get("started_utc", ""), now)
    end = _time(scope.get("finished_utc", ""), now)
    ids = _Ids()
    results = view["results"]
    clusters = view["clusters"]
    observations = [_observation(ids, r, end, pack) for r in results]
    findings = []
    for cluster in clusters:
        mine = [r for r in results if r["cluster"] == cluster]
        for item in cat.items.values():
            of_item = [r for r in mine if item.id in r.get("pci_items", [])]
            findings.append(_finding(ids, item, cluster, of_item))
    known = {c["cluster"]: c for c in scope.get("clusters", [])}
    inventory = [_cluster_item(ids, known.get(c, {"cluster": c})) for c in clusters]
    tool = common.SystemComponent(
        uuid=ids("tool"),
        type="software",
        title=f"kubepci {kubepci.__version__}",
        description="pytest suite auditing live Kubernetes clusters against the PCI "
        "container orchestration guidance, Section 1 (Authentication); read-only.",
        props=_props(version=kubepci.__version__),
        status=common.Status(state="operational"),
    )
    limitations = "\n".join(
        f"- {e.get('cluster') or 'all clusters'}: {_one_line(e['reason'])}"
        for e in view.get("limitations", [])
    )
    result = ar.Result(
        uuid=ids("result"),
        title=f"kubepci audit of {', '.join(clusters) or 'no cluster'}",
        description="PCI container orchestration guidance, Section 1 (Authentication): every "
        "kubepci check on every cluster in scope.",
        start=start,
        end=end,
        props=_props(
            command_line=" ".join(scope.get("command_line") or []),
            working_directory=scope.get("working_directory"),
            **{f"option_{k}": v for k, v in sorted((scope.get("options") or {}).items())},
        ),
        local_definitions=ar.LocalDefinitions1(
            inventory_items=inventory or None,
            assessment_assets=common.AssessmentAssets(
                components=[tool],
                assessment_platforms=[
                    common.AssessmentPlatform(
                        uuid=ids("platform"),
                        title="kubepci (pytest)",
                        uses_components=[common.UsesComponent(component_uuid=ids("tool"))],
                    )
                ],
            ),
        ),
        reviewed_controls=common.ReviewedControls(
            control_selections=[
                common.ControlSelections(
                    include_controls=[
                        common.SelectControlById(control_id=control_id(i)) for i in cat.items
                    ]
                )
            ]
        ),
        observations=observations or None,
        findings=findings or None,
        remarks=f"Limitations of this run:\n{limitations}" if limitations else None,
    )
    return ar.AssessmentResults(
        uuid=str(ids.document),
        metadata=common.Metadata(
            title="kubepci assessment results: PCI container orchestration guidance, "
            "Section 1 (Authentication)",
            last_modified=end,
            version=kubepci.__version__,
            oscal_version=common.OscalVersion(OSCAL_VERSION),
        ),
        import_ap=ar.ImportAp(href=f"#{ids('resource:assessment-plan')}"),
        results=[result],
        back_matter=common.BackMatter(resources=_back_matter(ids, pack, provenance, base)),
    )


def serialise(model: Any) -> bytes:
    return model.oscal_serialize_json_bytes(pretty=True) + b"\n"


def write(path: Path, view: Obj, provenance: Obj, pack: Obj | None = None) -> None:
    """Build and write the document at ``path`` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The view is redacted at its source; once more here, as every output is.
    model = build(redact_obj(view), provenance, pack, base=path.parent)
    path.write_bytes(serialise(model))
