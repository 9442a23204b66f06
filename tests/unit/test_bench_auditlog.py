"""Counting the suite's requests from audit-log lines (bench.auditlog)."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from pathlib import Path

from bench import auditlog

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
USER = "oidc:auditor@example.com"


def stamp(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event(
    verb: str = "list",
    resource: str = "pods",
    *,
    at: float = 1.0,
    user: str = USER,
    stage: str = "ResponseComplete",
    subresource: str = "",
    uri: str = "",
    source: str = "127.0.0.1",
) -> str:
    body: dict = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "stage": stage,
        "verb": verb,
        "requestURI": uri or f"/api/v1/{resource}?limit=500",
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": [source],
        "requestReceivedTimestamp": stamp(at - 0.01),
        "stageTimestamp": stamp(at),
    }
    if resource:
        body["objectRef"] = {"resource": resource, "apiVersion": "v1"}
        if subresource:
            body["objectRef"]["subresource"] = subresource
    return json.dumps(body)


def count(lines: list[str], source: str = "") -> Counter[str]:
    return auditlog.count_requests(lines, USER, T0, T0 + dt.timedelta(seconds=10), source_ip=source)


def test_counts_completed_requests_by_verb_and_resource() -> None:
    lines = [
        event("list", "pods"),
        event("list", "pods", at=2),
        event("list", "secrets"),
        event("get", "nodes", subresource="proxy", uri="/api/v1/nodes/vm/proxy/configz"),
        event("create", "selfsubjectreviews"),
        event("get", "", uri="/version?timeout=32s"),
    ]
    assert count(lines) == Counter(
        {
            "list pods": 2,
            "list secrets": 1,
            "get nodes/proxy": 1,
            "create selfsubjectreviews": 1,
            "get /version": 1,
        }
    )


def test_only_response_complete_is_counted() -> None:
    lines = [event(stage="RequestReceived"), event(stage="ResponseStarted"), event()]
    assert count(lines) == Counter({"list pods": 1})


def test_other_users_and_other_routes_are_not_counted() -> None:
    lines = [
        event(user="kubernetes-admin"),
        event(user="system:kube-controller-manager"),
        event(source="192.0.2.2"),
        event(),
    ]
    assert count(lines, source="127.0.0.1") == Counter({"list pods": 1})
    assert count(lines) == Counter({"list pods": 2})  # by identity alone


def test_window_is_inclusive_and_bounded() -> None:
    lines = [event(at=-0.5), event(at=0), event(at=10), event(at=10.001)]
    assert count(lines) == Counter({"list pods": 2})


def test_garbage_lines_are_skipped() -> None:
    assert count(["", "not json " + json.dumps(USER), event()]) == Counter({"list pods": 1})


def test_list_pages_and_per_object_split() -> None:
    counts = Counter({"list pods": 20, "list nodes": 1, "get nodes/proxy": 1, "get /version": 1})
    assert auditlog.list_pages(counts) == 21
    assert auditlog.per_object(counts) == Counter({"get nodes/proxy": 1, "get /version": 1})


def test_lines_since_follows_a_rotation(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text(event(at=0) + "\n")
    start = auditlog.mark(tmp_path)
    with log.open("a") as handle:
        handle.write(event(at=1) + "\n")
    rotated = tmp_path / "audit-2026-01-02T03-04-06.000.log"
    log.rename(rotated)  # what the API server's log rotation does
    log.write_text(event(at=2) + "\n")
    os.utime(log, (start.at + 1, start.at + 1))
    seen = [json.loads(line)["stageTimestamp"] for line in auditlog.lines_since(start)]
    assert seen == [stamp(1), stamp(2)]


def test_mark_without_a_log(tmp_path: Path) -> None:
    start = auditlog.mark(tmp_path)
    assert list(auditlog.lines_since(start)) == []
