"""The probe axes' plans and results (bench.fleet, bench.service_axis, bench.axes): pure."""

from __future__ import annotations

import ipaddress
from collections import Counter

from bench import axes, fleet, service_axis, table
from bench.sweep import Sweep


def test_fake_nodes_live_on_loopback_only_in_their_shares() -> None:
    nodes = fleet.plan(1000)
    assert Counter(n.share for n in nodes) == {"filtered": 500, "answering": 250, "refusing": 250}
    assert len({n.name for n in nodes}) == len({n.address for n in nodes}) == 1000
    for node in nodes:
        address = ipaddress.ip_address(node.address)
        assert address.is_loopback
        assert address.packed[1] == fleet.SHARES[node.share]
    filtered = ipaddress.ip_network(fleet.FILTERED_RANGE)
    assert all(
        (ipaddress.ip_address(n.address) in filtered) == (n.share == "filtered") for n in nodes
    )


def test_fake_node_manifest_keeps_daemonsets_off_and_names_its_port() -> None:
    body = fleet.manifest(fleet.plan(2)[1])
    assert {t["effect"] for t in body["spec"]["taints"]} == {"NoSchedule", "NoExecute"}
    assert body["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] == fleet.KUBELET_PORT
    assert [a["type"] for a in body["status"]["addresses"]] == ["InternalIP", "Hostname"]
    assert body["metadata"]["name"].startswith(f"{fleet.PREFIX}-node-")


def test_every_tenth_service_hangs() -> None:
    services = service_axis.plan(1000)
    kinds = Counter(s["spec"]["selector"]["app"] for s in services)
    assert kinds == {f"{fleet.PREFIX}-hang": 100, f"{fleet.PREFIX}-web": 900}
    assert all(s["metadata"]["namespace"] == service_axis.NAMESPACE for s in services)


def _result(added: float, sweep_s: float) -> axes.AxisResult:
    return axes.AxisResult("x", 10, 5.0, 5.0 + added, Sweep(10, sweep_s, Counter()))


def test_target_is_one_and_a_half_sweeps_plus_two_seconds() -> None:
    assert _result(added=17.0, sweep_s=10.0).met
    assert not _result(added=17.1, sweep_s=10.0).met
    assert "**MISSED**" in "\n".join(axes.render([_result(30.0, 1.0)]))


def test_the_axes_section_replaces_its_old_self_and_keeps_the_rest() -> None:
    base = "# bench\n\nsizes table\n\n## Runs\n\n- a run\n"
    once = axes.merge(base, [axes.HEADING, "", "first"])
    assert once.startswith(base.rstrip()) and once.endswith("first\n")
    twice = axes.merge(once, [axes.HEADING, "", "second"])
    assert "first" not in twice and "second" in twice and "- a run" in twice
    middle = axes.merge(
        "# b\n\n" + axes.HEADING + "\n\nold\n\n## Later\n\nkept\n", [axes.HEADING, "", "new"]
    )
    assert "old" not in middle and "new" in middle and middle.endswith("## Later\n\nkept\n")


def test_a_sizes_only_run_carries_the_axes_section_over() -> None:
    old = axes.merge("# bench\n\nold sizes\n", [axes.HEADING, "", "| axis | figures |"])
    kept = axes.carried(old)
    assert kept == [axes.HEADING, "", "| axis | figures |"]
    fresh = axes.merge("# bench\n\nnew sizes\n", kept)
    assert "new sizes" in fresh and "| axis | figures |" in fresh and "old sizes" not in fresh
    assert axes.carried("# bench\n") == []


def test_growth_is_told_from_the_exponent() -> None:
    assert table.growth_word(table.exponent(100.0, 1000.0, 10_000, 100_000)) == "linear"
    assert table.growth_word(table.exponent(100.0, 300.0, 10_000, 100_000)) == "sub-linear"
    assert table.growth_word(table.exponent(84.0, 84.0, 10_000, 100_000)) == "about constant"
    assert table.growth_word(table.exponent(1.0, 1000.0, 10_000, 100_000)) == "super-linear"
