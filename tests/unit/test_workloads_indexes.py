"""Workloads' namespace indexes answer exactly what a scan of every account, pod and token
Secret answers (the scan is what the indexes replaced: at 7,500 namespaces it was asked
once per namespace)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kubepci.analysis.workloads import PodAccount, Workloads

namespace = st.sampled_from(["", "a", "b", "kube-system"])
name = st.sampled_from(["default", "app", "ci", "x"])
workloads = st.builds(
    Workloads,
    st.frozensets(st.tuples(namespace, name), max_size=8),
    st.lists(
        st.builds(PodAccount, namespace, name, st.sampled_from(["", "n1", "n2"]), name), max_size=8
    ).map(tuple),
    st.frozensets(st.tuples(namespace, name, name), max_size=6),
)
scope = st.sampled_from(["", "a", "b", "kube-system", "absent"])
names = st.lists(name, max_size=2)


@given(workloads, scope)
def test_accounts_of_a_namespace(w: Workloads, where: str) -> None:
    assert w.service_accounts_in(where) == sorted(
        a for a in w.accounts if not where or a[0] == where
    )


@given(workloads, scope, names, names)
def test_accounts_of_token_holding_pods(w: Workloads, where: str, pods, nodes) -> None:  # type: ignore[no-untyped-def]
    named, on = set(pods), set(nodes)
    expected = sorted(
        {
            (p.namespace, p.service_account)
            for p in w.pods
            if (not where or p.namespace == where)
            and (not (named or on) or p.pod in named or p.node in on)
        }
    )
    assert w.pod_service_accounts(where, pods=pods, nodes=nodes) == expected


@given(workloads, scope, names)
def test_accounts_of_token_secrets(w: Workloads, where: str, secrets) -> None:  # type: ignore[no-untyped-def]
    named = set(secrets)
    expected = sorted(
        {
            (ns, account)
            for ns, secret, account in w.token_secrets
            if (not where or ns == where) and (not named or secret in named)
        }
    )
    assert w.token_secret_accounts(where, secrets=secrets) == expected


def test_asking_again_answers_the_same_and_leaves_the_record_unchanged() -> None:
    w = Workloads(frozenset({("a", "x"), ("b", "y")}), (), frozenset())
    first = w.service_accounts_in("a")
    first.append(("a", "mutated"))  # a caller's list is its own
    assert w.service_accounts_in("a") == [("a", "x")]
    assert w == Workloads(frozenset({("a", "x"), ("b", "y")}), (), frozenset())


def test_from_objects_reads_who_runs_where() -> None:
    """Each pod's account (the admission default where it names none), the node it runs
    on ("" before it is scheduled), mirror pods as accounts only, and the accounts token
    Secrets name; an Opaque copy whose annotation is empty names none."""
    from tests import builders as b

    static = b.pod("etcd-cp", ns="kube-system", mirror=True, sa=None)
    unnamed = b.pod("web", ns="shop", sa=None)
    pending = b.pod("batch", ns="shop", sa="runner", node="")
    opted_out = b.pod("quiet", ns="shop", sa="quiet", automount=False)
    secrets = [
        b.secret_meta("runner-token", ns="shop", sa="runner"),
        b.secret_meta("copy", ns="shop", annotations={"kubernetes.io/service-account.name": ""}),
        b.secret_meta("plain", ns="shop"),
    ]
    accounts = [b.service_account("default", "shop"), b.service_account("ci", "tools")]
    w = Workloads.from_objects(accounts, [static, unnamed, pending, opted_out], secrets)
    assert w == Workloads(
        frozenset(
            {
                ("shop", "default"),
                ("tools", "ci"),
                ("kube-system", "default"),
                ("shop", "runner"),
                ("shop", "quiet"),
            }
        ),
        (PodAccount("shop", "web", "node-1", "default"), PodAccount("shop", "batch", "", "runner")),
        frozenset({("shop", "runner-token", "runner")}),
    )
