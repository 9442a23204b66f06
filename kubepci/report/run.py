"""The run as every output sees it: scope, ordered results, control summary, limitations.

Computed once on the controller, at session finish, and cached so the HTML report and the
evidence pack cannot disagree (same end time, same order, same roll-up).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import kubepci
from kubepci import attestations, catalogue
from kubepci.access.cluster import ClusterSession
from kubepci.facade import Settings
from kubepci.report import assessor, summary
from kubepci.report import scope as run_scope
from kubepci.report.results import STARTED, ResultCollector
from kubepci.stash import SESSIONS, SETTINGS, WAIVERS
from kubepci.waivers import Waiver

Obj = dict[str, Any]
VIEW = pytest.StashKey[Obj]()
REPLAY_FORMAT = "kubepci-replay/1"


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
    # waiver_register, attestations, and drift against --baseline (None without one).
    data.update(assessor.sections(config, data))
    config.stash[VIEW] = data
    return data


def replay_record(config: pytest.Config, stores: dict[str, Path]) -> Obj:
    """``replay.json``: the run's date, settings and waivers beside its stores."""
    document = record(config.stash[STARTED], config.stash[SETTINGS], config.stash[WAIVERS], stores)
    # Attestations turn manual endings into "attested": a replay needs them as they were.
    document["attestations"] = [
        attestations.to_record(a) for a in config.stash.get(assessor.ATTESTATIONS, [])
    ]
    return document


def record(
    started: dt.datetime,
    settings: Settings,
    waivers: list[Waiver],
    stores: dict[str, Path],
) -> Obj:
    """``replay.json`` for a pack whose raw exports are ``stores`` (target id -> store)."""
    return {
        "format": REPLAY_FORMAT,
        "suite_version": kubepci.__version__,
        "started_utc": started.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # Waivers are judged against the day of the run: one valid then stays valid here.
        "waivers_checked_on": started.astimezone(dt.UTC).date().isoformat(),
        "settings": {
            "token_lifetime_limit": settings.token_lifetime_limit,
            "node_root": settings.node_root,
        },
        "waivers": [w.to_json() for w in waivers],
        "clusters": [{"id": target, "store": path.name} for target, path in stores.items()],
    }


def store_dirs(config: pytest.Config) -> dict[str, Path]:
    """Each cluster's evidence store directory (the raw exports the checks judged from)."""
    return {target: s.store.directory for target, s in sessions(config).items()}
