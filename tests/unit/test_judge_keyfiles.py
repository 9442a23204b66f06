"""1.3.3 / 1.4.2 judged (kubepci.analysis.keyfiles): key files under --node-root are
root-only. Built on the recorded key file modes of both local profiles."""

from __future__ import annotations

import dataclasses

from kubepci.analysis.keyfiles import (
    judge_private_keys,
    judge_signing_keys,
    key_file_findings,
    plan_key_inspection,
)
from kubepci.records.node_files import KeyFile
from tests.support.judge_evidence import evidence, lines, recorded

COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")


def test_without_node_root_a_person_attests() -> None:
    step = plan_key_inspection("", "a node's filesystem", "private key files")
    assert step.manual == "pass --node-root (a node's filesystem) to inspect private key files"
    assert not plan_key_inspection("/", "a node's filesystem", "private key files").ends


def test_a_signing_key_readable_by_others_is_a_finding() -> None:
    judgement = judge_signing_keys(NONCOMPLIANT.key_files("signing"))
    assert lines(judgement) == [
        "File /etc/kubernetes/pki/sa.key: mode 0o644 lets group or others access it"
    ]
    assert len(evidence(judgement, "Signing keys inspected")) == 4


def test_root_only_keys_pass_and_are_counted() -> None:
    assert judge_signing_keys(COMPLIANT.key_files("signing")).passed == (
        "4 signing key(s) are root-only"
    )
    judgement = judge_private_keys(COMPLIANT.key_files("private"))
    assert judgement.passed == "19 private key file(s) are root-only"
    assert evidence(judgement, "Private key files inspected")[0]["mode"] == "0o600"


def test_private_keys_owned_by_another_user_are_findings() -> None:
    judgement = judge_private_keys(NONCOMPLIANT.key_files("private"))
    assert len(judgement.findings) == 2


def test_owner_and_mode_are_both_named() -> None:
    key = KeyFile("etc/kubernetes/pki/ca.key", 1000, 0, 0o640)
    assert key_file_findings([key, dataclasses.replace(key, uid=0, mode=0o600)]) == [
        key_file_findings([key])[0]
    ]
    assert key_file_findings([key])[0].detail == (
        "owned by uid 1000, not root; mode 0o640 lets group or others access it"
    )


def test_no_key_inspected_is_no_pass() -> None:
    """An empty inspection (only an edited pack can hold one: nodefs raises first) leaves
    no verdict rather than "0 key(s) are root-only"."""
    from kubepci.analysis.keyfiles import judge_private_keys, judge_signing_keys

    assert "no signing key was inspected" in judge_signing_keys([]).unavailable
    assert "no private key file was inspected" in judge_private_keys([]).unavailable
