"""``kubepci``: run the shipped suite from any directory (``pytest --pyargs tests_pci``).

Every argument is passed on to pytest, so ``kubepci --kubeconfig K --html=r.html`` works
like the pytest command line, and the exit code is pytest's (see the README). One
subcommand is kubepci's own: ``kubepci verify PACK [--public-key PATH]`` checks an
evidence pack (:mod:`kubepci.verify`; ``kubepci verify --help`` gives its exit codes).

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
    if args[:1] == ["verify"]:
        # Not a pytest run: "verify" names no test path of the shipped suite.
        from kubepci import verify

        return verify.main(args[1:])
    # --assert=plain: the checks judge through the facade, not with assert statements,
    # so rewriting kubepci's modules at every start-up would buy nothing.
    # --noconftest: with --pyargs pytest loads the working directory's conftest files
    # (_set_initial_conftests: a module name is no path to anchor them), and another
    # project's hooks have no place in an audit; the suite has none of its own.
    fixed = ["--disable-plugin-autoload", "--assert=plain", "--noconftest", "--pyargs", "tests_pci"]
    # The plugins are registered before pytest's first parse of the command line, so it
    # knows their options when it chooses its rootdir: `--kubeconfig PATH` (space) then
    # roots exactly as `--kubeconfig=PATH` does, not in PATH's folder (kubepci.invocation).
    return int(pytest.main([*fixed, "--strict-markers", *args], plugins=list(PLUGINS)))


if __name__ == "__main__":
    raise SystemExit(main())
