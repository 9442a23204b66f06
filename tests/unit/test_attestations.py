"""Attestations: the file's validation, how a manual ending becomes attested (or stays
manual once expired), the register, and the shipped example."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from kubepci import catalogue
from kubepci.attestations import (
    AttestationError,
    judge,
    key,
    load,
    register,
)
from kubepci.report import assessor, htmlparts, results, summary
from kubepci.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "attestations.yaml"
KNOWN = set(catalogue.load().checks)
TODAY = dt.date(2026, 6, 1)
DOC = b"custody statement, signed\n"


def entry(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "check": "break-glass-custody",
        "statement": "admin.conf is in the vault",
        "attested_by": "jane.doe@example.com",
        "role": "Information Security Officer",
        "date": "2026-05-01",
        "expires": "2026-12-31",
        "document": {"ref": "custody.txt", "sha256": hashlib.sha256(DOC).hexdigest()},
    }
    base.update(changes)
    return base


def write(folder: Path, *entries: dict[str, Any], doc: bytes | None = DOC) -> Path:
    if doc is not None:
        (folder / "custody.txt").write_bytes(doc)
    path = folder / "attestations.yaml"
    path.write_text(yaml.safe_dump(list(entries)), encoding="utf-8")
    return path


def loaded(tmp_path: Path, *entries: dict[str, Any], today: dt.date = TODAY) -> list[Any]:
    return load(str(write(tmp_path, *entries)), KNOWN, today)


# ------------------------------------------------------------------ the shipped example
def test_example_covers_both_person_only_checks_until_end_of_2027() -> None:
    found = load(str(EXAMPLE), KNOWN, today=dt.date(2027, 12, 31))
    assert sorted(a.check for a in found) == ["break-glass-custody", "mfa-at-identity-provider"]
    for attestation in found:
        assert attestation.in_force(dt.date(2027, 12, 31)), attestation.check
        record = attestation.to_json()
        # Its documents sit beside it: their SHA-256 was checked, not taken on trust.
        assert record["document"]["verified"] is True, record["document"]
        assert record["attested_by"] and record["role"] and record["statement"]


# ------------------------------------------------------------------ validation
def test_a_valid_file_loads_with_its_document_verified(tmp_path: Path) -> None:
    [attestation] = loaded(tmp_path, entry())
    record = attestation.to_json()
    assert record["cluster"] == "*"
    assert record["date"] == "2026-05-01" and record["expires"] == "2026-12-31"
    assert record["document"]["verified"] is True
    assert str(tmp_path / "custody.txt") in record["document"]["verification"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"check": "no-such-check"}, "unknown check id"),
        ({"attested_by": "  "}, "attested_by"),
        ({"role": None}, "role"),
        ({"statement": ""}, "statement"),
        ({"expires": "2026-04-30"}, "is before its date"),
        ({"date": "2026-06-02"}, "after today"),
        ({"date": "soon"}, "date"),
        ({"approved": "x"}, "unknown field approved"),
        ({"document": {"ref": "custody.txt"}}, "missing document.sha256"),
        ({"document": {"ref": "custody.txt", "sha256": "abc"}}, "document.sha256"),
    ],
)
def test_bad_entries_are_usage_errors(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(AttestationError, match=message) as caught:
        loaded(tmp_path, entry(**changes))
    assert "entry 1" in str(caught.value)


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    broken = entry()
    del broken["expires"]
    with pytest.raises(AttestationError, match="missing expires"):
        loaded(tmp_path, broken)


def test_a_document_changed_after_attestation_stops_the_run(tmp_path: Path) -> None:
    path = write(tmp_path, entry())
    (tmp_path / "custody.txt").write_bytes(DOC + b"edited later\n")
    with pytest.raises(AttestationError, match="changed after it was attested"):
        load(str(path), KNOWN, TODAY)


def test_a_document_that_is_not_a_local_file_is_recorded_unverified(tmp_path: Path) -> None:
    remote = entry(document={"ref": "https://dms.example.com/doc/42", "sha256": "a" * 64})
    absent = entry(document={"ref": "not-here.pdf", "sha256": "B" * 64})
    first, second = load(str(write(tmp_path, remote, absent, doc=None)), KNOWN, TODAY)
    assert first.to_json()["document"]["verified"] is False
    assert "not a local file" in first.to_json()["document"]["verification"]
    assert second.to_json()["document"]["verified"] is False
    assert second.document.sha256 == "b" * 64  # normalised to lower case


@pytest.mark.parametrize(
    ("text", "message"),
    [("check: x\n", "expected a YAML list"), ("- [unclosed\n", "not valid YAML"), ("- 3\n", "")],
)
def test_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AttestationError, match=message or "expected a mapping"):
        load(str(path), KNOWN, TODAY)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AttestationError, match="file not found"):
        load(str(tmp_path / "none.yaml"), KNOWN, TODAY)


def test_an_empty_file_attests_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("", encoding="utf-8")
    assert load(str(path), KNOWN, TODAY) == []


# ------------------------------------------------------------------ judging a manual ending
def test_an_attestation_in_force_makes_the_check_attested(tmp_path: Path) -> None:
    given = loaded(tmp_path, entry())
    outcome = judge(given, "break-glass-custody", "prod", "only its owner can attest", TODAY)
    assert outcome.verdict is Verdict.ATTESTED
    assert outcome.reason.startswith("attested by jane.doe@example.com (Information Security")
    assert "valid until 2026-12-31" in outcome.reason
    assert outcome.attestation is not None and outcome.attestation["status"] == "in force"


def test_valid_through_its_expiry_day_then_manual_again_saying_so(tmp_path: Path) -> None:
    given = loaded(tmp_path, entry())
    last_day = judge(given, "break-glass-custody", "prod", "why", dt.date(2026, 12, 31))
    assert last_day.verdict is Verdict.ATTESTED
    after = judge(given, "break-glass-custody", "prod", "only its owner", dt.date(2027, 1, 1))
    assert after.verdict is Verdict.MANUAL
    assert after.reason.startswith("only its owner; the attestation by jane.doe@example.com")
    assert "expired on 2026-12-31: renew it" in after.reason
    assert after.attestation is not None and after.attestation["status"] == "expired"


def test_no_attestation_for_the_check_or_cluster_leaves_it_manual(tmp_path: Path) -> None:
    given = loaded(tmp_path, entry(cluster="prod-*"))
    other_check = judge(given, "mfa-at-identity-provider", "prod-1", "why", TODAY)
    other_cluster = judge(given, "break-glass-custody", "staging", "why", TODAY)
    for outcome in (other_check, other_cluster):
        assert (outcome.verdict, outcome.reason, outcome.attestation) == (
            Verdict.MANUAL,
            "why",
            None,
        )
    assert judge(given, "break-glass-custody", "prod-1", "why", TODAY).verdict is Verdict.ATTESTED


def test_the_attestation_in_force_wins_over_an_expired_one(tmp_path: Path) -> None:
    old = entry(date="2025-01-01", expires="2025-12-31", attested_by="old@example.com")
    given = loaded(tmp_path, old, entry())
    outcome = judge(given, "break-glass-custody", "prod", "why", TODAY)
    assert outcome.verdict is Verdict.ATTESTED and "jane.doe" in outcome.reason


# ------------------------------------------------------------------ register and outputs
def test_register_says_applied_unused_or_expired(tmp_path: Path) -> None:
    given = loaded(
        tmp_path,
        entry(),
        entry(check="mfa-at-identity-provider"),
        entry(check="external-authenticator", date="2026-01-01", expires="2026-02-01"),
    )
    applied = judge(given, "break-glass-custody", "prod", "why", TODAY).attestation
    # mfa-at-identity-provider did not run; external-authenticator was judged (passed):
    # an attestation never stands in for a judged verdict.
    found: list[dict[str, Any]] = [
        {
            "check_id": "break-glass-custody",
            "cluster": "prod",
            "verdict": "attested",
            "attestation": applied,
        },
        {"check_id": "external-authenticator", "cluster": "prod", "verdict": "passed"},
    ]
    statuses = [(r["check"], r["status"], r["applied_to"]) for r in register(given, found, TODAY)]
    assert statuses == [
        (
            "break-glass-custody",
            "applied",
            [{"check_id": "break-glass-custody", "cluster": "prod"}],
        ),
        ("mfa-at-identity-provider", "unused", []),
        ("external-authenticator", "expired", []),
    ]
    assert key(applied or {}) == key(given[0].to_json())
    assert [r["ended"] for r in register(given, found, TODAY)] == [
        {"prod": "attested"},
        {},
        {"prod": "passed"},
    ]


def test_junit_properties_carry_the_attestation(tmp_path: Path) -> None:
    [given] = loaded(tmp_path, entry())
    payload = {
        "check_id": "break-glass-custody",
        "cluster": "prod",
        "verdict": "attested",
        "pci_items": ["1.2", "1.3"],
        "recommendations": [{"id": "1.2.1", "text": "t"}],
        "dss": ["8.2.1"],
        "severity": "high",
        "attestation": {**given.to_json(), "status": "in force"},
    }
    props = dict(results.junit_properties(payload))
    assert props["verdict"] == "attested"
    assert props["attested_by"] == "jane.doe@example.com"
    assert props["attestation_role"] == "Information Security Officer"
    assert (props["attestation_date"], props["attestation_expires"]) == ("2026-05-01", "2026-12-31")
    assert props["attestation_document_sha256"] == hashlib.sha256(DOC).hexdigest()


def _config(**option: Any) -> Any:
    values = {"attestations": None, "baseline": None, "fail_on_new_only": False, **option}
    return SimpleNamespace(option=SimpleNamespace(**values), stash=pytest.Stash())


def test_the_option_is_validated_into_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, entry(check="no-such-check"))
    with pytest.raises(pytest.UsageError, match="unknown check id"):
        assessor.start(_config(attestations=str(path)))
    good = write(tmp_path, entry())
    config = _config(attestations=str(good))
    assessor.start(config)
    assert [a.check for a in config.stash[assessor.ATTESTATIONS]] == ["break-glass-custody"]


def test_attested_rolls_up_below_manual_and_above_passed_and_is_a_limitation() -> None:
    assert summary.rollup(["passed", "attested"]) == "attested"
    assert summary.rollup(["attested", "manual"]) == "manual"
    assert summary.rollup(["attested", "waived"]) == "waived"
    found: list[dict[str, Any]] = [
        {
            "check_id": "break-glass-custody",
            "cluster": "prod",
            "verdict": "attested",
            "pci_items": ["1.2", "1.3"],
            "reason": "attested by jane",
        }
    ]
    limits = summary.limitations(catalogue.load(), found, {"clusters": []}, ["prod"])
    assert {"kind": "attested", "check_id": "break-glass-custody"}.items() <= limits[0].items()


def test_the_check_html_shows_the_attestation(tmp_path: Path) -> None:
    [given] = loaded(tmp_path, entry(statement="vault <custody>"))
    outcome = judge([given], "break-glass-custody", "prod", "why", TODAY)
    payload = {
        "check_id": "break-glass-custody",
        "cluster": "prod",
        "verdict": outcome.verdict.value,
        "reason": outcome.reason,
        "attestation": outcome.attestation,
    }
    text = htmlparts.check_html(payload)
    assert "kp-v-attested" in text and "<b>Attestation</b>" in text
    assert "vault &lt;custody&gt;" in text and "vault <custody>" not in text
    assert hashlib.sha256(DOC).hexdigest() in text
    assert "SHA-256 verified against" in text
