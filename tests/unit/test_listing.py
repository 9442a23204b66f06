"""Resource lists as the store and the pack hold them (kubepci.records.listing): one JSON
document written a line per object, read back as texts parsed on each walk, and exported
to the pack a line at a time with each object redacted by itself."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubepci.access.api import ApiUnavailable
from kubepci.access.snapshot import SharedStore, Snapshot
from kubepci.records import listing
from kubepci.records.listing import Listing, ListingWriter, Records
from kubepci.report import pack
from kubepci.report.redact import MASK

names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
objects = st.lists(
    st.dictionaries(
        names, st.integers(-(2**63), 2**63 - 1) | names | st.booleans() | st.none(), max_size=4
    ),
    max_size=6,
)


def _written(items: list[dict], error: str = "", pages: int = 1) -> bytes:
    out = io.BytesIO()
    writer = ListingWriter(out)
    for item in items:
        writer.add(item)
    writer.finish("pods", error, pages, 1.23456)
    return out.getvalue()


@given(objects)
def test_the_file_is_one_json_document_any_reader_reads(items: list[dict]) -> None:
    document = json.loads(_written(items))
    assert document == {
        "items": items,
        "error": "",
        "pages": 1,
        "resource": "pods",
        "seconds": 1.235,
    }


@given(objects)
def test_read_back_gives_the_same_objects_and_trailer(items: list[dict]) -> None:
    path = Path(tempfile.mkdtemp()) / "list-pods.json"
    path.write_bytes(_written(items, error="cannot list pods: 503", pages=4))
    read = listing.read(path)
    assert list(read.items) == items
    assert len(read.items) == len(items)
    assert (read.resource, read.error, read.pages, read.seconds) == (
        "pods",
        "cannot list pods: 503",
        4,
        1.235,
    )


def test_a_list_written_as_a_single_document_is_read_whole(tmp_path: Path) -> None:
    """Packs of earlier runs, and tests editing a pack, write one line."""
    path = tmp_path / "list-pods.json"
    items = [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]
    document = {"error": "", "items": items, "pages": 1, "resource": "pods", "seconds": 0.5}
    path.write_text(json.dumps(document))
    read = listing.read(path)
    assert list(read.items) == items
    assert read.seconds == 0.5


def test_a_truncated_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list-pods.json"
    path.write_bytes(_written([{"a": 1}, {"b": 2}]).rsplit(b"\n", 2)[0] + b"\n")
    with pytest.raises(ValueError, match="ends before its closing line"):
        listing.read(path)


def test_a_restart_drops_what_was_written() -> None:
    out = io.BytesIO()
    writer = ListingWriter(out)
    writer.add({"name": "n1"})
    writer.restart()
    writer.add({"name": "n1"})
    writer.add({"name": "n2"})
    writer.finish("namespaces", "", 2, 0.0)
    assert json.loads(out.getvalue())["items"] == [{"name": "n1"}, {"name": "n2"}]


def test_each_walk_hands_out_fresh_objects() -> None:
    """A check that changed what it was given cannot change what the next check sees."""
    records = Records.of([{"metadata": {"name": "a"}}])
    first = next(iter(records))
    first["metadata"]["name"] = "changed"
    assert records[0] == {"metadata": {"name": "a"}}
    assert records[0] is not records[0]


def test_records_behave_as_a_read_only_sequence() -> None:
    records = Records.of([{"n": 1}, {"n": 2}, {"n": 3}])
    assert len(records) == 3
    assert records[-1] == {"n": 3}
    assert records[1:] == [{"n": 2}, {"n": 3}]
    assert records == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert records == Records.of([{"n": 1}, {"n": 2}, {"n": 3}])
    assert records != [{"n": 1}]
    assert bool(Records([])) is False
    assert {"n": 2} in records
    assert repr(records) == "Records(3 objects)"
    with pytest.raises(TypeError):
        hash(records)


class _Pages:
    def __init__(self, pages: list[list[dict]], fail: bool = False) -> None:
        self.pages, self.fail = pages, fail

    def list_pages(self, path: str, accept: str, on_restart: object = None, selector=()):  # type: ignore[no-untyped-def]
        for page in self.pages:
            yield {"items": page}
        if self.fail:
            raise ApiUnavailable("503 Service Unavailable")


def test_a_list_that_fails_midway_stores_only_the_reason(tmp_path: Path) -> None:
    """Half a list is never judged as the whole cluster."""
    reader = _Pages([[{"metadata": {"name": "n1"}}]], fail=True)
    snapshot = Snapshot(lambda: reader, SharedStore(tmp_path))  # type: ignore[arg-type,return-value]
    read = snapshot.listing("namespaces")
    assert read.error.startswith("cannot list namespaces: 503")
    assert list(read.items) == []
    assert json.loads((tmp_path / "list-namespaces.json").read_text())["items"] == []


def test_pages_stream_into_the_store_trimmed(tmp_path: Path) -> None:
    raw = {
        "metadata": {"name": "p", "namespace": "ns", "managedFields": [{"x": 1}]},
        "spec": {"serviceAccountName": "app", "containers": [{"name": "c", "image": "i"}]},
    }
    reader = _Pages([[raw], [dict(raw, metadata={"name": "q", "namespace": "ns"})]])
    snapshot = Snapshot(lambda: reader, SharedStore(tmp_path))  # type: ignore[arg-type,return-value]
    pods = snapshot.pods
    assert [p["metadata"]["name"] for p in pods] == ["p", "q"]
    assert "managedFields" not in (tmp_path / "list-pods.json").read_text()
    assert listing.read(tmp_path / "list-pods.json").pages == 2


def _export(tmp_path: Path, text: bytes) -> bytes:
    store = tmp_path / "store"
    store.mkdir()
    (store / "list-pods.json").write_bytes(text)
    pack.export_raw({"c": store}, tmp_path / "pack")
    return (tmp_path / "pack" / "raw" / "store" / "list-pods.json").read_bytes()


def test_an_exported_list_without_credentials_is_the_stored_bytes(tmp_path: Path) -> None:
    text = _written([{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}])
    assert _export(tmp_path, text) == text


def test_an_exported_list_redacts_only_the_object_holding_a_credential(tmp_path: Path) -> None:
    clean = {"metadata": {"name": "a"}}
    leaky = {"metadata": {"name": "b"}, "args": ["--token=abcdefgh12345678"]}
    exported = json.loads(_export(tmp_path, _written([clean, leaky, clean])))
    assert exported["items"][0] == clean
    assert exported["items"][2] == clean
    assert exported["items"][1]["args"] == [f"--token={MASK}"]
    assert "abcdefgh12345678" not in json.dumps(exported)


def test_an_exported_empty_list_keeps_its_reason(tmp_path: Path) -> None:
    text = _written([], error="cannot list pods: 403 Forbidden")
    exported = _export(tmp_path, text)
    assert exported == text
    assert json.loads(exported)["error"] == "cannot list pods: 403 Forbidden"


def test_an_exported_single_document_list_is_copied_as_before(tmp_path: Path) -> None:
    document = {"error": "", "items": [{"a": 1}], "pages": 1, "resource": "pods", "seconds": 0}
    text = json.dumps(document, separators=(",", ":"), sort_keys=True).encode() + b"\n"
    assert _export(tmp_path, text) == text


def test_listing_trailer_is_rounded_like_the_store_always_was() -> None:
    assert Listing("pods", Records([]), "", 3, 1.23456).trailer()["seconds"] == 1.235


def test_records_span_compressed_blocks_without_losing_an_object() -> None:
    objects = [{"n": i, "pad": "x" * (i % 7)} for i in range(2 * listing.BLOCK + 3)]
    records = Records.of(objects)
    assert len(records) == len(objects)
    assert list(records) == objects
    for i in (0, listing.BLOCK - 1, listing.BLOCK, 2 * listing.BLOCK, len(objects) - 1, -1):
        assert records[i] == objects[i]
    assert (
        records[listing.BLOCK - 2 : listing.BLOCK + 2]
        == objects[listing.BLOCK - 2 : listing.BLOCK + 2]
    )
    with pytest.raises(IndexError):
        records[len(objects)]
    with pytest.raises(IndexError):
        records[-len(objects) - 1]
    assert Records(records.texts()) == records


def test_a_long_list_read_back_is_the_list_written(tmp_path: Path) -> None:
    objects = [{"metadata": {"name": f"pod-{i}", "namespace": f"ns-{i % 13}"}} for i in range(1000)]
    path = tmp_path / "list-pods.json"
    path.write_bytes(_written(objects))
    assert list(listing.read(path).items) == objects
