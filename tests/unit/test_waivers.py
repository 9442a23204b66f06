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


def test_empty_document_means_no_waivers() -> None:
    assert parse(None, KNOWN, TODAY, "w.yaml") == []
    assert parse([], KNOWN, TODAY, "w.yaml") == []


def test_expires_today_still_applies_and_datetime_and_text_are_dates() -> None:
    assert parse_one(expires=TODAY)[0].expires == TODAY
    assert parse_one(expires=dt.datetime(2026, 7, 1, 12, 0))[0].expires == dt.date(2026, 7, 1)
    assert parse_one(expires="2026-07-02")[0].expires == dt.date(2026, 7, 2)


@pytest.mark.parametrize("field", ["check", "selector", "justification", "approver", "expires"])
def test_missing_field(field: str) -> None:
    assert f"entry 1: missing {field}" in error_of([entry(**{field: None})])


@pytest.mark.parametrize("field", ["justification", "approver"])
def test_blank_justification_or_approver_is_missing(field: str) -> None:
    # Regression: whitespace passed the check and left a waiver that names no reason or
    # no approver.
    assert f"missing {field}" in error_of([entry(**{field: "   "})])


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
        Finding("ServiceAccount", "payments", "deploy-bot", "cluster-admin equivalent"),
        Finding("ServiceAccount", "payments", "default", "cluster-admin equivalent"),
        Finding("Group", "", "ci-bot", "wildcard"),
    ]
    open_findings, waived = split("service-account-privileges", findings, [any_bot])
    assert [f.name for f in open_findings] == ["default", "ci-bot"]
    assert waived == [(findings[0], any_bot)]


def test_split_only_for_the_waived_check() -> None:
    (waiver,) = parse_one(selector={"kind": "*", "namespace": "*", "name": "*"})
    finding = Finding("Pod", "shop", "web", "token mounted")
    assert split("pod-token-automount", [finding], [waiver]) == ([finding], [])


def test_selector_without_namespace_matches_cluster_scoped_findings_only() -> None:
    (waiver,) = parse_one(selector={"kind": "ServiceAccount", "name": "auditor"})
    namespaced = Finding("ServiceAccount", "kubepci", "auditor", "x")
    cluster_scoped = Finding("ServiceAccount", "", "auditor", "x")
    assert split("service-account-privileges", [namespaced, cluster_scoped], [waiver]) == (
        [namespaced],
        [(cluster_scoped, waiver)],
    )


def test_glob_is_case_sensitive() -> None:
    (waiver,) = parse_one(selector={"kind": "serviceaccount", "namespace": "*", "name": "*"})
    finding = Finding("ServiceAccount", "a", "b", "x")
    assert split("service-account-privileges", [finding], [waiver]) == ([finding], [])
