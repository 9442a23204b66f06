"""The kubepci pytest plugin (entry point ``pytest11``): options, parametrization, verdicts.

Options live here, not in a conftest, so ``pytest --pyargs tests_pci`` works from any
directory. Nothing here contacts a cluster before session start; ``pytest --help`` needs
no kubeconfig.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import pytest

from kubepci import catalogue, invocation, replay, selection
from kubepci.access.api import Policy
from kubepci.access.cluster import ClusterSession, store_name
from kubepci.access.kubeconfig import KubeconfigError, resolve_targets
from kubepci.access.probe_pool import PROBE_DEADLINE, PROBE_TIMEOUT, PROBES_AT_ONCE, ProbeLimits
from kubepci.access.snapshot import gc_paused
from kubepci.analysis.flags import parse_duration
from kubepci.facade import Cluster, Settings
from kubepci.report import assessor, htmlreport
from kubepci.report import register as register_outputs
from kubepci.report import results as report_results
from kubepci.report.redact import redact
from kubepci.report.results import ResultCollector
from kubepci.stash import (
    OWN_STORE,
    REPLAYED,
    RESULT,
    SESSIONS,
    SETTINGS,
    STORE,
    TARGETS,
    WAIVERS,
)
from kubepci.verdict import EvidenceUnavailable, ManualAttestation, NotApplicable, Verdict
from kubepci.waivers import WaiverError
from kubepci.waivers import load as load_waivers

VERDICT_STATUS = {
    Verdict.ERROR: ("error", "E", ("ERROR", {"red": True})),
    Verdict.MANUAL: ("manual", "M", ("MANUAL", {"yellow": True})),
    Verdict.NOT_APPLICABLE: ("not applicable", "N", ("NOT APPLICABLE", {"yellow": True})),
    Verdict.WAIVED: ("waived", "W", ("WAIVED", {"yellow": True})),
    Verdict.ATTESTED: ("attested", "A", ("ATTESTED", {"cyan": True})),
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
        "--check",
        action="append",
        default=[],
        metavar="ID",
        help="run only this check (a catalogue id, e.g. kubelet-config); repeatable. "
        "-k ID selects by id too",
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
        "--sign-key",
        metavar="PATH",
        help="Ed25519 private key (PEM) that signs the evidence pack's manifest (manifest.sig;"
        " needs --evidence-dir; an encrypted key's passphrase in $KUBEPCI_SIGN_KEY_PASSPHRASE)",
    )
    group.addoption(
        "--oscal",
        metavar="FILE",
        help="write the run as an OSCAL assessment-results document (JSON) here",
    )
    group.addoption(
        "--from-evidence",
        metavar="DIR",
        help="re-perform an audit from an evidence pack (--evidence-dir of an earlier run): "
        "the same checks judge its recorded evidence, with no cluster contact",
    )
    group.addoption(
        "--api-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="read timeout for each API request (default 30); requests are retried with backoff",
    )
    assessor.add_options(group)
    group.addoption(
        "--probes-at-once",
        type=int,
        default=PROBES_AT_ONCE,
        metavar="N",
        help="live probes (kubelets, control plane, etcd, service and node proxy) in flight at "
        f"once (default {PROBES_AT_ONCE}: 5,000 firewalled nodes in about 5 minutes)",
    )
    group.addoption(
        "--probe-timeout",
        type=float,
        default=PROBE_TIMEOUT,
        metavar="SECONDS",
        help=f"how long one live probe waits for its answer (default {PROBE_TIMEOUT:g}); a "
        "probe is sent once, never retried",
    )
    group.addoption(
        "--probe-deadline",
        type=float,
        default=PROBE_DEADLINE,
        metavar="SECONDS",
        help="per probe phase (every kubelet, every Service port, ...): probes still "
        "unanswered then are recorded as unanswered and their check errors "
        f"(default {PROBE_DEADLINE:g})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kubepci_check(id): binds a test to a catalogue check")
    for item in catalogue.load().items.values():
        config.addinivalue_line(
            "markers", f"{item.marker}: PCI Section 1 item {item.id} ({item.title})"
        )
    if config.option.help or not _audit_requested(config):
        return  # passive: another project's run gets no store, no outputs, no redaction
    _activate(config)


def _activate(config: pytest.Config) -> None:
    """Make this run an audit: the shared evidence store and the output plugins."""
    if STORE in config.stash:
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
    if STORE in node.config.stash:
        node.workerinput["kubepci_store"] = str(node.config.stash[STORE])


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist: each cluster's checks on one worker, so a cluster's lists are parsed
    by one process (see kubepci.scheduling); any --dist mode but "load" is left as asked."""
    if STORE not in config.stash or config.option.dist != "load":
        return None
    from kubepci.scheduling import ClusterScheduling

    return ClusterScheduling(config, log)


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
        if config.option.from_evidence:
            count = replay.cluster_count(Path(config.option.from_evidence))
        else:
            count = len(resolve_targets(config.option.kubeconfig, config.option.context))
    except (KubeconfigError, replay.ReplayError):
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


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """``pytest --kubeconfig PATH`` (space or ``=``), from any directory, runs the shipped
    suite: the last point where pytest's test paths can still change (see
    :mod:`kubepci.invocation`)."""
    invocation.name_the_suite(args, early_config.known_args_namespace)
    if invocation.rootdir_from_kubeconfig(early_config, args):
        # pytest's cache writes under the rootdir: never into the kubeconfig's folder.
        early_config.pluginmanager.set_blocked("cacheprovider")
        early_config.pluginmanager.set_blocked("stepwise")  # it needs the cache


