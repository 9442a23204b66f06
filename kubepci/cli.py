"""``kubepci``: run the shipped suite from any directory (``pytest --pyargs tests_pci``).

Every argument is passed on to pytest, so ``kubepci --kubeconfig K --html=r.html`` works
like the pytest command line, and the exit code is pytest's (see the README).
"""

from __future__ import annotations

import sys

import pytest


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return int(pytest.main(["--pyargs", "tests_pci", "--strict-markers", *args]))


if __name__ == "__main__":
    raise SystemExit(main())
