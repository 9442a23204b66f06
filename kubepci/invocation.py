"""What a pytest command line asks of kubepci: an audit, and of which tests.

pytest decides its rootdir, its configuration file and its test paths from a first parse
of the command line made before any plugin's options are known (``Config.parse`` in
``_pytest/config/__init__.py``: ``determine_setup`` runs on ``parse_known_args`` before
``load_setuptools_entrypoints``). To that parse ``--kubeconfig PATH`` is an unknown flag
followed by a test path. By ``pytest_load_initial_conftests`` the plugins are loaded and
the command line has been parsed again with their options, but the test paths are not
decided yet: that hook may still change them (the documented successor of
``pytest_cmdline_preparse``). There, an audit asked for by option with no test path named
gets the shipped suite (:func:`name_the_suite`), whichever way the options were written.

The rootdir pytest already chose stays: with the space form it was derived from PATH (the
kubeconfig's folder, or an ancestor it shares with the working directory), so pytest's
cache, which writes under the rootdir, is turned off for that run
(:func:`rootdir_from_kubeconfig`) rather than write into, say, ``~/.kube``. Verdicts do not
depend on the rootdir. The ``kubepci`` command registers the plugin before that first
parse, so there the two forms root alike.
"""

from __future__ import annotations

import importlib.util
import os
from argparse import Namespace
from collections.abc import Sequence
from pathlib import Path

import pytest

SUITE = "tests_pci"
# Options that ask for an audit by themselves: the plugin is loaded into every pytest run
# of its environment, so without one of these (or the suite named) it stays passive.
AUDIT_OPTIONS = ("kubeconfig", "context", "check", "from_evidence")


def suite_directory() -> Path | None:
    """The shipped suite's package directory, found without importing it (pytest imports
    it when it collects, and must find it where it was not yet imported from)."""
    spec = importlib.util.find_spec(SUITE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).absolute()


def asks_for_audit(options: Namespace) -> bool:
    """Did the command line ask for an audit by option (``--kubeconfig``, ...)?"""
    return any(getattr(options, name, None) for name in AUDIT_OPTIONS)


def name_the_suite(args: list[str], options: Namespace) -> bool:
    """Make an audit asked for by option, with no test path given, run the shipped suite.

    ``args`` is the command line pytest is about to parse for good and ``options`` its
    early parse (``early_config.known_args_namespace``); both are changed in place, the
    latter because pytest's own ``pytest_load_initial_conftests`` reads the test paths
    from it. The suite is named by its directory, not ``--pyargs tests_pci``: a module
    name is no path, and pytest would then load the working directory's conftest files
    (``_set_initial_conftests``), another project's hooks inside an audit.
    """
    if options.help or options.version or options.file_or_dir or not asks_for_audit(options):
        return False
    suite = suite_directory()
    if suite is None:
        return False
    args.insert(0, str(suite))
    options.file_or_dir = [str(suite)]
    return True


def _space_form_values(args: Sequence[str], option: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == option]


def rootdir_from_kubeconfig(config: pytest.Config, args: Sequence[str]) -> bool:
    """Did pytest's first parse take a kubeconfig written ``--kubeconfig PATH`` for a test
    path (an existing path, so it counted towards the rootdir) and root itself elsewhere
    than where it runs? The rootdir is then the kubeconfig's folder, or an ancestor it
    shares with the working directory (``findpaths.determine_setup``): not where the ``=``
    form roots."""
    invocation = config.invocation_params.dir
    if config.rootpath == invocation:
        return False
    # As the first parse saw them: relative to the working directory, no ~ expansion.
    return any(
        os.path.exists(os.path.abspath(invocation / value))
        for value in _space_form_values(args, "--kubeconfig")
    )


def names_the_suite(config: pytest.Config) -> bool:
    """Is the shipped suite, or a part of it, among the test paths of this run?"""
    suite = suite_directory()
    for arg in config.args:
        target = arg.split("::", 1)[0]
        if config.option.pyargs and (target == SUITE or target.startswith(SUITE + ".")):
            return True
        if suite is not None:
            path = Path(os.path.abspath(config.invocation_params.dir / target))
            if path == suite or suite in path.parents:
                return True
    return False


def collect_the_suite(config: pytest.Config) -> bool:
    """The same as :func:`name_the_suite`, for a plugin loaded too late to change the
    command line (from a conftest in a bare checkout): replace the test paths pytest took
    from the working directory or ``testpaths`` before anything is collected."""
    if config.args_source is pytest.Config.ArgsSource.ARGS or not asks_for_audit(config.option):
        return False
    suite = suite_directory()
    if suite is None:
        return False
    config.args = [str(suite)]
    return True
