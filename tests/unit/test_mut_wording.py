"""Reasons and evidence lines at the edges the check replays alone reached.

Found by ``make mutation`` (tests/mutation/): lists joined with their separator, lists cut
at their limit, and the fixed wording of each "nothing to judge" error, asserted here on
the judging functions themselves so that the quick tests, not only the single-check
replays, tell a changed word.
"""

from __future__ import annotations

import pytest

from kubepci.analysis import kubelet_config
from kubepci.analysis.anonymous import AnonymousAuth
from kubepci.analysis.api_server_access import AnonymousConfig, judge_anonymous_config
from kubepci.analysis.authorizer import Rule
from kubepci.analysis.endpoints import ReadOnlyTarget
from kubepci.analysis.etcd_access import judge_etcd_probes
from kubepci.analysis.flags import ComponentFlags
from kubepci.analysis.keyfiles import judge_private_keys, judge_signing_keys
from kubepci.analysis.kubelet_access import judge_kubelet_config, judge_read_only_probes
from kubepci.records.probes import ProbeResult


def test_rule_texts_join_each_list() -> None:
    urls = Rule(("get", "list"), non_resource_urls=("/healthz", "/livez"))
    assert urls.text() == "get,list on /healthz,/livez"
    both = Rule(("get",), ("", "apps"), ("pods",), ("a", "b"), ("/x",))
    assert both.text() == "get on core,apps/pods (names: a,b)"
    assert Rule(("get",), (), ("pods",)).text() == "get on no group/pods"


def test_nothing_inspected_is_an_error_word_for_word() -> None:
    assert judge_signing_keys([]).unavailable == "no signing key was inspected: nothing to judge"
    assert judge_private_keys([]).unavailable == (
        "no private key file was inspected: nothing to judge"
    )


def test_unclear_etcd_answers_are_each_named() -> None:
    probes = [
        ProbeResult("GET", "https://10.0.0.1:2379/health", None, "timed out"),
        ProbeResult("GET", "https://10.0.0.2:2379/health", None, "connection refused"),
    ]
    reason = judge_etcd_probes(probes).unavailable
    assert reason == "; ".join(p.line() for p in probes)
    assert reason.count("; ") == 1


def test_kubelet_configz_errors_are_each_named() -> None:
    configz = {"a": {"error": "timed out"}, "b": {"error": "503"}}
    assert judge_kubelet_config(configz).unavailable == (
        "cannot read kubelet configz: a: timed out; b: 503"
    )


def test_eleven_nodes_not_granted_name_ten_and_count_one() -> None:
    judged = kubelet_config.ConfigzJudgement(not_granted=[f"n{i:02}" for i in range(11)])
    reason = judged.not_granted_reason()
    assert "n09 and 1 more was not" in reason
    assert "n10" not in reason
    ten = kubelet_config.ConfigzJudgement(not_granted=[f"n{i:02}" for i in range(10)])
    assert " more" not in ten.not_granted_reason()


def test_read_only_ports_of_every_kind_are_listed_in_the_pass() -> None:
    targets = [
        ReadOnlyTarget("a", "10.0.0.1", 10255, "default"),
        ReadOnlyTarget("b", "10.0.0.2", 10266, "configz readOnlyPort=10266"),
    ]
    probes = [
        ProbeResult("GET", f"http://{t.address}:{t.port}/pods", None, "connection refused")
        for t in targets
    ]
    judged = judge_read_only_probes(targets, probes)
    assert judged.passed == "the read-only port (10255, 10266) refused connections on every node"


@pytest.mark.parametrize("count", [6])
def test_an_unread_configuration_names_the_first_five_unclear_answers(count: int) -> None:
    probes = [
        ProbeResult("GET", f"https://10.0.0.1:6443/p{i}", None, "timed out") for i in range(count)
    ]
    config = AnonymousConfig((AnonymousAuth(False, how="not read"),))
    reason = judge_anonymous_config(config, probes, "https://10.0.0.1:6443").unavailable
    head = "the anonymous configuration was not read and the API server did not answer clearly: "
    assert reason == head + "; ".join(p.line() for p in probes[:5])


def test_a_refused_command_line_is_in_the_flags_evidence() -> None:
    flags = ComponentFlags(
        "kube-apiserver", "kube-system/a", "cp", {}, refused=["invalid boolean 'yes'"]
    )
    assert flags.evidence([])["refused"] == ["invalid boolean 'yes'"]
    assert "refused" not in ComponentFlags("kube-apiserver", "kube-system/a", "cp", {}).evidence([])


def test_a_default_account_subject_is_named_with_its_namespace() -> None:
    from kubepci.analysis.authorizer import Subject
    from kubepci.analysis.privilege_report import reaches_default_account

    assert reaches_default_account(Subject("ServiceAccount", "default", "shop")) == (
        "names the default ServiceAccount of shop"
    )
    # Only a ClusterRoleBinding can leave it out, and validation refuses that
    # (pkg/apis/rbac/validation ValidateRoleBindingSubject): the words still say so.
    assert reaches_default_account(Subject("ServiceAccount", "default")) == (
        "names the default ServiceAccount of no namespace"
    )
