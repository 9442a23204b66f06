"""The run as every output sees it: scope, ordered results, control summary, limitations.

Computed once on the controller, at session finish, and cached so the HTML report and the
evidence pack cannot disagree (same end time, same order, same roll-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubepci import catalogue
from kubepci.access.cluster import ClusterSession
from kubepci.report import scope as run_scope
from kubepci.report import summary
from kubepci.report.results import ResultCollector
from kubepci.stash import SESSIONS

Obj = dict[str, Any]
VIEW = pytest.StashKey[Obj]()


def sessions(config: pytest.Config) -> dict[str, ClusterSession]:
    return config.stash.get(SESSIONS, {})


def results(config: pytest.Config) -> list[Obj]:
    collector = config.pluginmanager.get_plugin(ResultCollector.NAME)
    return list(collector.results) if isinstance(collector, ResultCollector) else []


def clusters(config: pytest.Config, found: list[Obj]) -> list[str]:
    """Audited clusters in target order, then any cluster only the results name."""
    names = list(sessions(config))
    names += sorted({r["cluster"] for r in found} - set(names))
    return names


def view(config: pytest.Config) -> Obj:
    """The run's outputs' common data; built on first use after the last result."""
    if VIEW in config.stash:
        return config.stash[VIEW]
    cat = catalogue.load()
    found = summary.ordered(results(config), cat)
    names = clusters(config, found)
    scope = run_scope.build(config, sessions(config))
    data: Obj = {
        "format": "kubepci-results/1",
        "scope": scope,
        "clusters": names,
        "control_summary": summary.control_summary(cat, found, names),
        "limitations": summary.limitations(cat, found, scope, names),
        "results": found,
    }
    config.stash[VIEW] = data
    return data


def store_dirs(config: pytest.Config) -> dict[str, Path]:
    """Each cluster's evidence store directory (the raw exports the checks judged from)."""
    return {target: s.store.directory for target, s in sessions(config).items()}
