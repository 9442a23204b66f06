"""Choosing checks by catalogue id: ``--check ID`` and ``-k ID``.

A check's id is what the README, the report and JUnit show, so it is what people select
by. Test names carry the function's name and the target, not the id, so each bound test
gets its id as an extra keyword (``Node.extra_keyword_matches``, which ``-k`` matches).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import pytest


def check_of(item: pytest.Item) -> str | None:
    """The catalogue id a test is bound to with ``@check(...)``, if any."""
    marker = item.get_closest_marker("kubepci_check")
    return str(marker.args[0]) if marker is not None and marker.args else None


def near(given: str, known: Iterable[str]) -> list[str]:
    """Ids that contain what was typed, else the ones closest to it in spelling."""
    ids = sorted(known)
    containing = [i for i in ids if given.lower() in i]
    return containing or difflib.get_close_matches(given.lower(), ids, n=3, cutoff=0.6)


def validate(given: Iterable[str], known: Iterable[str]) -> set[str]:
    """The ids asked for with ``--check``; an unknown one is a usage error (exit 4) that
    names the near matches, or every id when nothing is near."""
    ids = set(known)
    wanted = set(given)
    for check_id in sorted(wanted - ids):
        suggestions = near(check_id, ids)
        hint = (
            f"did you mean {', '.join(suggestions)}?"
            if suggestions
            else f"the checks are: {', '.join(sorted(ids))}"
        )
        raise pytest.UsageError(f"--check {check_id}: no such check in the catalogue; {hint}")
    return wanted


def select(
    items: list[pytest.Item], wanted: set[str]
) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept, deselected): only the tests bound to a wanted check are kept."""
    kept = [i for i in items if check_of(i) in wanted]
    return kept, [i for i in items if check_of(i) not in wanted]
