"""Verdict rule for private key files: owned by root, no access for group or others."""

from __future__ import annotations

from kubepci.records.node_files import KeyFile
from kubepci.verdict import Finding


def key_file_findings(keys: list[KeyFile]) -> list[Finding]:
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
