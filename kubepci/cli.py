"""``kubepci``: run the shipped suite from any directory (``pytest --pyargs tests_pci``).

Every argument is passed on to pytest, so ``kubepci --kubeconfig K --html=r.html`` works
like the pytest command line, and the exit code is pytest's (see the README).

Only the plugins an audit needs are loaded, not every pytest plugin installed beside it:
one that reruns failures, reorders or skips tests could change verdicts, and one that is
merely slow to import (hypothesis takes a second) would slow every audit. Add another
with ``-p NAME``; ``pytest --pyargs tests_pci`` runs with everything installed.
"""

from __future__ import annotations

import sys

import pytest

PLUGINS = ("kubepci", "metadata", "html", "xdist")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # --assert=plain: the checks judge through the facade, not with assert statements,
    # so rewriting kubepci's modules at every start-up would buy nothing.
    fixed = ["--disable-plugin-autoload", *(f"-p{name}" for name in PLUGINS), "--assert=plain"]
    return int(pytest.main([*fixed, "--pyargs", "tests_pci", "--strict-markers", *args]))


if __name__ == "__main__":
    raise SystemExit(main())
