"""HTML fragments: each check's extra, the control summary, scope and limitations."""

from __future__ import annotations

from kubepci.report import htmlparts
from kubepci.report.htmlreport import COLUMNS, HtmlReport, extras
from tests.unit.test_report_pack import cluster_scope, result, scope, view

PROBE = {
    "method": "GET",
    "url": "https://192.0.2.2:10250/pods",
    "status": 200,
    "error": "",
    "headers": {"content-type": "application/json"},
    "body_excerpt": '{"kind":"PodList"} <script>alert(1)</script>',
    "credentials_sent": "none",
}


def failed_check() -> dict:
    data = result("kubelet-anonymous-probe", "failed", reason="1 finding(s)")
    data["findings"] = [
        {
            "kind": "Node",
            "namespace": "",
            "name": "vm",
            "detail": "GET /pods answered 200",
            "class": "anonymous-kubelet",
        }
    ]
    data["evidence"] = [
        {"title": "Unauthenticated requests to each kubelet", "kind": "probe", "content": [PROBE]},
        {
            "title": "kube-apiserver flags (kube-system/kube-apiserver-vm)",
            "kind": "flags",
            "content": {
                "component": "kube-apiserver",
                "pod": "kube-system/kube-apiserver-vm",
                "node": "vm",
                "flags": {"anonymous-auth": "--anonymous-auth=true (set on pod x)"},
            },
        },
        {"title": "Grants", "kind": "rbac", "content": ["Group system:anonymous → a → b"]},
        {"title": "Config", "kind": "objects", "content": {"vm": {"readOnlyPort": 10255}}},
        {"title": "Policy", "kind": "text", "content": "longest acceptable: 86400s"},
    ]
    data["waived"] = [
        {
            "finding": {
                "kind": "Node",
                "namespace": "",
                "name": "old",
                "detail": "x",
                "class": "anonymous-kubelet",
            },
            "waiver": {
                "check": "kubelet-anonymous-probe",
                "selector": {"kind": "Node", "namespace": "", "name": "old"},
                "class": "*",
                "justification": "decommissioned on 2026-02-01",
                "approver": "ciso@example.com",
                "expires": "2026-02-01",
            },
        }
    ]
    return data


def test_check_extra_holds_everything_an_assessor_reads() -> None:
    html = htmlparts.check_html(failed_check())
    for expected in (
        "kubelet-anonymous-probe",
        "1.1.4",  # the recommendation it verifies
        "PCI DSS v4.0.1",
        "kp-v-failed",
        "1 finding(s)",
        "Remediation",
        "GET /pods answered 200",
        "https://192.0.2.2:10250/pods",  # probe transcript: URL, status, headers, body
        "<b>200</b>",
        "application/json",
        "--anonymous-auth=true (set on pod x)",  # flag and where it was read
        "Group system:anonymous → a → b",  # RBAC path
        "readOnlyPort",
        "decommissioned on 2026-02-01",  # waiver justification and expiry
        "ciso@example.com",
        "<th>Class</th>",
        "<td>anonymous-kubelet</td>",  # the finding's class
        "<td>anonymous-kubelet (waiver: *)</td>",  # and the wider glob that waived it
    ):
        assert expected in html, expected
    # Failing evidence is shown opened; the body of a probe is escaped, never markup.
    assert "<details open>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_findings_written_before_classes_still_render() -> None:
    data = failed_check()
    del data["findings"][0]["class"]
    del data["waived"][0]["finding"]["class"], data["waived"][0]["waiver"]["class"]
    html = htmlparts.check_html(data)
    assert "GET /pods answered 200" in html and "ciso@example.com" in html


def test_passed_check_evidence_starts_collapsed() -> None:
    data = result("static-token-file", "passed")
    data["evidence"] = [{"title": "t", "kind": "text", "content": "c"}]
    html = htmlparts.check_html(data)
    assert "<details>" in html and "<details open>" not in html


def test_long_evidence_is_cut_for_the_browser() -> None:
    data = result("pod-token-automount", "passed")
    data["evidence"] = [
        {"title": "pods", "kind": "rbac", "content": [f"pod-{i}" for i in range(1000)]}
    ]
    html = htmlparts.check_html(data)
    assert "pod-299" in html and "pod-300<" not in html
    assert "700 more in results.json" in html


def test_extras_are_pytest_html_html_extras() -> None:
    [extra] = extras(failed_check())
    assert extra["format_type"] == "html"
    assert "kubelet-anonymous-probe" in extra["content"]


def test_summary_scope_and_limitations_fragments() -> None:
    data = view([failed_check(), result("break-glass-custody", "manual", reason="only its owner")])
    summary_html = htmlparts.summary_html(data["control_summary"], data["clusters"])
    assert "PCI 1.1" in summary_html and "PCI 1.6" in summary_html
    assert "8.2.1, 8.3.1, 7.3.3" in summary_html
    assert "kp-v-failed" in summary_html and "kp-v-not_run" in summary_html
    scope_html = htmlparts.scope_html(scope(cluster_scope("ctx")))
    for expected in ("https://192.0.2.2:6443", "0f0e0d0c-uid", "alice", "v1.35.4", "kubeadm"):
        assert expected in scope_html
    limits = htmlparts.limitations_html(data["limitations"])
    assert "only its owner" in limits and "break-glass-custody" in limits


def test_table_hooks_add_verdict_columns() -> None:
    plugin = HtmlReport.__new__(HtmlReport)
    header = ["<th>Result</th>", "<th>Test</th>"]
    plugin.pytest_html_results_table_header(header)
    assert len(header) == 2 + len(COLUMNS)

    class Report:
        kubepci = failed_check()

    cells = ["<td>Failed</td>", "<td>t</td>"]
    plugin.pytest_html_results_table_row(Report(), cells)  # type: ignore[arg-type]
    assert cells[1].startswith('<td class="col-verdict">')
    assert "kp-v-failed" in cells[1]
    assert cells[2] == '<td class="col-pci">1.1</td>'

    class Plain:
        pass

    cells = ["<td>Passed</td>", "<td>t</td>"]
    plugin.pytest_html_results_table_row(Plain(), cells)  # type: ignore[arg-type]
    assert len(cells) == 2 + len(COLUMNS)
