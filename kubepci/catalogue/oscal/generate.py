"""Regenerate the shipped OSCAL catalogue of Section 1 from the catalogue data.

    .venv/bin/python kubepci/catalogue/oscal/generate.py [--check]

writes ``pci-container-section1-catalog.json`` beside this script from ``section1.yaml``
and ``methods.yaml`` (through compliance-trestle's models: see
``kubepci/report/oscal_catalog.py``). The file's ``last-modified`` is kept while its
content is unchanged, so regenerating unchanged data gives the same bytes. ``--check``
writes nothing and exits 1 when the shipped file is not what the data gives.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from trestle.oscal.catalog import Catalog

from kubepci import catalogue
from kubepci.report import oscal_catalog

TARGET = Path(__file__).resolve().parent / oscal_catalog.CATALOG_FILE


def expected(target: Path = TARGET) -> bytes:
    """What the data gives, dated as the shipped file when nothing else changed."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    fresh = oscal_catalog.build(catalogue.load(), now)
    if target.is_file():
        shipped = Catalog.oscal_read(target)
        if isinstance(shipped, Catalog):
            dated = oscal_catalog.build(catalogue.load(), shipped.metadata.last_modified)
            if oscal_catalog.serialise(dated) == target.read_bytes():
                return target.read_bytes()
    return oscal_catalog.serialise(fresh)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a change")
    args = parser.parse_args(argv)
    text = expected()
    if args.check:
        same = TARGET.is_file() and TARGET.read_bytes() == text
        print(f"{TARGET}: {'up to date' if same else 'differs from the catalogue data'}")
        return 0 if same else 1
    TARGET.write_bytes(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
