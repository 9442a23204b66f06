"""The floor: one paginated list (limit 500) of each resource the suite reads.

Run as its own process (``python -m bench.floor KUBECONFIG`` with the resources as JSON
on stdin) so its wall time counts what any tool pays: interpreter, kubernetes client,
credentials, then the lists, with the suite's Accept headers (Secrets as metadata). Each
page is parsed (the continue token is inside it); nothing else is done with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass

from bench.kube import api_client, send

PAGE = 500


@dataclass(frozen=True)
class Floor:
    wall: float  # the whole process
    listing: float  # the lists alone
    pages: dict[str, int]
    items: dict[str, int]

    @property
    def total_pages(self) -> int:
        return sum(self.pages.values())


# name → (path, accept, selector query): the suite's plain and field-selected lists.
Resources = dict[str, tuple[str, str, tuple[tuple[str, str], ...]]]


def list_everything(kubeconfig: str, resources: Resources) -> dict:
    api = api_client(kubeconfig, pool=2)
    pages: dict[str, int] = {}
    items: dict[str, int] = {}
    started = time.monotonic()
    for name, (path, accept, selector) in resources.items():
        token, pages[name], items[name] = "", 0, 0
        while True:
            query: list[tuple[str, object]] = [*selector, ("limit", PAGE)]
            if token:
                query.append(("continue", token))
            page = json.loads(send(api, "GET", path, query=query, accept=accept)[1])
            pages[name] += 1
            items[name] += len(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                break
    return {"listing": time.monotonic() - started, "pages": pages, "items": items}


def measure(kubeconfig: str, resources: Resources) -> Floor:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bench.floor", kubeconfig],
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"floor run failed: {done.stderr.strip()[-800:]}")
    out = json.loads(done.stdout)
    return Floor(wall, out["listing"], out["pages"], out["items"])


def main() -> int:
    resources = {
        k: (v[0], v[1], tuple((a, b) for a, b in (v[2] if len(v) > 2 else ())))
        for k, v in json.load(sys.stdin).items()
    }
    print(json.dumps(list_everything(sys.argv[1], resources)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
