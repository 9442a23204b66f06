"""The API server's audit log on a node's filesystem (``--node-root``): CSR writes only.

The log file is ``--audit-log-path``; its rotated backups sit beside it, named by
lumberjack (k8s.io/apiserver/plugin/pkg/audit/log, gopkg.in/natefinch/lumberjack.v2) as
``<name>-<time><ext>``, gzipped when ``--audit-log-compress`` is set. Only events about
certificatesigningrequests are kept, and of them only who did what to which CSR when,
plus the CSR's spec and conditions when the audit level recorded the request. Nothing
else in the log (which may hold any request the policy records) is kept or returned.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import orjson

Obj = dict[str, Any]
NEEDLE = b'"certificatesigningrequests"'
READ_VERBS = (b'"verb":"get"', b'"verb":"list"', b'"verb":"watch"')
SPEC_FIELDS = ("request", "signerName", "usages", "expirationSeconds")


@dataclass(frozen=True)
class AuditLogRead:
    """What was read: the CSR write events, and how far back the files reach."""

    path: str  # the log as the flag names it
    files: tuple[str, ...]  # oldest first, as read under the node root
    events: tuple[Obj, ...]
    earliest: str  # the oldest event's timestamp in any file read
    problems: tuple[str, ...] = ()

    def coverage(self) -> str:
        if not self.files:
            return f"no audit log file at {self.path}"
        span = f"reaches back to {self.earliest}" if self.earliest else "holds no events"
        return (
            f"the API server audit log {self.path} ({len(self.files)} file(s)) {span}: "
            f"{len(self.events)} CSR write(s)"
        )

    def to_json(self) -> Obj:
        return {
            "path": self.path,
            "files": list(self.files),
            "earliest": self.earliest,
            "csr_writes": len(self.events),
            "problems": list(self.problems),
        }

    def to_record(self) -> Obj:
        """Everything read, the trimmed events included: what a replay judges."""
        return {**self.to_json(), "events": list(self.events)}

    @classmethod
    def from_record(cls, raw: Obj) -> AuditLogRead:
        return cls(
            raw["path"],
            tuple(raw["files"]),
            tuple(raw["events"]),
            raw["earliest"],
            tuple(raw["problems"]),
        )


def _open(path: Path) -> IO[bytes]:
    return cast(IO[bytes], gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb"))


def log_files(log: Path) -> list[Path]:
    """The log and its rotated backups, oldest first (backup names sort by time)."""
    stem, ext = log.stem, log.suffix
    backups = sorted(
        p
        for p in log.parent.glob(f"{stem}-*{ext}*")
        if p.is_file() and (p.name.endswith(ext) or p.name.endswith(ext + ".gz"))
    )
    return backups + ([log] if log.is_file() else [])


def _trim(event: Obj) -> Obj:
    ref = event.get("objectRef") or {}
    out: Obj = {
        "verb": event.get("verb"),
        "stage": event.get("stage"),
        "requestURI": event.get("requestURI"),
        "stageTimestamp": event.get("stageTimestamp"),
        "objectRef": {k: ref.get(k) for k in ("resource", "name", "subresource") if ref.get(k)},
        "user": {
            "username": (event.get("user") or {}).get("username", ""),
            "groups": list((event.get("user") or {}).get("groups") or []),
        },
        "responseStatus": {"code": (event.get("responseStatus") or {}).get("code")},
    }
    impersonated = event.get("impersonatedUser")
    if isinstance(impersonated, dict):
        out["impersonatedUser"] = {
            "username": impersonated.get("username", ""),
            "groups": list(impersonated.get("groups") or []),
        }
    body = event.get("requestObject")
    if isinstance(body, dict):
        kept: Obj = {}
        if isinstance(body.get("spec"), dict):
            kept["spec"] = {k: body["spec"][k] for k in SPEC_FIELDS if k in body["spec"]}
        name = (body.get("metadata") or {}).get("name")
        if name:
            kept["metadata"] = {"name": name}
        conditions = (body.get("status") or {}).get("conditions")
        if isinstance(conditions, list):
            kept["status"] = {
                "conditions": [{"type": c.get("type")} for c in conditions if isinstance(c, dict)]
            }
        out["requestObject"] = kept
    return out


def _events(path: Path, problems: list[str]) -> Iterator[tuple[str, Obj | None]]:
    """(timestamp of the line, the CSR write or None) for each event line of one file."""
    try:
        with _open(path) as stream:
            first = True
            for line in stream:
                wanted = NEEDLE in line and not any(v in line for v in READ_VERBS)
                if not (wanted or first):
                    continue
                try:
                    event = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(event, dict):
                    continue
                first = False
                stamp = str(event.get("requestReceivedTimestamp") or "")
                ref = event.get("objectRef") or {}
                keep = wanted and ref.get("resource") == "certificatesigningrequests"
                yield stamp, (_trim(event) if keep else None)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        problems.append(f"{path}: {getattr(exc, 'strerror', None) or type(exc).__name__}")


def read_csr_writes(node_root: str, log_path: str) -> AuditLogRead:
    """Every CSR write event in the log and its backups under ``node_root``."""
    log = Path(node_root) / log_path.lstrip("/")
    problems: list[str] = []
    files = log_files(log)
    events: list[Obj] = []
    earliest = ""
    for path in files:
        for stamp, event in _events(path, problems):
            if stamp and (not earliest or stamp < earliest):
                earliest = stamp
            if event is not None:
                events.append(event)
    events.sort(key=lambda e: str(e.get("stageTimestamp") or ""))
    return AuditLogRead(
        log_path, tuple(str(p) for p in files), tuple(events), earliest, tuple(problems)
    )
