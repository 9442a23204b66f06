"""The redactor's fast path (skip strings no pattern can match) changes no output.

It was narrowed so that timestamps and host:port strings, which fill a large cluster's
exports, no longer run every pattern; this proves the narrowing skips nothing that a
pattern would have redacted.
"""

from __future__ import annotations

import re

import pytest

from kubepci.report import redact as redactor

CORPUS = [
    "2026-11-26T21:00:00Z",
    "192.0.2.2:6443",
    "https://192.0.2.2:6443/api/v1/pods",
    "https://admin:hunter2hunter2@192.0.2.2:6443/",
    "password:12345678",
    "password: 12345678",
    '"token":"abc12345xyz"',
    "token=1234567890",
    "--token=s3cr3t-value-1",
    "Authorization: Bearer abcdefgh12345678",
    "client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Foa2lHOXcwQkFRRUZB",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    "secret2:abcdefgh1",
    "10:20:30",
    "token mounted (pod sets automountServiceAccountToken: true)",
    "ServiceAccount kube-system/default: uses 10.0.0.1:443",
    "api-key:9f8e7d6c5b4a",
]


@pytest.mark.parametrize("text", CORPUS)
def test_fast_path_changes_nothing(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = redactor.redact(text)
    monkeypatch.setattr(redactor, "_TRIGGER", re.compile(""))  # every pattern, every time
    assert fast == redactor.redact(text)


def test_timestamps_and_ports_stay_readable() -> None:
    assert redactor.redact("2026-11-26T21:00:00Z") == "2026-11-26T21:00:00Z"
    assert redactor.redact("192.0.2.2:6443") == "192.0.2.2:6443"
    assert "hunter2hunter2" not in redactor.redact("https://admin:hunter2hunter2@h:6443/")
