"""Re-perform an audit from its evidence pack: ``--from-evidence DIR``.

An evidence pack's ``raw/<cluster>/`` directories are the stores the checks judged from
(every list, probe answer, review answer, node file record and the kubeconfig's recorded
credential facts), and ``replay.json`` records what else a verdict depends on: the run's
date (waiver expiry), its settings and waivers, and the suite version. Replaying runs the
same checks over those records with a read-only store, so no cluster, node or network is
contacted: a record the pack lacks is an error of the replayed check, never a fetch.

A pack is replayed only by the suite version that wrote it (a rule changed since may judge
the same records differently, and that would be a different audit), and only when every
file still matches the manifest's SHA-256.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import kubepci
from kubepci.access.cluster import TARGET_RECORD
from kubepci.access.kubeconfig import Target
from kubepci.attestations import Attestation, from_record
from kubepci.facade import Settings
from kubepci.records.credentials import credential_from_json
from kubepci.report import pack
from kubepci.report.run import REPLAY_FORMAT as FORMAT
from kubepci.waivers import Waiver, WaiverError, parse

Obj = dict[str, Any]
RECORD = "replay.json"


class ReplayError(ValueError):
    """The directory cannot be replayed; the message says why and what to do."""


@dataclass(frozen=True)
class Replay:
    """What a replay needs besides the stores: who was audited, how, and when."""

    directory: Path
    targets: list[Target]
    stores: dict[str, Path]  # target id -> raw/<store>
    settings: Settings
    waivers: list[Waiver]
    started_utc: str
    attestations: list[Attestation] = field(default_factory=list)
    # The day the recorded run judged waivers and attestations on; a replay judges the same.
    judged_on: dt.date | None = None


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReplayError(f"{path}: missing; {what}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReplayError(f"{path}: not readable JSON ({exc})") from None


def load(directory: Path, known_checks: set[str]) -> Replay:
    """The pack at ``directory``, checked (intact, this suite version) and ready to judge."""
    if not directory.is_dir():
        raise ReplayError(f"--from-evidence {directory}: no such directory")
    if not (directory / pack.MANIFEST).is_file():
        raise ReplayError(
            f"--from-evidence {directory}: no {pack.MANIFEST}; not an evidence pack "
            "(write one with --evidence-dir)"
        )
    problems = pack.verify(directory)
    if problems:
        raise ReplayError(
            f"--from-evidence {directory}: the pack does not match its manifest, so it is not "
            "the evidence that was judged: " + "; ".join(problems[:5])
        )
    document = _read_json(
        directory / RECORD, "the pack was written by a kubepci without replay support"
    )
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ReplayError(f"{directory / RECORD}: not a {FORMAT} record")
    written_by = str(document.get("suite_version", "?"))
    if written_by != kubepci.__version__:
        raise ReplayError(
            f"--from-evidence {directory}: written by kubepci {written_by}; this is kubepci "
            f"{kubepci.__version__}, whose rules may judge the same evidence differently. "
            f"Replay it with kubepci {written_by}."
        )
    try:
        day = dt.date.fromisoformat(str(document["waivers_checked_on"]))
        waivers = parse(document["waivers"] or None, known_checks, day, f"of {directory}")
        settings = Settings(
            token_lifetime_limit=int(document["settings"]["token_lifetime_limit"]),
            node_root=str(document["settings"]["node_root"]),
        )
        clusters = [(str(c["id"]), str(c["store"])) for c in document["clusters"]]
        attested = [from_record(a) for a in document.get("attestations") or []]
    except (KeyError, TypeError, ValueError, WaiverError, ValidationError) as exc:
        raise ReplayError(f"{directory / RECORD}: malformed ({exc})") from None
    targets, stores = [], {}
    for target_id, store in clusters:
        raw_dir = directory / pack.RAW / store
        if not raw_dir.is_dir() or Path(store).name != store:
            raise ReplayError(f"{directory}: no raw exports for cluster {target_id} ({store})")
        targets.append(_target(raw_dir / f"{TARGET_RECORD}.json", target_id))
        stores[target_id] = raw_dir
    return Replay(
        directory,
        targets,
        stores,
        settings,
        waivers,
        str(document.get("started_utc", "")),
        attested,
        day,
    )


def _target(path: Path, target_id: str) -> Target:
    raw = _read_json(path, "the pack does not record the audited kubeconfig entry")
    try:
        return Target(
            id=target_id,
            kubeconfig=str(raw["kubeconfig"]),
            context=str(raw["context"]),
            server=str(raw["server"]),
            user=str(raw["user"]),
            credential=credential_from_json(raw["credential"]),
        )
    except (KeyError, TypeError) as exc:
        raise ReplayError(f"{path}: malformed target record ({exc})") from None


def cluster_count(directory: Path) -> int:
    """How many clusters the pack at ``directory`` holds (for ``-n auto``)."""
    document = _read_json(directory / RECORD, "not a replayable evidence pack")
    try:
        return len(document["clusters"])
    except (KeyError, TypeError):
        raise ReplayError(f"{directory / RECORD}: malformed (no clusters)") from None
