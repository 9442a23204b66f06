"""A key file on a node as the suite records it: ownership and mode, never contents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KeyFile:
    path: str  # relative to the node root
    uid: int
    gid: int
    mode: int

    def to_json(self) -> dict[str, Any]:
        return {"path": "/" + self.path, "uid": self.uid, "gid": self.gid, "mode": oct(self.mode)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> KeyFile:
        """The inverse of :meth:`to_json` (a recorded key file, for a replay)."""
        return cls(
            str(raw["path"]).lstrip("/"), int(raw["uid"]), int(raw["gid"]), int(str(raw["mode"]), 0)
        )
