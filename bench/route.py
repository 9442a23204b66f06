"""A copy of the suite's kubeconfig that reaches the same API server over loopback.

Other engineers run the suite on this cluster with the same identity, from the node's
address. Sending the bench's requests from 127.0.0.1 lets the audit log tell them apart
(sourceIPs), without changing the identity, the server or anything the suite judges.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

LOOPBACK = "127.0.0.1"
FILE_KEYS = ("certificate-authority", "client-certificate", "client-key", "tokenFile")


def loopback_server(server: str) -> str:
    parts = urlsplit(server)
    netloc = f"{LOOPBACK}:{parts.port}" if parts.port else LOOPBACK
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _absolute(entry: dict, base: Path) -> None:
    for key in FILE_KEYS:
        value = entry.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            entry[key] = str((base / value).resolve())


def rewrite(document: dict, base: Path) -> dict:
    """Every cluster's server on loopback; relative credential paths made absolute."""
    for cluster in document.get("clusters") or []:
        entry = cluster.get("cluster") or {}
        if entry.get("server"):
            entry["server"] = loopback_server(str(entry["server"]))
        _absolute(entry, base)
    for user in document.get("users") or []:
        _absolute(user.get("user") or {}, base)
    return document


def loopback_kubeconfig(source: str, dest: Path) -> Path:
    src = Path(source)
    document = rewrite(yaml.safe_load(src.read_text()), src.resolve().parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.touch(mode=0o600)
    dest.write_text(yaml.safe_dump(document, sort_keys=False))
    return dest
