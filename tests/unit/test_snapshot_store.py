"""The shared evidence store: computed once across processes, never parsed back needlessly;
prefetch leaves nothing in an xdist controller's memory and keeps what a lone process
will judge from."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from kubepci.access.snapshot import RESOURCES, SharedStore, Snapshot


def test_computed_once_and_returned_without_reparsing(tmp_path: Path) -> None:
    store = SharedStore(tmp_path)
    calls: list[int] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    first = store.get_or_compute("thing", compute)
    (tmp_path / "thing.json").write_text(json.dumps({"n": 99}))  # what another process sees
    second = store.get_or_compute("thing", compute)
    assert first == {"n": 1}
    assert second == {"n": 99}
    assert calls == [1]


def test_ensure_returns_only_what_it_computed(tmp_path: Path) -> None:
    store = SharedStore(tmp_path)
    assert store.ensure("x", lambda: {"a": 1}) == {"a": 1}
    assert store.ensure("x", lambda: {"a": 2}) is None
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}


class Reader:
    def __init__(self) -> None:
        self.lists = 0

    def list_pages(self, path: str, accept: str, on_restart: object = None) -> list[dict]:
        self.lists += 1
        return [{"items": [{"metadata": {"name": "n1"}}]}]


def test_prefetch_keeps_nothing_in_memory(tmp_path: Path) -> None:
    snapshot = Snapshot(lambda: Reader(), SharedStore(tmp_path))  # type: ignore[arg-type,return-value]
    snapshot.prefetch(["namespaces"])
    assert snapshot._listings == {}
    assert (tmp_path / "list-namespaces.json").exists()
    assert [n["metadata"]["name"] for n in snapshot.namespaces] == ["n1"]


def test_prefetch_for_a_lone_process_keeps_the_lists_and_never_parses_them_back(
    tmp_path: Path,
) -> None:
    reader = Reader()
    snapshot = Snapshot(lambda: reader, SharedStore(tmp_path))  # type: ignore[arg-type,return-value]
    snapshot.prefetch(["namespaces"], keep=True)
    (tmp_path / "list-namespaces.json").write_text("not json")  # a re-parse would fail
    assert [n["metadata"]["name"] for n in snapshot.namespaces] == ["n1"]
    snapshot.prefetch(["namespaces"], keep=True)
    assert reader.lists == 1


def test_a_list_restarted_after_an_expired_continue_token_holds_each_object_once(
    tmp_path: Path,
) -> None:
    class RestartingReader:
        def list_pages(self, path: str, accept: str, on_restart=None):  # type: ignore[no-untyped-def]
            yield {"items": [{"metadata": {"name": "n1"}}]}
            on_restart()  # the continue token expired: the list starts over
            yield {"items": [{"metadata": {"name": "n1"}}]}
            yield {"items": [{"metadata": {"name": "n2"}}]}

    snapshot = Snapshot(lambda: RestartingReader(), SharedStore(tmp_path))  # type: ignore[arg-type,return-value]
    assert [n["metadata"]["name"] for n in snapshot.namespaces] == ["n1", "n2"]


def test_prefetch_lists_several_resources_at_once(tmp_path: Path) -> None:
    both_in_flight = threading.Barrier(2, timeout=10)

    class ConcurrentReader:
        def list_pages(self, path: str, accept: str, on_restart: object = None) -> list[dict]:
            if path in (RESOURCES["pods"][0], RESOURCES["rolebindings"][0]):
                both_in_flight.wait()  # times out (and fails the prefetch) if run in turn
            return [{"items": [{"metadata": {"name": path}}]}]

    snapshot = Snapshot(lambda: ConcurrentReader(), SharedStore(tmp_path))  # type: ignore[arg-type,return-value]
    snapshot.prefetch(keep=True)
    assert set(snapshot._listings) == set(RESOURCES)
    assert not [listing.error for listing in snapshot._listings.values() if listing.error]


def test_a_computation_that_fails_leaves_no_document_and_no_partial_file(tmp_path: Path) -> None:
    store = SharedStore(tmp_path)

    def fail() -> dict[str, int]:
        raise RuntimeError("server went away")

    with pytest.raises(RuntimeError):
        store.ensure("x", fail)
    assert not store.has("x")
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []
    assert store.ensure("x", lambda: {"a": 1}) == {"a": 1}
