"""JSON in and out for a cluster's lists, through orjson.

A 10,000-pod cluster is tens of megabytes of JSON read from the API server and written to
the snapshot store; the standard library's parser takes about twice as long and its
encoder more than ten times as long. For strings, integers, booleans and null, orjson's
compact output with sorted keys is the text ``json.dumps(..., separators=(",", ":"),
sort_keys=True, ensure_ascii=False)`` writes (tests/unit/test_jsonio.py), so the store's
format, and the evidence pack's raw exports, do not depend on which library wrote them.
"""

from __future__ import annotations

from typing import Any

import orjson


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def dumps(document: Any, sort_keys: bool = True) -> str:
    """Compact JSON text; raises TypeError for what JSON cannot hold."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS if sort_keys else 0).decode()
