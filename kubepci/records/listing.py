"""A resource list as the snapshot store and the evidence pack hold it.

At 150,000 pods the trimmed pods alone, held as parsed dicts, take about 370 MB, and a
check reads each pod once. So a list is kept as its objects' compact JSON texts,
compressed in blocks (7 MB for those pods), and parsed again whenever a check walks
it: a walk of 150,000 pods costs a few tenths of a second. Every walk hands out fresh
dicts, so no check can change what another one sees.

The file is one JSON document, written one object per line so that it is read, and
written while the pages arrive, a line at a time::

    {"items":[
    {...},
    {...}
    ],"error":"","pages":3,"resource":"pods","seconds":1.2}

Any JSON reader reads it whole; a list written as a single document (by an older run, or
a test editing a pack) is read whole too.
"""

from __future__ import annotations

import bisect
import itertools
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, overload

import orjson

Obj = dict[str, Any]
OPENING = b'{"items":[\n'
BLOCK = 256  # objects per compressed block


def _text(obj: Obj) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


class Records(Sequence[Obj]):
    """A read-only list of objects, held as their JSON texts and parsed on access.

    The texts are kept in zlib-compressed blocks of :data:`BLOCK` objects: a cluster's
    objects repeat each other's keys and values, so 150,000 trimmed pods (90 MB of text)
    take 7 MB compressed (measured), and a walk decompresses a block at a time.
    """

    __slots__ = ("_blocks", "_counts", "_ends")

    def __init__(self, texts: Iterable[bytes]) -> None:
        self._blocks: list[bytes] = []
        self._counts: list[int] = []
        pending: list[bytes] = []
        for text in texts:
            pending.append(text)
            if len(pending) == BLOCK:
                self._seal(pending)
                pending = []
        if pending:
            self._seal(pending)
        self._ends = list(itertools.accumulate(self._counts))

    def _seal(self, texts: list[bytes]) -> None:
        self._blocks.append(zlib.compress(b"\n".join(texts), 1))
        self._counts.append(len(texts))

    @classmethod
    def of(cls, objects: Iterable[Obj]) -> Records:
        return cls(_text(o) for o in objects)

    def _block(self, index: int) -> list[bytes]:
        return zlib.decompress(self._blocks[index]).split(b"\n")

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    @overload
    def __getitem__(self, index: int) -> Obj: ...

    @overload
    def __getitem__(self, index: slice) -> list[Obj]: ...

    def __getitem__(self, index: int | slice) -> Obj | list[Obj]:
        if isinstance(index, slice):
            return list(self)[index]
        size = len(self)
        position = index + size if index < 0 else index
        if not 0 <= position < size:
            raise IndexError("Records index out of range")
        block = bisect.bisect_right(self._ends, position)
        start = self._ends[block] - self._counts[block]
        parsed: Obj = orjson.loads(self._block(block)[position - start])
        return parsed

    def __iter__(self) -> Iterator[Obj]:
        for block in range(len(self._blocks)):
            for text in self._block(block):
                yield orjson.loads(text)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records):
            return self.texts() == other.texts()
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like a list

    def __repr__(self) -> str:
        return f"Records({len(self)} objects)"

    def texts(self) -> list[bytes]:
        """Each object's JSON text, as stored."""
        return [text for block in range(len(self._blocks)) for text in self._block(block)]


@dataclass
class Listing:
    """A resource list as stored: its objects, or the reason it could not be read."""

    resource: str
    items: Records
    error: str = ""
    pages: int = 0
    seconds: float = 0.0

    def trailer(self) -> Obj:
        return {
            "error": self.error,
            "pages": self.pages,
            "resource": self.resource,
            "seconds": round(self.seconds, 3),
        }


class ListingWriter:
    """Writes a list to an open binary file as its pages arrive."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.count = 0
        self.restart()

    def restart(self) -> None:
        """Drop what was written: the API server restarted the list from the beginning."""
        self.out.seek(0)
        self.out.truncate()
        self.out.write(OPENING)
        self.count = 0

    def add(self, obj: Obj) -> None:
        self.add_text(_text(obj))

    def add_text(self, text: bytes) -> None:
        """An object already encoded (an export copying a stored line)."""
        self.out.write((b",\n" if self.count else b"") + text)
        self.count += 1

    def finish(self, resource: str, error: str, pages: int, seconds: float) -> None:
        self.close(_text(Listing(resource, Records([]), error, pages, seconds).trailer()))

    def close(self, trailer: bytes) -> None:
        """End the list with the trailer object's JSON text, whose fields continue the
        opening object."""
        self.out.write((b"\n" if self.count else b"") + b"]," + trailer[1:] + b"\n")


def lines(path: Path) -> Iterator[tuple[str, bytes]]:
    """The file's parts in order: ("item", text) for each object and ("trailer", text),
    or a single ("document", text) for a list written as one document."""
    with path.open("rb") as source:
        first = source.readline()
        if first != OPENING:
            yield "document", first + source.read()
            return
        for line in source:
            if line.startswith(b"]"):
                yield "trailer", b"{" + line[2:].rstrip(b"\n")
                return
            yield "item", line.rstrip(b"\n").removesuffix(b",")
    raise ValueError(f"{path}: the list ends before its closing line")


def read(path: Path) -> Listing:
    """The list stored at ``path``, its objects compressed as they are read (never all
    of its text at once); ValueError when it is not one."""
    ends: dict[str, bytes] = {}

    def items() -> Iterator[bytes]:
        for kind, text in lines(path):
            if kind == "item":
                yield text
            else:
                ends[kind] = text

    records = Records(items())
    if "document" in ends:
        document = orjson.loads(ends["document"])
        records = Records.of(document["items"])
    else:
        document = orjson.loads(ends["trailer"])
    return Listing(
        str(document["resource"]),
        records,
        str(document["error"]),
        int(document["pages"]),
        float(document["seconds"]),
    )
