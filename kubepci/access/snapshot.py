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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from kubepci import jsonio
from kubepci.access.api import METADATA_ONLY, ApiReader, ApiUnavailable
from kubepci.access.trim import TRIMMERS
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


@dataclass
class Listing:
    """A resource list as stored: its items, or the reason it could not be read."""

    resource: str
    items: list[Obj]
    error: str = ""
    pages: int = 0
    seconds: float = 0.0

    @classmethod
    def from_json(cls, raw: Obj) -> Listing:
        return cls(raw["resource"], raw["items"], raw["error"], raw["pages"], raw["seconds"])

    def to_json(self) -> Obj:
        return {
            "resource": self.resource,
            "error": self.error,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "items": self.items,
        }


def _write_atomic(path: Path, document: Any) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(jsonio.dumps(document), encoding="utf-8")
    tmp.replace(path)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
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
        path = self._path(name)
        if path.exists():
            return None
        if self.read_only:
            raise NotRecorded(
                f"the evidence pack holds no {name!r} record (the run that wrote it did "
                "not collect it), and a replay fetches nothing"
            )
        with FileLock(str(self.directory / f"{name}.lock")):
            if path.exists():
                return None
            document = compute()
            _write_atomic(path, document)
            return document

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

    def _list(self, resource: str) -> Obj:
        trim = TRIMMERS[resource]
        items: list[Obj] = []
        pages = 0
        started = time.monotonic()
        label = SELECTED[resource][3] if resource in SELECTED else resource
        selector = SELECTED[resource][1] if resource in SELECTED else ()
        narrowed = "".join(f" ({k} {v})" for k, v in selector)
        try:
            for page in self._pages(resource, on_restart=items.clear):
                pages += 1
                items.extend(trim(obj) for obj in page.get("items") or [])
                if pages % 10 == 0:
                    self._progress(f"listing {resource}: {len(items)} so far")
        except ApiUnavailable as exc:
            error = f"cannot list {label}: {exc}{narrowed}"
            return Listing(resource, [], error, pages).to_json()
        elapsed = time.monotonic() - started
        if elapsed > 2:
            self._progress(f"listed {len(items)} {resource} in {elapsed:.1f}s")
        return Listing(resource, items, "", pages, elapsed).to_json()

    def listing(self, resource: str) -> Listing:
        if resource not in self._listings:
            with gc_paused():
                raw = self.store.get_or_compute(f"list-{resource}", lambda: self._list(resource))
            self._listings[resource] = Listing.from_json(raw)
        return self._listings[resource]

    def items(self, resource: str) -> list[Obj]:
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
        paginated request after another). ``keep``: this process judges too, so hold on to
        what was listed rather than parse it back from the store. Under pytest-xdist the
        controller only fetches and keeps nothing; the workers read the store.
        """
        wanted = [r for r in resources or list(RESOURCES) if r not in self._listings]
        wanted.sort(key=lambda r: LARGEST_FIRST.index(r) if r in LARGEST_FIRST else 99)
        if not wanted:
            return
        self._reader()  # credentials are loaded once, before the threads need them
        with gc_paused(), ThreadPoolExecutor(lists_at_once, "kubepci-list") as pool:
            futures = {
                r: pool.submit(self.store.ensure, f"list-{r}", functools.partial(self._list, r))
                for r in wanted
            }
            for resource, future in futures.items():
                raw = future.result()
                if keep and raw is not None:
                    self._listings[resource] = Listing.from_json(raw)

    # Named accessors keep checks readable: ``cluster.snapshot.pods``.
    @property
    def nodes(self) -> list[Obj]:
        return self.items("nodes")

    @property
    def namespaces(self) -> list[Obj]:
        return self.items("namespaces")

    @property
    def pods(self) -> list[Obj]:
        return self.items("pods")

    @property
    def service_accounts(self) -> list[Obj]:
        return self.items("serviceaccounts")

    @property
    def services(self) -> list[Obj]:
        return self.items("services")

    @property
    def secrets(self) -> list[Obj]:
        return self.items("secrets")

    @property
    def token_secrets(self) -> list[Obj]:
        """Secrets of type kubernetes.io/service-account-token, metadata only."""
        return self.items("token-secrets")

    @property
    def endpoint_slices(self) -> list[Obj]:
        return self.items("endpointslices")

    @property
    def csrs(self) -> list[Obj]:
        return self.items("certificatesigningrequests")

    def rbac(self) -> dict[str, list[Obj]]:
        return {
            kind: self.items(kind)
            for kind in ("clusterroles", "clusterrolebindings", "roles", "rolebindings")
        }
