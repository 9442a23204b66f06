"""The OSCAL catalogue of Section 1 that kubepci's OSCAL assessment results point to.

Built with compliance-trestle's models from the catalogue data (``section1.yaml``,
``methods.yaml``); ``kubepci/catalogue/oscal/generate.py`` writes it to
``kubepci/catalogue/oscal/pci-container-section1-catalog.json`` and a unit test proves
the shipped file is what the data gives. Layout:

- group ``pci-s1`` "Authentication";
- a control per PCI item (``pci-1.1`` … ``pci-1.6``): its best practice as the statement
  (``pci-1.1_smt``, what a finding targets), its threat, and its PCI DSS v4.0.1 links;
- under it a control per recommendation (``pci-1.1.1``), whose parts name each kubepci
  check that verifies it (``assessment-method``, with NIST's ``method`` property).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from importlib import resources
from pathlib import Path

from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal import catalog as oscal_catalog

from kubepci.catalogue import Catalogue
from kubepci.catalogue.methods import methods

# Names kubepci gives meaning to; OSCAL asks for a namespace on names it does not define.
KUBEPCI_NS = "urn:kubepci:oscal"
# NIST's own namespace for SP 800-53A assessment methods (used in NIST's OSCAL catalogues).
RMF_NS = "http://csrc.nist.gov/ns/rmf"
# Stable identities: the catalogue is the same object across regenerations.
UUID_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, "urn:kubepci:oscal:pci-container-section1-catalog")
CATALOG_FILE = "pci-container-section1-catalog.json"
CATALOG_PATH = f"kubepci/catalogue/oscal/{CATALOG_FILE}"
GROUP_ID = "pci-s1"
GROUP_TITLE = "Authentication"
GUIDANCE = (
    "PCI SSC, Guidance for Containers and Container Orchestration Tools, v1.0 (2022), "
    "table 3.1, Section 1: Authentication"
)


def control_id(item_or_recommendation: str) -> str:
    """``pci-1.1`` for item 1.1, ``pci-1.1.1`` for recommendation 1.1.1."""
    return f"pci-{item_or_recommendation}"


def statement_id(item_or_recommendation: str) -> str:
    """The statement part a finding targets: ``pci-1.1_smt``."""
    return f"{control_id(item_or_recommendation)}_smt"


def stable_uuid(name: str) -> str:
    return str(uuid.uuid5(UUID_ROOT, name))


def shipped_path() -> Path:
    """The catalogue file as installed with kubepci."""
    return Path(str(resources.files("kubepci.catalogue").joinpath("oscal", CATALOG_FILE)))


def _prop(name: str, value: str, ns: str | None = KUBEPCI_NS) -> common.Property:
    return common.Property(name=name, value=value, ns=ns)


def _data_sha256(name: str) -> str:
    data = resources.files("kubepci.catalogue").joinpath(name).read_bytes()
    return hashlib.sha256(data).hexdigest()


def _check_part(cat: Catalogue, rec_id: str, check_id: str) -> common.Part:
    check = cat.checks[check_id]
    return common.Part(
        id=f"{control_id(rec_id)}_asm.{check_id}",
        name="assessment-method",
        title=check.title,
        props=[
            _prop("method", methods()[check_id], RMF_NS),
            _prop("check-id", check_id),
            _prop("severity", check.severity),
        ],
        prose=f"kubepci check {check_id}: {check.evidence}",
    )


def _recommendation(cat: Catalogue, rec_id: str) -> oscal_catalog.Control:
    rec = cat.recommendations[rec_id]
    parts = [common.Part(id=statement_id(rec_id), name="statement", prose=rec.text)]
    parts += [_check_part(cat, rec_id, c.id) for c in cat.checks_of(rec_id)]
    return oscal_catalog.Control(
        id=control_id(rec_id),
        title=f"Recommendation {rec_id}",
        props=[_prop("label", rec_id, None)],
        parts=parts,
    )


def _item(cat: Catalogue, item_id: str) -> oscal_catalog.Control:
    item = cat.items[item_id]
    return oscal_catalog.Control(
        id=control_id(item_id),
        title=item.title,
        props=[
            _prop("label", item_id, None),
            *(_prop("pci-dss-v4.0.1-requirement", ref) for ref in item.dss),
        ],
        parts=[
            common.Part(id=statement_id(item_id), name="statement", prose=item.best_practice),
            common.Part(
                id=f"{control_id(item_id)}_thr", name="threat", ns=KUBEPCI_NS, prose=item.threat
            ),
        ],
        controls=[
            _recommendation(cat, r.id) for r in cat.recommendations.values() if r.item == item_id
        ],
    )


def build(cat: Catalogue, last_modified: dt.datetime) -> oscal_catalog.Catalog:
    """The Section 1 catalogue from kubepci's catalogue data."""
    sources = [
        common.Resource(
            uuid=stable_uuid("resource:guidance"),
            title="PCI SSC Guidance for Containers and Container Orchestration Tools v1.0",
            citation=common.Citation(text=GUIDANCE),
        ),
        *(
            common.Resource(
                uuid=stable_uuid(f"resource:{name}"),
                title=f"kubepci catalogue data: {name}",
                description="The data this catalogue is generated from.",
                rlinks=[
                    common.Rlink(
                        href=f"../{name}",
                        media_type="application/yaml",
                        hashes=[common.Hash(algorithm="SHA-256", value=_data_sha256(name))],
                    )
                ],
            )
            for name in ("section1.yaml", "methods.yaml")
        ),
    ]
    return oscal_catalog.Catalog(
        uuid=stable_uuid("catalog"),
        metadata=common.Metadata(
            title="PCI container orchestration guidance, Section 1 (Authentication), "
            "applied to Kubernetes by kubepci",
            last_modified=last_modified,
            oscal_version=common.OscalVersion(OSCAL_VERSION),
            version=f"section1.yaml sha256:{_data_sha256('section1.yaml')[:16]}",
            remarks=f"{GUIDANCE}. Items, threats and best practices are the guidance's; "
            "recommendations and checks are kubepci's reading of them for Kubernetes.",
        ),
        groups=[
            oscal_catalog.Group2(
                id=GROUP_ID,
                title=GROUP_TITLE,
                props=[_prop("label", "1", None)],
                controls=[_item(cat, item_id) for item_id in cat.items],
            )
        ],
        back_matter=common.BackMatter(resources=sources),
    )


def serialise(model: oscal_catalog.Catalog) -> bytes:
    """The JSON text kubepci ships (trestle's pretty form, newline-terminated)."""
    return model.oscal_serialize_json_bytes(pretty=True) + b"\n"
