"""The kubepci pytest plugin (entry point ``pytest11``): options, parametrization, verdicts.

Options live here, not in a conftest, so ``pytest --pyargs tests_pci`` works from any
directory. Nothing here contacts a cluster before session start; ``pytest --help`` needs
no kubeconfig.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from kubepci import catalogue
from kubepci.access.api import Policy
from kubepci.access.cluster import ClusterSession
from kubepci.access.kubeconfig import KubeconfigError, resolve_targets
from kubepci.analysis.flags import parse_duration
from kubepci.facade import Cluster, Settings
from kubepci.report import htmlreport
from kubepci.report import register as register_outputs
from kubepci.report import results as report_results
from kubepci.report.redact import redact
from kubepci.report.results import ResultCollector
from kubepci.stash import OWN_STORE, RESULT, SESSIONS, SETTINGS, STORE, TARGETS, WAIVERS
from kubepci.verdict import EvidenceUnavailable, ManualAttestation, NotApplicable, Verdict
from kubepci.waivers import WaiverError
from kubepci.waivers import load as load_waivers

VERDICT_STATUS = {
    Verdict.ERROR: ("error", "E", ("ERROR", {"red": True})),
    Verdict.MANUAL: ("manual", "M", ("MANUAL", {"yellow": True})),
    Verdict.NOT_APPLICABLE: ("not applicable", "N", ("NOT APPLICABLE", {"yellow": True})),
    Verdict.WAIVED: ("waived", "W", ("WAIVED", {"yellow": True})),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kubepci", "PCI Section 1 (Authentication) audit of Kubernetes")
    group.addoption(
        "--kubeconfig",
        action="append",
        default=[],
        metavar="PATH",
        help="kubeconfig of a cluster to audit; repeatable (default: $KUBECONFIG, then "
        "~/.kube/config, then the in-cluster ServiceAccount)",
    )
    group.addoption(
        "--context",
        action="append",
        default=[],
        metavar="NAME",
        help="kubeconfig context to audit; repeatable (default: each file's current context)",
    )
    group.addoption(
        "--waivers",
        metavar="FILE",
        help="YAML list of accepted findings: check, selector, justification, approver, expires",
    )
    group.addoption(
        "--node-root",
        metavar="PATH",
        help="a control-plane node's root filesystem (e.g. / on the node, or a mount of it) "
        "for the key-file permission checks; without it those checks are manual",
    )
    group.addoption(
        "--token-lifetime-limit",
        default="24h",
        metavar="DURATION",
        help="longest acceptable service account token lifetime (Go duration; default 24h)",
    )
    group.addoption(
        "--evidence-dir",
        metavar="DIR",
        help="write results.json, the raw exports judged from and a SHA-256 manifest here",
    )
    group.addoption(
        "--api-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="read timeout for each API request (default 30); requests are retried with backoff",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kubepci_check(id): binds a test to a catalogue check")
    for item in catalogue.load().items.values():
        config.addinivalue_line(
            "markers", f"{item.marker}: PCI Section 1 item {item.id} ({item.title})"
        )
    if config.option.help:
        return
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "kubepci_store" in workerinput:
        config.stash[STORE] = Path(workerinput["kubepci_store"])
        config.stash[OWN_STORE] = False
    else:
        config.stash[STORE] = Path(tempfile.mkdtemp(prefix="kubepci-"))
        config.stash[OWN_STORE] = True
    config.stash[SESSIONS] = {}
    config.pluginmanager.register(ResultCollector(config), ResultCollector.NAME)
    config.pluginmanager.register(UnreachableClusters(), UnreachableClusters.NAME)
    register_outputs(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker shares the controller's evidence store."""
    node.workerinput["kubepci_store"] = str(node.config.stash[STORE])


