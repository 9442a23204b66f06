"""How each check gathers its evidence (``methods.yaml``): TEST or EXAMINE, as OSCAL says.

Kept apart from ``section1.yaml`` (Prowler keeps its compliance mapping apart and joins it
at load): the method matters to the OSCAL output only, and is validated against the
catalogue here, so a check cannot be added without saying how it observes.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from kubepci.catalogue import CatalogueError, load

METHODS = ("TEST", "EXAMINE")
# A person attests what a manual verdict leaves open: that is examining a document.
MANUAL_METHOD = "EXAMINE"


@cache
def methods() -> dict[str, str]:
    """check id → TEST or EXAMINE, for every check of the catalogue (validated)."""
    text = resources.files(__package__).joinpath("methods.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text) or {}
    if not isinstance(document, dict):
        raise CatalogueError("methods.yaml: must map check ids to TEST or EXAMINE")
    checks = set(load().checks)
    unknown = sorted(set(document) - checks)
    missing = sorted(checks - set(document))
    if unknown or missing:
        raise CatalogueError(
            f"methods.yaml: unknown checks {unknown}, checks without a method {missing}"
        )
    bad = sorted(k for k, v in document.items() if v not in METHODS)
    if bad:
        raise CatalogueError(f"methods.yaml: {bad}: method must be one of {METHODS}")
    return {check: document[check] for check in load().checks}
