"""The OSCAL outputs: assessment results (``--oscal``) and the shipped Section 1 catalogue.

Each document is validated twice, independently: by compliance-trestle's models and
validators, and by NIST's published JSON Schema of the same OSCAL release (1.2.1,
tests/data/oscal/, see its README).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from trestle.core.validator_factory import validator_factory
from trestle.oscal import OSCAL_VERSION
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog

from kubepci import catalogue
from kubepci.catalogue.methods import methods
from kubepci.report import oscal, oscal_catalog, provenance
from kubepci.report.provenance import InputFile
from tests.support import oscal_schema
from tests.unit.test_pack_signing import WAIVERS
from tests.unit.test_report_pack import result, view

Obj = dict[str, Any]
GENERATOR = Path(oscal_catalog.__file__).parents[1] / "catalogue" / "oscal" / "generate.py"
# The NIST release assets' SHA-256 (tests/data/oscal/README.md).
SCHEMA_SHA256 = {
    oscal_schema.ASSESSMENT_RESULTS: (
        "4f9e277a177adbcca9527612ce450a33dc6096773fa229d413d801d196c61985"
    ),
    oscal_schema.CATALOG: "c0ae626d6bafe318db68692152d0cbbebf29ba7226b1596a5513cc5d1754504d",
}


def finding(name: str) -> Obj:
    return {"kind": "ClusterRoleBinding", "namespace": "", "name": name,
            "detail": "grants cluster-admin", "class": "admin-equivalent"}  # fmt: skip


def run_view() -> Obj:
    """Two clusters, every verdict kubepci gives, on checks of several items."""
    results = []
    for cluster in ("alpha", "beta"):
        for check_id in catalogue.load().checks:
            results.append(result(check_id, "passed", cluster))
    by_key = {(r["check_id"], r["cluster"]): r for r in results}
    by_key[("generic-cluster-admin-bindings", "alpha")].update(
        verdict="failed", reason="2 findings", findings=[finding("ops"), finding("ci")]
    )
    by_key[("break-glass-custody", "alpha")].update(verdict="manual")
    by_key[("mfa-at-identity-provider", "beta")].update(verdict="attested")
    by_key[("kubelet-config", "beta")].update(verdict="error", reason="forbidden")
    by_key[("etcd-client-cert-auth", "beta")].update(verdict="not_applicable")
    by_key[("legacy-service-account-tokens", "beta")].update(verdict="waived")
    return view(results, ["alpha", "beta"])


PACK_FILES = [
    {"path": "results.json", "bytes": 10, "sha256": "a" * 64},
    {"path": "raw/alpha/list-pods.json", "bytes": 20, "sha256": "b" * 64},
    {"path": "inputs/waivers.yaml", "bytes": 30, "sha256": "c" * 64},
]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Obj]:
    out = tmp_path_factory.mktemp("oscal") / "evidence"
    waivers = InputFile("waivers", str(WAIVERS), WAIVERS.read_bytes())
    inputs = provenance.record({"waivers": waivers}, provenance.catalogue_files())
    path = out / "assessment-results.json"
    oscal.write(path, run_view(), inputs, {"directory": str(out), "files": PACK_FILES})
    return path, json.loads(path.read_text())


def body(document: tuple[Path, Obj]) -> Obj:
    return document[1]["assessment-results"]


def trestle_valid(model: Any) -> bool:
    return bool(validator_factory.get(argparse.Namespace(mode="all")).model_is_valid(model, False))


# ------------------------------------------------------------------ both validators accept it
def test_trestle_loads_and_validates_it(document: tuple[Path, Obj]) -> None:
    model = AssessmentResults.oscal_read(document[0])
    assert isinstance(model, AssessmentResults)
    assert model.metadata.oscal_version.root.root == OSCAL_VERSION
    assert trestle_valid(model)


def test_nist_schema_accepts_it(document: tuple[Path, Obj]) -> None:
    assert oscal_schema.errors(document[1]) == []


def test_the_shipped_schemas_are_nists_bytes() -> None:
    for name, digest in SCHEMA_SHA256.items():
        assert hashlib.sha256((oscal_schema.SCHEMAS / name).read_bytes()).hexdigest() == digest
        declared = json.loads((oscal_schema.SCHEMAS / name).read_text())["$id"]
        assert declared.startswith(f"http://csrc.nist.gov/ns/oscal/{OSCAL_VERSION}/")


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("results", 0, "observations", 0, "methods"), []),
        (("results", 0, "findings", 0, "target", "target-id"), "pci 1.1 smt"),
        (("results", 0, "observations", 0, "uuid"), "not-a-uuid"),
        (("results", 0, "start"), "yesterday"),
    ],
)
def test_the_schema_validator_has_teeth(
    document: tuple[Path, Obj], where: tuple[Any, ...], value: Any
) -> None:
    """Each mutation breaks a rule of the schema (at least one method, the \\p{L} token
    pattern, the UUID pattern, date-time): a validator that accepted it would prove nothing."""
    broken = copy.deepcopy(document[1])
    node = broken["assessment-results"]
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    assert oscal_schema.errors(broken)


# ------------------------------------------------------------------ what it says
def test_one_observation_per_check_and_cluster_with_its_method(
    document: tuple[Path, Obj],
) -> None:
    observations = body(document)["results"][0]["observations"]
    seen = {}
    for obs in observations:
        props = {p["name"]: p["value"] for p in obs["props"]}
        seen[(props["check-id"], obs["subjects"][0]["title"])] = (obs, props)
    cat = catalogue.load()
    assert set(seen) == {(c, cl) for c in cat.checks for cl in ("alpha", "beta")}
    assert len(observations) == len(seen)
    for (check_id, _cluster), (obs, props) in seen.items():
        expected = "EXAMINE" if props["verdict"] in ("manual", "attested") else methods()[check_id]
        assert obs["methods"] == [expected], check_id
    assert methods()["api-server-anonymous-probe"] == "TEST"
    assert methods()["break-glass-custody"] == "EXAMINE"
    obs, props = seen[("generic-cluster-admin-bindings", "alpha")]
    assert props["verdict"] == "failed" and obs["types"] == ["finding"]
    assert "ClusterRoleBinding ops: grants cluster-admin [admin-equivalent]" in obs["description"]


def test_observations_reference_their_cluster_and_evidence(document: tuple[Path, Obj]) -> None:
    result = body(document)["results"][0]
    items = {i["uuid"]: i for i in result["local-definitions"]["inventory-items"]}
    resources = {r["uuid"]: r for r in body(document)["back-matter"]["resources"]}
    platforms = result["local-definitions"]["assessment-assets"]["assessment-platforms"]
    for obs in result["observations"]:
        [subject] = obs["subjects"]
        assert subject["type"] == "inventory-item" and subject["subject-uuid"] in items
        [evidence] = obs["relevant-evidence"]
        assert resources[evidence["href"].removeprefix("#")]["title"] == "results.json"
        assert obs["origins"][0]["actors"][0]["actor-uuid"] == platforms[0]["uuid"]
    props = {p["name"]: p["value"] for i in items.values() for p in i["props"]}
    assert props["kube-system-uid"] == "0f0e0d0c-uid"


def test_findings_target_the_guidance_items_fail_closed(document: tuple[Path, Obj]) -> None:
    result = body(document)["results"][0]
    statements = {
        part["id"]
        for group in json.loads(oscal_catalog.shipped_path().read_text())["catalog"]["groups"]
        for control in group["controls"]
        for part in control["parts"]
    }
    observations = {o["uuid"] for o in result["observations"]}
    states = {}
    for item in result["findings"]:
        props = {p["name"]: p["value"] for p in item["props"]}
        cluster = item["title"].split(" on ")[-1].split(":")[0]
        target = item["target"]
        assert target["type"] == "statement-id" and target["target-id"] in statements
        assert {r["observation-uuid"] for r in item["related-observations"]} <= observations
        states[(props["pci-item"], cluster)] = (target["status"]["state"], props["verdict"])
    assert set(states) == {(f"1.{n}", c) for n in range(1, 7) for c in ("alpha", "beta")}
    assert states[("1.2", "alpha")] == ("not-satisfied", "failed")  # failed and manual
    assert states[("1.1", "alpha")] == ("satisfied", "passed")
    assert states[("1.6", "beta")] == ("satisfied", "passed")  # attested counts
    assert states[("1.1", "beta")] == ("not-satisfied", "error")
    assert states[("1.3", "beta")] == ("not-satisfied", "waived")
    reviewed = result["reviewed-controls"]["control-selections"][0]["include-controls"]
    assert [c["control-id"] for c in reviewed] == [f"pci-1.{n}" for n in range(1, 7)]


def test_back_matter_carries_the_pack_files_and_inputs_with_hashes(
    document: tuple[Path, Obj],
) -> None:
    resources = body(document)["back-matter"]["resources"]
    by_title = {r["title"]: r for r in resources}
    for entry in PACK_FILES:
        [link] = by_title[entry["path"]]["rlinks"]
        assert link["href"] == entry["path"]  # relative to the document's folder
        assert link["hashes"] == [{"algorithm": "SHA-256", "value": entry["sha256"]}]
    waivers = by_title["The waivers file in force"]["rlinks"][0]
    assert waivers["href"] == "inputs/waivers.yaml"  # the pack's copy, beside the document
    assert waivers["hashes"][0]["value"] == hashlib.sha256(WAIVERS.read_bytes()).hexdigest()
    catalog = next(r for r in resources if r["title"].startswith("OSCAL catalogue"))
    shipped = hashlib.sha256(oscal_catalog.shipped_path().read_bytes()).hexdigest()
    assert catalog["rlinks"][0]["hashes"][0]["value"] == shipped
    plan = body(document)["import-ap"]["href"].removeprefix("#")
    assert plan in {r["uuid"] for r in resources}


def test_without_a_pack_no_evidence_files_are_named(tmp_path: Path) -> None:
    inputs = provenance.record({}, provenance.catalogue_files())
    path = tmp_path / "ar.json"
    oscal.write(path, run_view(), inputs, None)
    data = json.loads(path.read_text())
    assert oscal_schema.errors(data) == []
    titles = {r["title"] for r in data["assessment-results"]["back-matter"]["resources"]}
    assert "results.json" not in titles
    for obs in data["assessment-results"]["results"][0]["observations"]:
        assert "relevant-evidence" not in obs


# ------------------------------------------------------------------ the shipped catalogue
def catalog() -> Obj:
    return json.loads(oscal_catalog.shipped_path().read_text())["catalog"]


def test_the_shipped_catalogue_is_what_the_data_gives() -> None:
    """Regenerate with kubepci/catalogue/oscal/generate.py after editing the catalogue."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("oscal_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    assert generate.expected(oscal_catalog.shipped_path()) == (
        oscal_catalog.shipped_path().read_bytes()
    ), "stale: run .venv/bin/python kubepci/catalogue/oscal/generate.py"


