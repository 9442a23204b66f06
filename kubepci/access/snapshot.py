"""One read-only snapshot per cluster, taken once and shared by every check.

Each resource type is listed once, paginated, trimmed page by page and written to a
shared directory. Under pytest-xdist the first worker that needs a resource lists it
while holding a file lock; every other worker reads the file. A list that failed is
stored as a failure, so every check that needs it errors with the same one-line reason.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from filelock import FileLock

from kubepci import jsonio
from kubepci.access.api import METADATA_ONLY, ApiReader, ApiUnavailable
from kubepci.access.trim import TRIMMERS
from kubepci.records import listing as listing_file
from kubepci.records.listing import Listing, ListingWriter, Records
from kubepci.verdict import EvidenceUnavailable

Obj = dict[str, Any]

# resource → (API path, Accept header). Secrets are listed as metadata only: the suite
# never requests Secret data.
RESOURCES: dict[str, tuple[str, str]] = {
    "nodes": ("/api/v1/nodes", "application/json"),
    "namespaces": ("/api/v1/namespaces", "application/json"),
    "pods": ("/api/v1/pods", "application/json"),
    "serviceaccounts": ("/api/v1/serviceaccounts", "application/json"),
    "services": ("/api/v1/services", "application/json"),
    "secrets": ("/api/v1/secrets", METADATA_ONLY),
    "endpointslices": ("/apis/discovery.k8s.io/v1/endpointslices", "application/json"),
    "clusterroles": ("/apis/rbac.authorization.k8s.io/v1/clusterroles", "application/json"),
    "clusterrolebindings": (
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        "application/json",
    ),
    "roles": ("/apis/rbac.authorization.k8s.io/v1/roles", "application/json"),
    "rolebindings": ("/apis/rbac.authorization.k8s.io/v1/rolebindings", "application/json"),
    "certificatesigningrequests": (
        "/apis/certificates.k8s.io/v1/certificatesigningrequests",
        "application/json",
    ),
}

# Lists narrowed by a field selector: resource → (API path, query, Accept header, the words
# an error names it by). Listed on first use, not prefetched. Secrets of the legacy token type
# are told apart by the server: a metadata-only list carries no type, and an Opaque copy of
# a token Secret may keep the service-account annotation.
SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token"
SELECTED: dict[str, tuple[str, tuple[tuple[str, str], ...], str, str]] = {
    "token-secrets": (
        "/api/v1/secrets",
        (("fieldSelector", f"type={SERVICE_ACCOUNT_TOKEN_TYPE}"),),
        METADATA_ONLY,
        "secrets",
    ),
}

# Started first when several lists run at once, so the longest is not left for last.
LARGEST_FIRST = ("pods", "rolebindings", "serviceaccounts", "secrets", "services", "namespaces")

Progress = Callable[[str], None]


def _write_atomic(path: Path, document: Any) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(jsonio.dumps(document), encoding="utf-8")
    tmp.replace(path)


@contextlib.contextmanager
def gc_paused(freeze: bool = True) -> Iterator[None]:
    """Build or load a large listing without the cyclic garbage collector rescanning it.

    A big cluster's lists become millions of objects that live until the run ends; the
    collector would traverse them over and over while they are built (at 10,000 pods, a
    third of the suite's wall time). Parsed JSON holds no reference cycles, so nothing is
    lost while it is paused; afterwards the survivors move to the permanent generation
    (gc.freeze), so later collections, and pytest's at exit, skip them too.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        if freeze:
            gc.freeze()


class NotRecorded(EvidenceUnavailable):
    """A replay needed evidence that the pack does not hold: it is never fetched instead."""


class SharedStore:
    """A directory of JSON documents computed once across processes.

    ``read_only``: a replay's store, the raw exports of an evidence pack. Nothing is
    computed or written; a document it lacks is :class:`NotRecorded`, so a replayed check
    errors rather than contacting anything.
    """

    def __init__(self, directory: Path, read_only: bool = False) -> None:
        self.directory = directory
        self.read_only = read_only
        if not read_only:
            directory.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def has(self, name: str) -> bool:
        return self._path(name).exists()

    def put(self, name: str, document: Any) -> None:
        """Record a document this process already holds (first writer wins)."""
        if not self.read_only and not self._path(name).exists():
            _write_atomic(self._path(name), document)

    def ensure(self, name: str, compute: Callable[[], Any]) -> Any | None:
        """Make sure the document exists; return it only if this process computed it."""
        computed: list[Any] = []

        def write(out: BinaryIO) -> None:
            computed.append(compute())
            out.write(jsonio.dumps(computed[0]).encode("utf-8"))

        self.ensure_file(name, write)
        return computed[0] if computed else None

    def path(self, name: str) -> Path:
        return self._path(name)

    def ensure_file(self, name: str, write: Callable[[BinaryIO], None]) -> None:
        """Make sure the document exists, ``write`` streaming it into a file when not."""
        path = self._path(name)
        if path.exists():
            return
        if self.read_only:
            raise NotRecorded(
                f"the evidence pack holds no {name!r} record (the run that wrote it did "
                "not collect it), and a replay fetches nothing"
            )
        with FileLock(str(self.directory / f"{name}.lock")):
            if path.exists():
                return
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            try:
                with tmp.open("wb") as out:
                    write(out)
            except BaseException:
                tmp.unlink(missing_ok=True)  # nothing half-written is left for a reader
                raise
            tmp.replace(path)

    def get_or_compute(self, name: str, compute: Callable[[], Any]) -> Any:
        computed = self.ensure(name, compute)
        if computed is not None:
            return computed  # no need to parse back what was just written
        return jsonio.loads(self._path(name).read_bytes())


class Snapshot:
    """Lazily listed, shared, read-only view of one cluster."""

    def __init__(
        self, reader: Callable[[], ApiReader], store: SharedStore, progress: Progress | None = None
    ) -> None:
        self._reader = reader
        self.store = store
        self._progress = progress or (lambda _msg: None)
        self._listings: dict[str, Listing] = {}

    def _pages(self, resource: str, on_restart: Callable[[], None]) -> Iterator[Obj]:
        reader = self._reader()
        if resource in RESOURCES:
            path, accept = RESOURCES[resource]
            yield from reader.list_pages(path, accept=accept, on_restart=on_restart)
            return
        path, selector, accept, _ = SELECTED[resource]
        yield from reader.list_pages(path, accept=accept, on_restart=on_restart, selector=selector)

    def _list(self, resource: str, out: BinaryIO) -> None:
        """List the resource into ``out``, trimming and writing each page as it arrives."""
        trim = TRIMMERS[resource]
        writer = ListingWriter(out)
        pages = 0
        started = time.monotonic()
        label = SELECTED[resource][3] if resource in SELECTED else resource
        selector = SELECTED[resource][1] if resource in SELECTED else ()
        narrowed = "".join(f" ({k} {v})" for k, v in selector)
        try:
            for page in self._pages(resource, on_restart=writer.restart):
                pages += 1
                for obj in page.get("items") or []:
                    writer.add(trim(obj))
                if pages % 10 == 0:
                    self._progress(f"listing {resource}: {writer.count} so far")
        except ApiUnavailable as exc:
            writer.restart()
            writer.finish(resource, f"cannot list {label}: {exc}{narrowed}", pages, 0.0)
            return
        elapsed = time.monotonic() - started
        if elapsed > 2:
            self._progress(f"listed {writer.count} {resource} in {elapsed:.1f}s")
        writer.finish(resource, "", pages, elapsed)

    def listing(self, resource: str) -> Listing:
        if resource not in self._listings:
            name = f"list-{resource}"
            self.store.ensure_file(name, functools.partial(self._list, resource))
            with gc_paused():
                self._listings[resource] = listing_file.read(self.store.path(name))
        return self._listings[resource]

    def items(self, resource: str) -> Records:
        """The trimmed objects, or EvidenceUnavailable naming why they could not be read."""
        listing = self.listing(resource)
        if listing.error:
            raise EvidenceUnavailable(listing.error)
        return listing.items

    def prefetch(
        self, resources: list[str] | None = None, keep: bool = False, lists_at_once: int = 3
    ) -> None:
        """List every resource into the shared store, ``lists_at_once`` resources at a time.

        The API server answers one list while this process parses another, so a few
        lists at once take little more than the longest of them (each list is still one
        paginated request after another). Each list streams into its store file page by
        page, so memory holds a page, not the list. ``keep``: this process judges too, so
        it reads the lists back now (as texts, not parsed). Under pytest-xdist the
        controller only fetches and keeps nothing; the workers read the store.
        """
        wanted = [r for r in resources or list(RESOURCES) if r not in self._listings]
        wanted.sort(key=lambda r: LARGEST_FIRST.index(r) if r in LARGEST_FIRST else 99)
        if not wanted:
            return
        self._reader()  # credentials are loaded once, before the threads need them
        with gc_paused(), ThreadPoolExecutor(lists_at_once, "kubepci-list") as pool:
            futures = [
                pool.submit(self.store.ensure_file, f"list-{r}", functools.partial(self._list, r))
                for r in wanted
            ]
            for future in futures:
                future.result()
        if keep:
            for resource in wanted:
                self.listing(resource)

    # Named accessors keep checks readable: ``cluster.snapshot.pods``.
    @property
    def nodes(self) -> Records:
        return self.items("nodes")

    @property
    def namespaces(self) -> Records:
        return self.items("namespaces")

    @property
    def pods(self) -> Records:
        return self.items("pods")

    @property
    def service_accounts(self) -> Records:
        return self.items("serviceaccounts")

    @property
    def services(self) -> Records:
        return self.items("services")

    @property
    def secrets(self) -> Records:
        return self.items("secrets")

    @property
    def token_secrets(self) -> Records:
        """Secrets of type kubernetes.io/service-account-token, metadata only."""
        return self.items("token-secrets")

    @property
    def endpoint_slices(self) -> Records:
        return self.items("endpointslices")

    @property
    def csrs(self) -> Records:
        return self.items("certificatesigningrequests")

    def rbac(self) -> dict[str, Records]:
        return {
            kind: self.items(kind)
            for kind in ("clusterroles", "clusterrolebindings", "roles", "rolebindings")
        }
