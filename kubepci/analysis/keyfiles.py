"""Verdict rule for private key files: owned by root, no access for group or others."""

from __future__ import annotations

from collections.abc import Sequence

from kubepci.analysis.judgement import Draft, Judgement, drafted, manual
from kubepci.records.node_files import KeyFile
from kubepci.verdict import EvidenceUnavailable, Finding


def key_file_findings(keys: Sequence[KeyFile]) -> list[Finding]:
    findings = []
    for key in keys:
        problems = []
        if key.uid != 0:
            problems.append(f"owned by uid {key.uid}, not root")
        if key.mode & 0o077:
            problems.append(f"mode {oct(key.mode)} lets group or others access it")
        if problems:
            findings.append(Finding("File", "", "/" + key.path, "; ".join(problems)))
    return findings


def plan_key_inspection(node_root: str, filesystem: str, keys: str) -> Judgement:
    """A step: key files are read only under --node-root; without it a person attests.

    ``filesystem`` names whose filesystem it must be, ``keys`` what is inspected there.
    """
    if not node_root:
        return manual(f"pass --node-root ({filesystem}) to inspect {keys}")
    return Judgement()


def _judge_signing_keys(draft: Draft, keys: Sequence[KeyFile]) -> Judgement:
    """1.3.3: the CA and service-account signing keys are root-only."""
    draft.record("Signing keys inspected", [k.to_json() for k in keys], "objects")
    if not keys:
        raise EvidenceUnavailable("no signing key was inspected: nothing to judge")
    return draft.judge(key_file_findings(keys), passed=f"{len(keys)} signing key(s) are root-only")


judge_signing_keys = drafted(_judge_signing_keys)


def _judge_private_keys(draft: Draft, keys: Sequence[KeyFile]) -> Judgement:
    """1.4.2: every private key kubeadm and the kubelet write is root-only."""
    draft.record("Private key files inspected", [k.to_json() for k in keys], "objects")
    if not keys:
        raise EvidenceUnavailable("no private key file was inspected: nothing to judge")
    return draft.judge(
        key_file_findings(keys), passed=f"{len(keys)} private key file(s) are root-only"
    )


judge_private_keys = drafted(_judge_private_keys)
