"""Probe transcripts: what an unauthenticated request asked and what came back.

Records only: written by :mod:`kubepci.access.probes` and
:mod:`kubepci.access.service_proxy`, judged by :mod:`kubepci.analysis`, stored in the
evidence pack and read back by a replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The kind of the record of a probe whose phase's deadline passed before it was answered
# (kubepci.access.probe_pool): nothing is known about what it asked.
UNANSWERED = "unanswered"
PROBED = "probe"


@dataclass(frozen=True)
class ProbeResult:
    """A transcript of one request: what was asked and what came back."""

    method: str
    url: str
    status: int | None = None
    error: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    credentials: str = "none"
    # Features of the whole body read (e.g. "password-field") that the excerpt may cut off.
    marks: tuple[str, ...] = ()
    # PROBED: sent, and this is what came back (or why nothing did); UNANSWERED: not
    # answered by its phase's deadline. Records before this field are PROBED.
    kind: str = PROBED

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def unanswered(self) -> bool:
        """Cut off by its phase's deadline: neither an answer nor a timeout of its own."""
        return self.kind == UNANSWERED

    @property
    def refused(self) -> bool:
        """The port did not accept a connection at all (closed, filtered or reset)."""
        return self.status is None

    def line(self) -> str:
        outcome = str(self.status) if self.status is not None else f"no answer ({self.error})"
        return f"{self.method} {self.url} → {outcome}"

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "headers": dict(self.headers),
            "body_excerpt": self.body,
            "credentials_sent": self.credentials,
            "marks": list(self.marks),
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ProbeResult:
        return cls(
            raw["method"],
            raw["url"],
            raw["status"],
            raw["error"],
            tuple(raw["headers"].items()),
            raw["body_excerpt"],
            raw["credentials_sent"],
            tuple(raw.get("marks") or ()),
            str(raw.get("kind") or PROBED),
        )


@dataclass(frozen=True)
class PathProbe:
    """One path asked of a Service port: the first request and each redirect followed."""

    path: str  # as asked, with its query: "/", "/api/v1/query?query=up"
    scheme: str  # http or https, as the service proxy was told to reach the backend
    requests: tuple[ProbeResult, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "scheme": self.scheme,
            "requests": [r.to_json() for r in self.requests],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PathProbe:
        return cls(
            raw["path"], raw["scheme"], tuple(ProbeResult.from_json(r) for r in raw["requests"])
        )
