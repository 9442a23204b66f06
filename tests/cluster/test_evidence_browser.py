"""The HTML report as a person sees it: rendered by headless Chromium, offline.

The report's rows are drawn by pytest-html's script, so reading the file is not enough:
the control summary and a failing check's evidence must be in the rendered DOM and in the
text a reader actually sees (``innerText`` leaves out whatever is hidden or collapsed).
A screenshot is kept under out/browser/ for a person to look at.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest

from harness import chromium as headless
from tests.cluster.conftest import REPO, LocalCluster, SuiteRun, run_suite

SCREENSHOTS = REPO / "out" / "browser"
# Appended to a copy of the report: once the page's own script has drawn the rows, copy
# the text a reader can see into the DOM, where --dump-dom can show it.
VISIBLE_TEXT_PROBE = """
<script>
window.addEventListener("load", () => {
  const out = document.createElement("pre");
  out.id = "kubepci-visible-text";
  out.textContent = document.body.innerText;
  out.style.display = "none";
  document.body.appendChild(out);
});
</script>
"""


def chromium_binary() -> str:
    found = headless.binary()
    if found is None:
        pytest.fail(
            "headless Chromium is needed to render the report: apt-get install -y chromium "
            "(or `make deps`)",
            pytrace=False,
        )
    return found


def chromium(profile_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    chromium_binary()  # fails the test with the install hint when Chromium is missing
    command = headless.command(profile_dir, "--window-size=1400,2400", *args)
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def report_run(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    chromium_binary()  # fail first, and clearly, when the browser is missing
    outdir = tmp_path_factory.mktemp("browser")
    return run_suite(
        local_cluster.kubeconfig,
        outdir,
        "-n",
        "2",
        f"--html={outdir / 'report.html'}",
        "--self-contained-html",
        f"--evidence-dir={outdir / 'evidence'}",
    )


@pytest.fixture(scope="module")
def rendered(report_run: SuiteRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(rendered DOM, visible text) of the report."""
    report = report_run.outdir / "report.html"
    assert report.is_file(), report_run.stdout[-3000:] + report_run.stderr[-2000:]
    probe = report.with_name("report-visible.html")
    probe.write_text(report.read_text().replace("</body>", VISIBLE_TEXT_PROBE + "</body>"))
    done = chromium(
        tmp_path_factory.mktemp("chromium"),
        "--virtual-time-budget=10000",
        "--dump-dom",
        probe.as_uri(),
    )
    dom = done.stdout
    found = re.search(r'<pre id="kubepci-visible-text"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    assert found, "the page did not finish loading (no visible-text probe in the DOM)"
    return dom, html.unescape(found.group(1))


def failing_result(run: SuiteRun) -> dict | None:
    data = json.loads((run.outdir / "evidence" / "results.json").read_text())
    return next((r for r in data["results"] if r["verdict"] == "failed" and r["evidence"]), None)


def test_report_is_self_contained(report_run: SuiteRun) -> None:
    text = (report_run.outdir / "report.html").read_text()
    assert not re.search(r"<(script|img|link)[^>]+(src|href)=[\"']https?:", text)
    assert not list(report_run.outdir.glob("assets/*")), "self-contained: no asset files"


def test_control_summary_is_visible(rendered: tuple[str, str]) -> None:
    dom, visible = rendered
    assert 'id="kp-control-summary"' in dom
    assert "Control summary" in visible
    for item in range(1, 7):
        assert f"PCI 1.{item} — " in visible
    for heading in ("Scope", "Fingerprint (kube-system namespace UID)", "Limitations"):
        assert heading in visible


def test_rows_are_drawn_with_verdicts(rendered: tuple[str, str], report_run: SuiteRun) -> None:
    dom, _ = rendered
    data = json.loads((report_run.outdir / "evidence" / "results.json").read_text())
    for result in data["results"]:
        assert f'<td class="col-check">{result["check_id"]}</td>' in dom, result["check_id"]


def test_failing_check_evidence_is_visible(
    rendered: tuple[str, str], report_run: SuiteRun, local_cluster: LocalCluster
) -> None:
    dom, visible = rendered
    failing = failing_result(report_run)
    if failing is None:
        assert local_cluster.profile != "noncompliant", "no failing check with evidence"
        return
    # Failing rows open expanded, with their findings and evidence shown.
    assert f"Check {failing['check_id']}" in visible
    for finding in failing["findings"][:5]:
        assert finding["name"] in visible, finding
    for evidence in failing["evidence"][:3]:
        assert evidence["title"] in visible, evidence
    assert "Remediation" in visible
    assert 'id="check-' in dom


def test_screenshot(report_run: SuiteRun, local_cluster: LocalCluster, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"report-{local_cluster.profile or 'cluster'}.png"
    shot.unlink(missing_ok=True)
    chromium(
        tmp_path / "chromium", f"--screenshot={shot}", (report_run.outdir / "report.html").as_uri()
    )
    assert shot.stat().st_size > 50_000, "the screenshot is (nearly) blank"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
