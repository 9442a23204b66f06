"""Run-wide state kept on ``config.stash``: the keys the plugin sets and the outputs read.

A module of its own so the report package reads the run without importing the plugin
(which imports the report package): data flows plugin → report only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubepci.access.cluster import ClusterSession
from kubepci.access.kubeconfig import Target
from kubepci.facade import Cluster, Settings
from kubepci.waivers import Waiver

TARGETS = pytest.StashKey[list[Target]]()
SESSIONS = pytest.StashKey[dict[str, ClusterSession]]()
STORE = pytest.StashKey[Path]()
WAIVERS = pytest.StashKey[list[Waiver]]()
SETTINGS = pytest.StashKey[Settings]()
RESULT = pytest.StashKey[Cluster]()
OWN_STORE = pytest.StashKey[bool]()
# --from-evidence: the pack being replayed (kubepci.replay.Replay).
REPLAYED = pytest.StashKey[Any]()
