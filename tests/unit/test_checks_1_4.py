"""PCI 1.4 offline: credentials in a properly secured store. The static token file and
the node's private key files, judged through replay on edited recordings of the local
clusters (the kube-apiserver static pod's command line; the recorded owner and mode of
each key file under --node-root, never its contents)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.evidence_cases import Evidence, Obj, with_flag

pytest_plugins = ["pytester"]

STATIC = "static-token-file"
KEYS = "key-file-permissions"


@pytest.fixture
def compliant(pytester: pytest.Pytester) -> Evidence:
    return Evidence(pytester, "compliant")


@pytest.fixture
def noncompliant(pytester: pytest.Pytester) -> Evidence:
    return Evidence(pytester, "noncompliant")


# ------------------------------------------------------------ static-token-file
def test_a_token_file_added_to_the_api_server_fails(compliant: Evidence) -> None:
    flag = "--token-auth-file=/etc/kubernetes/tokens.csv"
    compliant.command("kube-apiserver", lambda argv: with_flag(argv, flag))
    judged = compliant.judge(STATIC)
    assert judged.failures() == [
        (
            "Pod",
            "kube-system",
            "kube-apiserver-vm",
            f"static token file in use: {flag} (set on pod kube-system/kube-apiserver-vm)",
        )
    ]
    assert (judged.junit, judged.ret) == ("failed", 1)


def test_a_later_empty_token_file_flag_wins(noncompliant: Evidence) -> None:
    """pflag: the last value of a flag given twice is the one the server uses."""
    noncompliant.command("kube-apiserver", lambda argv: [*argv, "--token-auth-file="])
    judged = noncompliant.judge(STATIC)
    assert (judged.verdict, judged.reason) == ("passed", "no --token-auth-file")


def test_a_command_line_the_server_would_refuse_errors(compliant: Evidence) -> None:
    compliant.command("kube-apiserver", lambda argv: [*argv, "--token-auth-files=/tmp/x"])
    judged = compliant.judge(STATIC)
    assert judged.reason == (
        "evidence unavailable: kube-apiserver would not start with the command line of its "
        "static pod, so these flags do not describe a running kube-apiserver: "
        "kube-system/kube-apiserver-vm: unknown flag: --token-auth-files"
    )


def test_a_managed_control_plane_is_not_applicable(compliant: Evidence) -> None:
    compliant.managed_by_eks()
    judged = compliant.judge(STATIC)
    assert (judged.verdict, judged.reason) == (
        "not_applicable",
        "EKS runs kube-apiserver in the provider's managed control plane; its flags are not "
        "visible through the API",
    )
    assert (judged.junit, judged.ret) == ("skipped", 0)


# ------------------------------------------------------------ key-file-permissions
def key_file(path: str, mode: str, uid: int = 0) -> Callable[[Obj], None]:
    def edit(record: Obj) -> None:
        (key,) = [k for k in record["ok"] if k["path"] == path]
        key.update(mode=mode, uid=uid)

    return edit


def test_a_world_readable_admin_kubeconfig_fails(compliant: Evidence) -> None:
    compliant.edit("node-private-keys", key_file("/etc/kubernetes/admin.conf", "0o644"))
    judged = compliant.judge(KEYS)
    assert judged.failures() == [
        ("File", "", "/etc/kubernetes/admin.conf", "mode 0o644 lets group or others access it")
    ]


def test_a_key_owned_by_nobody_fails(compliant: Evidence) -> None:
    compliant.edit(
        "node-private-keys", key_file("/etc/kubernetes/pki/apiserver.key", "0o600", 65534)
    )
    judged = compliant.judge(KEYS)
    assert judged.failures() == [
        ("File", "", "/etc/kubernetes/pki/apiserver.key", "owned by uid 65534, not root")
    ]


def test_the_noncompliant_keys_restricted_again_pass(noncompliant: Evidence) -> None:
    noncompliant.edit("node-private-keys", key_file("/etc/kubernetes/admin.conf", "0o600"))
    noncompliant.edit("node-private-keys", key_file("/etc/kubernetes/pki/sa.key", "0o600"))
    judged = noncompliant.judge(KEYS)
    assert judged.verdict == "passed"
    assert judged.reason.endswith(" private key file(s) are root-only")


def test_private_keys_without_a_node_root_are_manual(compliant: Evidence) -> None:
    compliant.settings(node_root="")
    judged = compliant.judge(KEYS)
    assert (judged.verdict, judged.reason) == (
        "manual",
        "pass --node-root (a node's filesystem) to inspect private key files",
    )


def test_private_keys_that_cannot_be_found_error(compliant: Evidence) -> None:
    why = "no private key files under /host/etc/kubernetes or /host/var/lib/kubelet/pki"
    compliant.fails_to_collect("node-private-keys", why)
    judged = compliant.judge(KEYS)
    assert (judged.verdict, judged.reason) == ("error", f"evidence unavailable: {why}")
