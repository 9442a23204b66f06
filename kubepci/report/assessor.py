"""What an assessor reads across runs, wired into the run: attestations applied to manual
checks, the waiver register, and drift against a baseline pack.

The logic lives in :mod:`kubepci.attestations`, :mod:`kubepci.report.waiver_register` and
:mod:`kubepci.report.drift`; this module loads their inputs before any cluster is
contacted, adds their sections to the run's view (results.json and the HTML report), and
prints them and sets the exit status at the end of the run (``--fail-on-new-only``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubepci import attestations, catalogue
from kubepci.report import drift, waiver_register
from kubepci.report.redact import redact_obj
from kubepci.report.results import STARTED
from kubepci.stash import REPLAYED, WAIVERS
from kubepci.verdict import CheckResult
from kubepci.waivers import Waiver

Obj = dict[str, Any]
ATTESTATIONS = pytest.StashKey[list[attestations.Attestation]]()
BASELINE = pytest.StashKey[drift.Baseline]()
# Findings listed one per line in the terminal; the rest are in results.json and the HTML.
TERMINAL_LINES = 20


def add_options(group: Any) -> None:
    """The options, added to the plugin's group (``pytest_addoption``)."""
    group.addoption(
        "--attestations",
        metavar="FILE",
        help="YAML list of attestations of manual checks: check, statement, attested_by, "
        "role, date, expires, document (ref, sha256); see examples/attestations.yaml",
    )
    group.addoption(
        "--baseline",
        metavar="PACK",
        help="a previous run's --evidence-dir: report new, resolved and unchanged findings "
        "against it, and the waivers and attestations that expired in between",
    )
    group.addoption(
        "--fail-on-new-only",
        action="store_true",
        default=False,
        help="with --baseline: exit 0 unless a finding is new since the baseline (exit 1); "
        "evidence that could not be collected still exits 2",
    )


def start(config: pytest.Config) -> None:
    """Load and validate --attestations and --baseline; called before any cluster contact."""
    option = config.option
    known = set(catalogue.load().checks)
    try:
        config.stash[ATTESTATIONS] = (
            attestations.load(option.attestations, known) if option.attestations else []
        )
    except attestations.AttestationError as exc:
        raise pytest.UsageError(str(exc)) from None
    if option.fail_on_new_only and not option.baseline:
        raise pytest.UsageError(
            "--fail-on-new-only needs --baseline PACK: new is judged against a previous pack"
        )
    # Only the controller reports drift; xdist workers need not read the baseline.
    if option.baseline and not hasattr(config, "workerinput"):
        try:
            config.stash[BASELINE] = drift.load(option.baseline)
        except drift.BaselineError as exc:
            raise pytest.UsageError(str(exc)) from None


def run_date(config: pytest.Config) -> dt.date:
    """The run's date (UTC at its start): what attestations and waivers are judged on."""
    replayed = config.stash.get(REPLAYED, None)
    if replayed is not None and replayed.judged_on is not None:
        return replayed.judged_on  # a replay judges on the recorded run's day
    started = config.stash.get(STARTED, None) or dt.datetime.now(dt.UTC)
    return started.astimezone(dt.UTC).date()


def attest(config: pytest.Config, result: CheckResult, reason: str) -> attestations.Outcome:
    """A check that ended manual: attested if an attestation in force covers it."""
    given = config.stash.get(ATTESTATIONS, [])
    outcome = attestations.judge(given, result.check_id, result.cluster, reason, run_date(config))
    result.attestation = outcome.attestation
    return outcome


def sections(config: pytest.Config, data: Obj) -> Obj:
    """The run view's waiver_register, attestations and drift (None without --baseline)."""
    today = run_date(config)
    results = data["results"]
    waivers: list[Waiver] = config.stash.get(WAIVERS, [])
    given: list[attestations.Attestation] = config.stash.get(ATTESTATIONS, [])
    added: Obj = {
        "waiver_register": waiver_register.build(waivers, results, today),
        "attestations": attestations.register(given, results, today),
    }
    baseline = config.stash.get(BASELINE, None)
    added["drift"] = (
        drift.compare(baseline.results, {**data, **added}, baseline.path, baseline.results_sha256)
        if baseline is not None
        else None
    )
    # The files' free text (justifications, statements) is the user's: redacted like all.
    return redact_obj(added)


def _finding(record: Obj) -> str:
    where = f"{record['namespace']}/{record['name']}" if record["namespace"] else record["name"]
    cls = f" [{record['class']}]" if record["class"] else ""
    return f"{record['check_id']} on {record['cluster']}: {record['kind']} {where}{cls}"


def drift_lines(section: Obj) -> list[str]:
    counts = section["counts"]
    base = section["baseline"]
    lines = [
        f"drift against {base['path']} (run of {base['started_utc'] or 'unknown date'}): "
        f"{counts['new']} new ({counts['new_open']} not waived), {counts['resolved']} resolved, "
        f"{counts['unchanged']} unchanged, {counts['not_reexamined']} not re-examined; "
        f"{counts['expired']} waiver(s)/attestation(s) expired in between"
    ]
    for word in ("new", "resolved", "not_reexamined"):
        records = section[word]
        for record in records[:TERMINAL_LINES]:
            lines.append(f"  {word.replace('_', ' ')}: {_finding(record)}")
        if len(records) > TERMINAL_LINES:
            lines.append(f"  … {len(records) - TERMINAL_LINES} more {word} (results.json)")
    for record in section["expired"]:
        lines.append(
            f"  expired: {record['type']} for {record['check']} by {record['by']},"
            f" on {record['expires']}"
        )
    return lines


def register_lines(register: list[Obj], attested: list[Obj]) -> list[str]:
    lines = []
    if register:
        n = waiver_register.counts(register)
        applied = sum(len(e["matched"]) for e in register)
        lines.append(
            f"waiver register: {len(register)} waiver(s): {n['applied']} applied "
            f"({applied} finding(s)), {n['stale']} stale, {n['not_judged']} not judged, "
            f"{n['expired']} expired"
        )
        for entry in register:
            if entry["status"] != "applied":
                selector = entry["selector"]
                lines.append(
                    f"  {entry['status'].replace('_', ' ')}: {entry['check']} "
                    f"{selector['kind']} {selector['namespace']}/{selector['name']} "
                    f"[{entry['class']}] (approver {entry['approver']}, expires {entry['expires']})"
                )
    if attested:
        statuses = [a["status"] for a in attested]
        lines.append(
            f"attestations: {len(attested)}: {statuses.count('applied')} applied, "
            f"{statuses.count('unused')} unused, {statuses.count('expired')} expired"
        )
        for entry in attested:
            if entry["status"] != "applied":
                ended = ", ".join(f"{v} on {c}" for c, v in (entry.get("ended") or {}).items())
                lines.append(
                    f"  {entry['status']}: {entry['check']} by {entry['attested_by']} "
                    f"({entry['role']}), expires {entry['expires']}"
                    + (f"; the check ended {ended}" if ended else "; the check did not run")
                )
    return lines


def exit_status(status: int, section: Obj | None, other_failures: int) -> int:
    """The exit status under ``--fail-on-new-only``: a run that failed (1) only on findings
    the baseline already had exits 0; a new finding not waived keeps 1. Any other status
    (2 evidence not collected, 3, 4, 5) and any failure that is not a finding stay as
    they are."""
    if status != pytest.ExitCode.TESTS_FAILED or section is None or other_failures:
        return status
    return int(pytest.ExitCode.OK) if section["counts"]["new_open"] == 0 else status