def test_the_catalogue_validates_with_trestle_and_the_nist_schema() -> None:
    model = Catalog.oscal_read(oscal_catalog.shipped_path())
    assert model is not None and trestle_valid(model)
    assert oscal_schema.errors({"catalog": catalog()}, oscal_schema.CATALOG) == []


def test_the_catalogue_matches_the_catalogue_data() -> None:
    cat = catalogue.load()
    [group] = catalog()["groups"]
    controls = {c["id"]: c for c in group["controls"]}
    assert list(controls) == [f"pci-{i}" for i in cat.items]
    for item in cat.items.values():
        control = controls[f"pci-{item.id}"]
        parts = {p["name"]: p for p in control["parts"]}
        assert control["title"] == item.title
        assert parts["statement"]["prose"] == item.best_practice
        assert parts["threat"]["prose"] == item.threat
        dss = [p["value"] for p in control["props"] if p["name"] == "pci-dss-v4.0.1-requirement"]
        assert dss == list(item.dss)
        recs = {c["id"]: c for c in control["controls"]}
        expected = [r.id for r in cat.recommendations.values() if r.item == item.id]
        assert list(recs) == [f"pci-{r}" for r in expected]
        for rec_id in expected:
            rec_parts = recs[f"pci-{rec_id}"]["parts"]
            assert rec_parts[0]["prose"] == cat.recommendations[rec_id].text
            checks = {
                next(p["value"] for p in part["props"] if p["name"] == "check-id"): part
                for part in rec_parts[1:]
            }
            assert list(checks) == [c.id for c in cat.checks_of(rec_id)]
            for check_id, part in checks.items():
                method = next(p for p in part["props"] if p["name"] == "method")
                assert method["value"] == methods()[check_id]
                assert method["ns"] == oscal_catalog.RMF_NS
                assert part["title"] == cat.checks[check_id].title
