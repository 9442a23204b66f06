"""Rendering the results table and judging the targets (bench.table)."""

from __future__ import annotations

from collections import Counter

from bench import estate, procs, table
from bench.browser import Opened
from bench.floor import Floor
from bench.machine import Machine, memory_gib
from bench.suite import SuiteRun

LISTS = Counter({"list pods": 20, "list nodes": 1, "list secrets": 1})
FIXED = Counter({"get /version": 1, "create selfsubjectreviews": 1, "get nodes/proxy": 1})
OPENED = Opened(1.5, 1000)
MACHINE = Machine("2026-01-02 03:04 UTC", "vm", 2, 23.5, "6.1.0", "v1.35.4", "compliant")


def memory(*peaks_mb: int) -> procs.TreePeak:
    peak = procs.TreePeak()
    for pid, mb in enumerate(peaks_mb, start=100):
        peak.peaks[pid] = mb * 1000 * 1000 // 1024
        peak.names[pid] = "python"
    peak.pytest = set(peak.peaks)
    peak.concurrent = sum(peak.peaks.values())
    return peak


def suite_run(
    workers: str = "0",
    wall: float = 10.0,
    requests: Counter[str] | None = None,
    rss: tuple[int, ...] = (200,),
    html: int = 2_000_000,
    probes: float = 2.0,
) -> SuiteRun:
    return SuiteRun(
        workers=workers,
        wall=wall,
        exit_code=1,
        requests=requests if requests is not None else LISTS + FIXED,
        memory=memory(*rss),
        html_bytes=html,
        results_bytes=None,
        evidence_bytes=5_000_000,
        check_seconds={"api-server-anonymous-probe": probes, "pod-token-automount": 0.5},
        outcomes=Counter({"failure": 3, "passed": 20}),
        phases={"startup": 0.5},
    )


def size(
    pods: int = 10_000,
    floor_wall: float = 6.0,
    serial: SuiteRun | None = None,
    parallel: SuiteRun | None = None,
    opened: Opened = OPENED,
) -> table.SizeResult:
    floor = Floor(
        floor_wall, floor_wall - 1, {"pods": 20, "nodes": 1, "secrets": 1}, {"pods": pods}
    )
    return table.SizeResult(
        estate.scaled(pods),
        30.0,
        floor,
        LISTS,
        serial or suite_run(),
        parallel or suite_run("auto", wall=9.0, rss=(100, 120, 120)),
        opened,
    )


def verdicts(results: list[table.SizeResult]) -> dict[str, bool]:
    return {
        t.name.split(" ")[0] + " " + t.name.split(" ")[1]: t.met for t in table.targets(results)
    }


def test_all_targets_met() -> None:
    assert all(t.met for t in table.targets([size(1_000), size()]))


def test_wall_budget_is_one_and_a_half_floors_plus_probes() -> None:
    assert table.wall_budget(size()) == 1.5 * 6.0 + 2.0
    over = table.targets([size(serial=suite_run(wall=11.1))])
    assert not over[0].met and "11.1s vs 11.0s" in over[0].measured


def test_requests_growing_with_objects_are_caught() -> None:
    grown = suite_run(requests=LISTS + FIXED + Counter({"get pods": 10_000}))
    result = table.requests_constant([size(1_000), size(serial=grown)])
    assert result[0] is False and "differ" in result[1]


def test_list_pages_beyond_the_floor_are_caught() -> None:
    doubled = suite_run(requests=LISTS + LISTS + FIXED)
    assert table.requests_constant([size(serial=doubled)])[0] is False


def test_rss_of_n_auto_is_the_sum_of_every_process_peak() -> None:
    heavy = suite_run("auto", wall=9.0, rss=(150, 150, 150))
    targets = {t.name: t for t in table.targets([size(parallel=heavy)])}
    rss = next(t for name, t in targets.items() if name.startswith("peak RSS -n auto"))
    assert rss.measured.startswith("450 MB (450 MB without") and not rss.met


def test_credential_plugins_count_in_the_tree_but_are_shown_apart() -> None:
    run = suite_run("auto", wall=9.0, rss=(100, 120, 120, 40))
    run.memory.pytest.discard(103)  # the fourth process: a credential plugin
    result = size(parallel=run)
    rss = next(t for t in table.targets([result]) if t.name.startswith("peak RSS -n auto"))
    assert rss.measured == "380 MB (340 MB without credential-plugin processes)" and rss.met
    assert "380 (340)" in table.render([result], MACHINE, [])


def test_html_browser_and_parallel_targets() -> None:
    results = [
        size(
            serial=suite_run(html=12_000_000),
            parallel=suite_run("auto", wall=10.6, rss=(100,)),
            opened=Opened(None, 0, "chromium not installed (make deps)"),
        )
    ]
    missed = {t.name for t in table.targets(results) if not t.met}
    assert missed == {
        "HTML report ≤ 10 MB",
        "HTML opens in headless Chromium < 5s",
        "-n auto not slower than -n 0 (within 5%, the run-to-run noise)",
    }


def test_n_auto_within_the_noise_is_not_slower() -> None:
    within = table.targets([size(parallel=suite_run("auto", wall=10.4, rss=(100,)))])
    beyond = table.targets([size(parallel=suite_run("auto", wall=10.6, rss=(100,)))])
    assert within[-1].met and within[-1].measured == "10.40s vs 10.00s"
    assert not beyond[-1].met


def test_render_has_every_section_and_one_row_per_size() -> None:
    text = table.render([size(1_000), size()], MACHINE, ["- a note"])
    assert "2 CPUs, 23.5 GiB RAM, Linux 6.1.0; Kubernetes v1.35.4" in text
    rows = [line for line in text.splitlines() if line.startswith("| 1,000 pods / 50 ns |")]
    assert len(rows) == 1
    assert "| 10,000 pods / 500 ns | 19,200 | 6.0 (5.0) | 10.0 | 1.67 | 2.0 | 11.0 | 9.0 |" in text
    assert "25 (22 list + 3)" in text  # requests: lists + the rest
    for heading in ("## Requests by verb and resource", "## Where the time goes", "## Memory"):
        assert heading in text
    assert "| `get nodes/proxy` | 0 / 1 / 1 | 0 / 1 / 1 |" in text
    assert "--evidence-dir` wrote no results.json" in text
    assert text.rstrip().endswith("- a note")


def test_meminfo() -> None:
    assert memory_gib("MemTotal:       24684544 kB\nMemFree: 1 kB\n") == 24684544 / 1024**2
