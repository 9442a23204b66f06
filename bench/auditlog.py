"""Count the suite's API requests from the API server's audit log.

Each JSON line is one audit event. A request is counted once, at stage
ResponseComplete, when its user is the suite's identity and its stageTimestamp lies in
the run's window; the key is ``verb resource[/subresource]`` (``verb /path`` for
non-resource URLs), e.g. ``list pods``, ``create selfsubjectreviews``,
``get nodes/proxy``, ``get /version``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

AUDIT_DIR = Path("/var/log/kubernetes/audit")
COMPLETE = "ResponseComplete"


def parse_time(text: str) -> dt.datetime:
    """RFC 3339 with microseconds and a Z, as the audit log writes it."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def request_key(event: dict) -> str:
    verb = str(event.get("verb", "?"))
    ref = event.get("objectRef") or {}
    resource = str(ref.get("resource") or "")
    if resource:
        sub = ref.get("subresource")
        return f"{verb} {resource}/{sub}" if sub else f"{verb} {resource}"
    path = str(event.get("requestURI", "?")).split("?", 1)[0]
    return f"{verb} {path}"


def count_requests(
    lines: Iterable[str],
    username: str,
    start: dt.datetime,
    end: dt.datetime,
    source_ip: str = "",
) -> Counter[str]:
    """Requests by ``username`` (from ``source_ip``, if given) that completed within
    [start, end], keyed by verb and resource."""
    counts: Counter[str] = Counter()
    needle = json.dumps(username)  # cheap prefilter before parsing the line
    for line in lines:
        if needle not in line or source_ip not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("stage") != COMPLETE:
            continue
        if (event.get("user") or {}).get("username") != username:
            continue
        if source_ip and source_ip not in (event.get("sourceIPs") or []):
            continue
        stamp = event.get("stageTimestamp")
        if not stamp or not start <= parse_time(stamp) <= end:
            continue
        counts[request_key(event)] += 1
    return counts


def list_pages(counts: Counter[str]) -> int:
    return sum(n for key, n in counts.items() if key.startswith("list "))


def per_object(counts: Counter[str]) -> Counter[str]:
    """Requests that are not collection lists: each names one object or one path."""
    return Counter({k: n for k, n in counts.items() if not k.startswith("list ")})


@dataclass(frozen=True)
class Mark:
    """Where the audit log stood when a run began (inode and size of audit.log)."""

    directory: Path
    inode: int
    offset: int
    at: float


def mark(directory: Path = AUDIT_DIR) -> Mark:
    path = directory / "audit.log"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Mark(directory, -1, 0, 0.0)
    return Mark(directory, stat.st_ino, stat.st_size, stat.st_mtime)


def lines_since(start: Mark) -> Iterator[str]:
    """Every line written since ``start``, across a rotation of audit.log."""
    files = sorted(start.directory.glob("audit*.log"), key=lambda p: p.stat().st_mtime)
    for path in files:
        stat = path.stat()
        if stat.st_ino == start.inode:
            offset = start.offset
        elif stat.st_mtime >= start.at:
            offset = 0
        else:
            continue
        with path.open("rb") as handle:
            handle.seek(offset)
            for raw in handle:
                yield raw.decode("utf-8", "replace")


def readable(directory: Path = AUDIT_DIR) -> bool:
    return os.access(directory / "audit.log", os.R_OK)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
