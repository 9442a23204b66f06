"""pytest-xdist scheduling for an audit: every check of one cluster on one worker.

Each worker parses the lists of every cluster it judges; spread over workers, one
cluster's 10,000 pods would be parsed by each of them. xdist's ``loadgroup`` would do
this with ``xdist_group`` marks, but it names the group by rewriting ``item._nodeid``,
which pytest 9 no longer reads (``Node.nodeid`` is built from ``_id``), so the groups are
silently lost. Grouping by the node id's parameter (the cluster, the only parameter of a
shipped check) needs no renaming.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling


def cluster_of(nodeid: str) -> str:
    """``tests_pci/test_x.py::test_y[<cluster>]`` → ``<cluster>``; a node id without
    parameters is its own scope."""
    _, bracket, params = nodeid.partition("[")
    return params[:-1] if bracket and params.endswith("]") else nodeid


class ClusterScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """LoadScope with one scope per audited cluster."""

    def _split_scope(self, nodeid: str) -> str:
        return cluster_of(nodeid)