# tryfirst: xdist's own implementation answers too, and without it which one pluggy asks
# first depends on the order the plugins' entry points happen to be loaded in.
@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` for an audit: one worker per cluster, none for a single cluster.

    A cluster's evidence is read once and its checks are light, so one cluster gains
    nothing from workers but their start-up cost and a second parse of the snapshot
    (measured: bench/RESULTS.md); several clusters are audited side by side.
    """
    if not _audit_requested(config):
        return None
    try:
        count = len(resolve_targets(config.option.kubeconfig, config.option.context))
    except KubeconfigError:
        return None  # reported properly at session start
    return min(count, os.cpu_count() or 1) if count > 1 else 0


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(OWN_STORE, False):
        shutil.rmtree(config.stash[STORE], ignore_errors=True)


def _settings(config: pytest.Config) -> Settings:
    limit = parse_duration(str(config.option.token_lifetime_limit))
    if limit is None or limit <= 0:
        raise pytest.UsageError(
            f"--token-lifetime-limit {config.option.token_lifetime_limit!r}: not a duration"
            " such as 1h or 90m"
        )
    node_root = config.option.node_root or ""
    if node_root:
        root = Path(node_root)
        if not root.is_dir():
            raise pytest.UsageError(f"--node-root {node_root}: no such directory")
        if not (root / "etc/kubernetes").is_dir() and not (root / "var/lib/kubelet").is_dir():
            raise pytest.UsageError(
                f"--node-root {node_root}: neither etc/kubernetes nor var/lib/kubelet is under it;"
                " is it a node's root filesystem?"
            )
    return Settings(token_lifetime_limit=int(limit), node_root=node_root)


def _say(config: pytest.Config, message: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not hasattr(config, "workerinput"):
        # Progress may quote what a server answered: it is redacted like every output.
        reporter.write_line(redact(f"kubepci: {message}"))


def _audit_requested(config: pytest.Config) -> bool:
    """Is this run an audit? The plugin is loaded into every pytest run of the environment
    it is installed in, so it stays passive unless asked: an explicit --kubeconfig or
    --context, or the shipped suite among the arguments."""
    if config.option.kubeconfig or config.option.context:
        return True
    return any("tests_pci" in str(arg) for arg in config.args)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    if _audit_requested(session.config):
        _start_audit(session.config)


def _guard_rootdir(config: pytest.Config) -> None:
    """pytest picks its rootdir before plugin options are known, so in
    ``pytest --kubeconfig PATH`` it takes PATH's folder for the project and, finding no
    test paths there, would collect everything under the current directory."""
    invocation = config.invocation_params.dir
    folders = {Path(k).expanduser().resolve().parent for k in config.option.kubeconfig}
    if config.rootpath in folders and config.args == [str(invocation)]:
        raise pytest.UsageError(
            "pytest took the kubeconfig's folder as its rootdir; write --kubeconfig=PATH "
            "(with '=') or name the suite: pytest --pyargs tests_pci --kubeconfig PATH"
        )


def _start_audit(config: pytest.Config) -> None:
    _guard_rootdir(config)
    try:
        targets = resolve_targets(config.option.kubeconfig, config.option.context)
    except KubeconfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    known = set(catalogue.load().checks)
    try:
        config.stash[WAIVERS] = (
            load_waivers(config.option.waivers, known) if config.option.waivers else []
        )
    except WaiverError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SETTINGS] = _settings(config)
    config.stash[TARGETS] = targets
    config.stash[report_results.STARTED] = dt.datetime.now(dt.UTC)
    sessions = config.stash[SESSIONS]
    policy = Policy(read_timeout=float(config.option.api_timeout))
    for target in targets:
        directory = config.stash[STORE] / target.id.replace(":", "_").replace("/", "_")
        sessions[target.id] = ClusterSession(
            target,
            directory,
            policy=policy,
            progress=lambda message: _say(config, message),
        )
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    # The controller makes first contact. A cluster that cannot be reached, or that
    # rejects the credentials, is not read; every check on it reports an error naming
    # why (UnreachableClusters), so the reports are still written and the other clusters
    # are still audited.
    for target in targets:
        cluster = sessions[target.id]
        _say(config, f"{target.id}: connecting to {target.server}")
        if cluster.connect_error:
            _say(
                config,
                f"{target.id}: cannot connect ({cluster.connect_error});"
                " every check on this cluster reports an error",
            )
            continue
        _say(config, f"{target.id}: reading the cluster (one paginated list per resource)")
        # Without xdist workers this process judges too: keep the lists in memory.
        cluster.snapshot.prefetch(keep=not config.pluginmanager.has_plugin("dsession"))


class UnreachableClusters:
    """Fails closed, fast: a check on a cluster the suite could not connect to errors at
    once with the reason, before its body would retry the API server again and again."""

    NAME = "kubepci-unreachable"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        view = item.stash.get(RESULT, None)
        if view is not None and view.session.connect_error:
            raise EvidenceUnavailable(f"cannot connect: {view.session.connect_error}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cluster" not in metafunc.fixturenames:
        return
    if TARGETS not in metafunc.config.stash:
        # A test outside tests_pci asked for a cluster: start the audit now.
        _start_audit(metafunc.config)
    targets = metafunc.config.stash[TARGETS]
    metafunc.parametrize(
        "_kubepci_target", [t.id for t in targets], ids=[t.id for t in targets], indirect=True
    )


@pytest.fixture
def _kubepci_target(request: pytest.FixtureRequest) -> ClusterSession:
    return request.config.stash[SESSIONS][request.param]


@pytest.fixture
def cluster(request: pytest.FixtureRequest, _kubepci_target: ClusterSession) -> Cluster:
    """One check's view of one audited cluster (see :class:`kubepci.facade.Cluster`)."""
    marker = request.node.get_closest_marker("kubepci_check")
    if marker is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} uses the cluster fixture without @check(...)"
        )
    config = request.config
    view = Cluster(
        _kubepci_target,
        catalogue.load().checks[marker.args[0]],
        config.stash[WAIVERS],
        config.stash[SETTINGS],
    )
    request.node.stash[RESULT] = view
    return view


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    try:
        return (yield)
    except NotApplicable as exc:
        _record(item, Verdict.NOT_APPLICABLE, exc.reason)
        raise pytest.skip.Exception(
            f"not applicable: {exc.reason}", _use_item_location=True
        ) from None
    except ManualAttestation as exc:
        _record(item, Verdict.MANUAL, exc.reason)
        raise pytest.skip.Exception(f"manual: {exc.reason}", _use_item_location=True) from None


def _record(item: pytest.Item, verdict: Verdict, reason: str) -> None:
    view = item.stash.get(RESULT, None)
    if view is not None:
        view.result.verdict = verdict
        view.result.reason = reason


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report: pytest.TestReport = yield
    view = item.stash.get(RESULT, None)
    if view is None or report.when != "call":
        return report
    result = view.result
    if call.excinfo is not None:
        if call.excinfo.errisinstance(EvidenceUnavailable):
            result.verdict = Verdict.ERROR
            result.reason = f"evidence unavailable: {call.excinfo.value.reason}"
            report.longrepr = result.reason
        elif result.verdict not in (Verdict.FAILED, Verdict.WAIVED) and not report.skipped:
            # A bug or an unexpected answer inside a check is never a pass or a finding.
            result.verdict = Verdict.ERROR
            result.reason = f"check could not complete: {call.excinfo.exconly()[:300]}"
    entry = catalogue.load().checks[view.check.id]
    payload = report_results.payload(result, entry, catalogue.load())
    report.kubepci = payload  # type: ignore[attr-defined]
    properties = report_results.junit_properties(payload)
    report.user_properties.extend(properties)
    # JUnit XML takes properties from the teardown report, which pytest builds from a copy
    # of item.user_properties: without this no <property> is ever written.
    item.user_properties.extend(properties)
    report.extras = [*getattr(report, "extras", []), *htmlreport.extras(payload)]
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    payload = getattr(report, "kubepci", None)
    if not payload or report.when != "call":
        return None
    return VERDICT_STATUS.get(Verdict(payload["verdict"]))