def _audit_requested(config: pytest.Config) -> bool:
    """Is this run an audit? The plugin is loaded into every pytest run of the environment
    it is installed in, so it stays passive unless asked: an option that asks for an audit
    (--kubeconfig, --context, --check, --from-evidence), or the shipped suite among the
    test paths (not merely a path whose name contains "tests_pci")."""
    return invocation.asks_for_audit(config.option) or invocation.names_the_suite(config)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    invocation.collect_the_suite(session.config)
    if _audit_requested(session.config):
        # Before any cluster is contacted: a typo costs no audit.
        selection.validate(session.config.option.check, catalogue.load().checks)
        _start_audit(session.config)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session):
    """An output that cannot be written (the evidence pack, the report) is an internal
    error, exit 3: raised on from here, Python would end the run with exit 1, which a CI
    gate reads as findings."""
    try:
        return (yield)
    except Exception:
        if not _audit_requested(session.config):
            raise
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write("kubepci: internal error while writing the outputs (exit 3)\n")
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each bound test answers to its check id under ``-k`` (tryfirst: before pytest's
    own -k deselection), and ``--check`` keeps only the checks it names."""
    for item in items:
        check_id = selection.check_of(item)
        if check_id is not None:
            item.extra_keyword_matches.add(check_id)
    if config.option.check:
        kept, deselected = selection.select(items, set(config.option.check))
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = kept


def _start_replay(config: pytest.Config) -> None:
    """--from-evidence: the pack's targets, settings and waivers; its raw exports as the
    (read-only) stores. Nothing is contacted, so there is no first contact to make."""
    given = [
        name
        for name, value in (
            ("--kubeconfig", config.option.kubeconfig),
            ("--context", config.option.context),
            ("--waivers", config.option.waivers),
            ("--node-root", config.option.node_root),
            ("--attestations", config.option.attestations),
        )
        if value
    ]
    if given:
        raise pytest.UsageError(
            f"--from-evidence replays the recorded run: {', '.join(given)} cannot be given "
            "with it (the pack records the clusters, settings and waivers that were used)"
        )
    try:
        replayed = replay.load(
            Path(config.option.from_evidence).expanduser().absolute(),
            set(catalogue.load().checks),
        )
    except replay.ReplayError as exc:
        raise pytest.UsageError(str(exc)) from None
    assessor.start(config)  # --baseline still applies: what changed since that pack
    config.stash[assessor.ATTESTATIONS] = replayed.attestations
    config.stash[WAIVERS] = replayed.waivers
    config.stash[SETTINGS] = replayed.settings
    config.stash[TARGETS] = replayed.targets
    config.stash[REPLAYED] = replayed
    config.stash[report_results.STARTED] = dt.datetime.now(dt.UTC)
    sessions = config.stash[SESSIONS]
    for target in replayed.targets:
        sessions[target.id] = ClusterSession(
            target,
            replayed.stores[target.id],
            node_root=replayed.settings.node_root,
            replay=True,
        )
    if not hasattr(config, "workerinput"):
        _say(config, f"replaying the evidence pack {replayed.directory} (no cluster contact)")


def _start_audit(config: pytest.Config) -> None:
    if config.option.from_evidence:
        _start_replay(config)
        return
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
    assessor.start(config)  # --attestations, --baseline: validated before any contact
    settings = config.stash[SETTINGS] = _settings(config)
    config.stash[TARGETS] = targets
    config.stash[report_results.STARTED] = dt.datetime.now(dt.UTC)
    sessions = config.stash[SESSIONS]
    policy = Policy(read_timeout=float(config.option.api_timeout))
    try:
        limits = ProbeLimits(
            at_once=config.option.probes_at_once,
            timeout=config.option.probe_timeout,
            deadline=config.option.probe_deadline,
        )
    except ValueError as exc:
        raise pytest.UsageError(f"probe options: {exc}") from None
    for target in targets:
        sessions[target.id] = ClusterSession(
            target,
            config.stash[STORE] / store_name(target.id),
            node_root=settings.node_root,
            policy=policy,
            progress=lambda message: _say(config, message),
            probe_limits=limits,
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
        _activate(metafunc.config)
        _start_audit(metafunc.config)
    targets = metafunc.config.stash[TARGETS]
    metafunc.parametrize(
        "_kubepci_target",
        [t.id for t in targets],
        ids=[t.id for t in targets],
        indirect=True,
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
    # A check judges a large cluster by building hundreds of thousands of small objects
    # (the privilege graph); the cyclic collector would rescan the growing heap while it
    # does, most of the judging time at 50,000 pods. Other projects' tests are left alone.
    paused = gc_paused(freeze=False) if RESULT in item.stash else contextlib.nullcontext()
    try:
        with paused:
            return (yield)
    except NotApplicable as exc:
        _record(item, Verdict.NOT_APPLICABLE, exc.reason)
        raise pytest.skip.Exception(
            f"not applicable: {exc.reason}", _use_item_location=True
        ) from None
    except ManualAttestation as exc:
        view = item.stash.get(RESULT, None)
        outcome = assessor.attest(item.config, view.result, exc.reason) if view else None
        if outcome is not None and outcome.verdict is Verdict.ATTESTED:
            # An attestation in force: "attested", a verdict of its own, never "passed".
            _record(item, Verdict.ATTESTED, outcome.reason)
            raise pytest.skip.Exception(outcome.reason, _use_item_location=True) from None
        reason = outcome.reason if outcome else exc.reason
        _record(item, Verdict.MANUAL, reason)
        raise pytest.skip.Exception(f"manual: {reason}", _use_item_location=True) from None


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
        failure = call.excinfo.value
        if isinstance(failure, EvidenceUnavailable):
            result.verdict = Verdict.ERROR
            result.reason = f"evidence unavailable: {failure.reason}"
            report.longrepr = result.reason
        elif result.verdict not in (Verdict.FAILED, Verdict.WAIVED) and not report.skipped:
            # A bug or an unexpected answer inside a check is never a pass or a finding.
            result.verdict = Verdict.ERROR
            result.reason = f"check could not complete: {call.excinfo.exconly()[:300]}"
    elif report.passed and result.verdict is not Verdict.PASSED:
        # The body returned without judging (a check's bug): the pytest outcome must say
        # so in every output, JUnit included, not only the verdict column.
        report.outcome = "failed"
        report.longrepr = f"{view.check.id}: {result.reason} (the check ended without a verdict)"
    entry = catalogue.load().checks[view.check.id]
    payload = report_results.payload(result, entry, catalogue.load())
    report.kubepci = payload  # type: ignore[attr-defined]
    properties = report_results.junit_properties(payload)
    report.user_properties.extend(properties)
    # JUnit XML takes properties from the teardown report, which pytest builds from a copy
    # of item.user_properties: without this no <property> is ever written.
    item.user_properties.extend(properties)
    # pytest-html reads report.extras (an attribute it adds, unknown to pytest's types).
    setattr(report, "extras", [*getattr(report, "extras", []), *htmlreport.extras(payload)])  # noqa: B010
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    payload = getattr(report, "kubepci", None)
    if not payload or report.when != "call":
        return None
    return VERDICT_STATUS.get(Verdict(payload["verdict"]))
