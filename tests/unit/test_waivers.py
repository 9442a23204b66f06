"""Waivers: validated before any cluster is contacted, applied only to findings made."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kubepci import catalogue
from kubepci.verdict import Finding
from kubepci.waivers import Waiver, WaiverError, load, parse, split
from tests.builders import write_yaml

TODAY = dt.date(2026, 6, 1)
KNOWN = {"service-account-privileges", "pod-token-automount"}


def entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "check": "service-account-privileges",
        "selector": {"kind": "ServiceAccount", "namespace": "kubepci", "name": "auditor"},
        "class": "read-secrets",
        "justification": "needs list secrets for metadata-only legacy token detection",
        "approver": "jane.doe@example.com",
        "expires": dt.date(2026, 12, 31),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def parse_one(**overrides: Any) -> list[Waiver]:
    return parse([entry(**overrides)], KNOWN, TODAY, "w.yaml")


def error_of(document: Any) -> str:
    with pytest.raises(WaiverError) as error:
        parse(document, KNOWN, TODAY, "w.yaml")
    message = str(error.value)
    assert message.startswith("waivers w.yaml")
    assert "\n" not in message
    return message


def test_valid_waiver() -> None:
    (waiver,) = parse_one(justification="  spaced  \n", approver=" jane ")
    assert waiver == Waiver(
        "service-account-privileges",
        "ServiceAccount",
        "kubepci",
        "auditor",
        "read-secrets",
        "spaced",
        "jane",
        dt.date(2026, 12, 31),
    )
    assert waiver.to_json()["expires"] == "2026-12-31"
    assert waiver.to_json()["selector"] == {
        "kind": "ServiceAccount",
        "namespace": "kubepci",
        "name": "auditor",
    }
    assert waiver.to_json()["class"] == "read-secrets"


def test_empty_document_means_no_waivers() -> None:
    assert parse(None, KNOWN, TODAY, "w.yaml") == []
    assert parse([], KNOWN, TODAY, "w.yaml") == []


def test_expires_today_still_applies_and_datetime_and_text_are_dates() -> None:
    assert parse_one(expires=TODAY)[0].expires == TODAY
    assert parse_one(expires=dt.datetime(2026, 7, 1, 12, 0))[0].expires == dt.date(2026, 7, 1)
    assert parse_one(expires="2026-07-02")[0].expires == dt.date(2026, 7, 2)


@pytest.mark.parametrize(
    "field", ["check", "selector", "class", "justification", "approver", "expires"]
)
def test_missing_field(field: str) -> None:
    assert f"entry 1: missing {field}" in error_of([entry(**{field: None})])


@pytest.mark.parametrize("field", ["class", "justification", "approver"])
def test_blank_class_justification_or_approver_is_missing(field: str) -> None:
    # Regression: whitespace passed the check and left a waiver that names no reason or
    # no approver.
    assert f"missing {field}" in error_of([entry(**{field: "   "})])


def test_class_is_required_even_to_accept_every_class() -> None:
    # A waiver that names no class would cover any new finding on the object; accepting
    # every class takes an explicit "*".
    assert error_of([entry(**{"class": None})]).endswith("entry 1: missing class")
    assert error_of([entry(), entry(**{"class": ""})]).endswith("entry 2: missing class")
    assert parse_one(**{"class": "*"})[0].finding_class == "*"
    assert parse_one(**{"class": " read-secrets "})[0].finding_class == "read-secrets"


@pytest.mark.parametrize("value", [["read-secrets", "node-proxy"], {"a": 1}, 5, True])
def test_class_must_be_one_text(value: Any) -> None:
    message = error_of([entry(**{"class": value})])
    assert "entry 1: 'class' must be one finding class or glob" in message
    assert repr(value) in message


def test_unquoted_star_class_in_a_file_says_to_quote_it(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "- check: service-account-privileges\n  selector: {kind: Pod, name: x}\n"
        "  class: *\n  justification: j\n  approver: a\n  expires: 2026-12-31\n",
        encoding="utf-8",
    )
    with pytest.raises(WaiverError) as error:
        load(str(path), KNOWN, TODAY)
    assert str(error.value) == (
        f'waivers {path}: not valid YAML (a glob starting with * must be quoted: class: "*")'
    )


def test_unknown_field() -> None:
    assert "unknown field(s) reason, ticket" in error_of([entry(ticket="X-1", reason="r")])


def test_unknown_check_id() -> None:
    assert "unknown check id 'no-such-check'" in error_of([entry(check="no-such-check")])


def test_unknown_selector_field_and_incomplete_selector() -> None:
    bad = {"kind": "Pod", "name": "x", "label": "a"}
    assert "unknown selector field(s) label" in error_of([entry(selector=bad)])
    assert "selector needs at least kind and name" in error_of([entry(selector={"kind": "Pod"})])
    assert "selector needs at least kind and name" in error_of([entry(selector="Pod/x")])


@pytest.mark.parametrize("value", ["31/12/2026", "2026-13-01", "soon"])
def test_bad_date(value: str) -> None:
    message = error_of([entry(expires=value)])
    assert "'expires' must be a date YYYY-MM-DD" in message
    assert repr(value) in message


def test_expired_names_the_entry_and_date() -> None:
    message = error_of([entry(), entry(expires=dt.date(2026, 5, 31))])
    assert "entry 2 (check service-account-privileges) expired on 2026-05-31" in message


def test_document_shape() -> None:
    assert "expected a YAML list" in error_of({"check": "x"})
    assert "entry 1: expected a mapping" in error_of(["just text"])


def test_load_from_file(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "waivers.yaml", [entry(expires="2026-12-31")])
    (waiver,) = load(str(path), KNOWN, TODAY)
    assert waiver.name == "auditor"
    with pytest.raises(WaiverError, match="file not found"):
        load(str(tmp_path / "none.yaml"), KNOWN, TODAY)
    broken = tmp_path / "broken.yaml"
    broken.write_text("- check: [\n", encoding="utf-8")
    with pytest.raises(WaiverError, match="not valid YAML"):
        load(str(broken), KNOWN, TODAY)


def test_shipped_example_is_valid_against_the_catalogue() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "waivers.yaml"
    waivers = load(str(example), set(catalogue.load().checks), dt.date(2026, 1, 1))
    assert waivers


# ----------------------------------------------------------------------------- split


def test_split_with_globs() -> None:
    (any_bot,) = parse_one(selector={"kind": "ServiceAccount", "namespace": "*", "name": "*-bot"})
    findings = [
        Finding("ServiceAccount", "payments", "deploy-bot", "list secrets", "read-secrets"),
        Finding("ServiceAccount", "payments", "default", "list secrets", "read-secrets"),
        Finding("Group", "", "ci-bot", "list secrets", "read-secrets"),
    ]
    open_findings, waived = split("service-account-privileges", findings, [any_bot])
    assert [f.name for f in open_findings] == ["default", "ci-bot"]
    assert waived == [(findings[0], any_bot)]


def test_split_only_for_the_waived_check() -> None:
    (waiver,) = parse_one(selector={"kind": "*", "namespace": "*", "name": "*"}, **{"class": "*"})
    finding = Finding("Pod", "shop", "web", "token mounted", "automount")
    assert split("pod-token-automount", [finding], [waiver]) == ([finding], [])


def test_selector_without_namespace_matches_cluster_scoped_findings_only() -> None:
    (waiver,) = parse_one(selector={"kind": "ServiceAccount", "name": "auditor"})
    namespaced = Finding("ServiceAccount", "kubepci", "auditor", "x", "read-secrets")
    cluster_scoped = Finding("ServiceAccount", "", "auditor", "x", "read-secrets")
    assert split("service-account-privileges", [namespaced, cluster_scoped], [waiver]) == (
        [namespaced],
        [(cluster_scoped, waiver)],
    )


def test_glob_is_case_sensitive() -> None:
    (waiver,) = parse_one(selector={"kind": "serviceaccount", "namespace": "*", "name": "*"})
    finding = Finding("ServiceAccount", "a", "b", "x", "read-secrets")
    assert split("service-account-privileges", [finding], [waiver]) == ([finding], [])
    (upper,) = parse_one(**{"class": "Read-Secrets"})
    auditor = Finding("ServiceAccount", "kubepci", "auditor", "x", "read-secrets")
    assert split("service-account-privileges", [auditor], [upper]) == ([auditor], [])


# ------------------------------------------------------------------------ finding class

AUDITOR_READS = Finding("ServiceAccount", "kubepci", "auditor", "list secrets", "read-secrets")
AUDITOR_ADMIN = Finding("ServiceAccount", "kubepci", "auditor", "wildcard", "admin-equivalent")
AUDITOR_NODES = Finding("ServiceAccount", "kubepci", "auditor", "nodes/proxy", "node-proxy")
AUDITOR_PLAIN = Finding("ServiceAccount", "kubepci", "auditor", "no class given")


def test_a_waiver_for_one_class_leaves_a_worse_finding_on_the_same_object_open() -> None:
    # The bug this fixes: a waiver for the accepted grant silenced any new finding on the
    # same object, however much worse.
    (waiver,) = parse_one()
    findings = [AUDITOR_READS, AUDITOR_ADMIN, AUDITOR_NODES]
    assert split("service-account-privileges", findings, [waiver]) == (
        [AUDITOR_ADMIN, AUDITOR_NODES],
        [(AUDITOR_READS, waiver)],
    )


def test_one_entry_per_accepted_class() -> None:
    reads, nodes = parse([entry(), entry(**{"class": "node-proxy"})], KNOWN, TODAY, "w.yaml")
    findings = [AUDITOR_READS, AUDITOR_ADMIN, AUDITOR_NODES]
    assert split("service-account-privileges", findings, [reads, nodes]) == (
        [AUDITOR_ADMIN],
        [(AUDITOR_READS, reads), (AUDITOR_NODES, nodes)],
    )


@pytest.mark.parametrize(
    ("glob", "covered"),
    [
        ("read-*", ["read-secrets"]),
        ("*-equivalent", ["admin-equivalent"]),
        ("node-prox?", ["node-proxy"]),
        ("[nr]*", ["read-secrets", "node-proxy"]),
        ("*", ["read-secrets", "admin-equivalent", "node-proxy", ""]),
    ],
)
def test_class_globs(glob: str, covered: list[str]) -> None:
    (waiver,) = parse_one(**{"class": glob})
    findings = [AUDITOR_READS, AUDITOR_ADMIN, AUDITOR_NODES, AUDITOR_PLAIN]
    _, waived = split("service-account-privileges", findings, [waiver])
    assert [f.finding_class for f, _ in waived] == covered


@pytest.mark.parametrize("glob", ["read-secrets", "read-*", "?*"])
def test_a_finding_without_class_is_covered_only_by_star(glob: str) -> None:
    (waiver,) = parse_one(**{"class": glob})
    assert split("service-account-privileges", [AUDITOR_PLAIN], [waiver]) == (
        [AUDITOR_PLAIN],
        [],
    )
