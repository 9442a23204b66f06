"""Audit targets from kubeconfig files: every problem is one line naming the file, and the
credential is classified by type without reading out any secret."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kubepci.access import kubeconfig as kc
from kubepci.access.kubeconfig import KubeconfigError, classify_user, resolve_targets
from tests.builders import (
    b64,
    cert_data_user,
    client_certificate,
    exec_user,
    kubeconfig,
    kubeconfig_document,
    write_yaml,
)

NO_ENV: dict[str, str] = {}


def targets(*paths: Path, contexts: tuple[str, ...] = (), env=NO_ENV):
    return resolve_targets([str(p) for p in paths], list(contexts), env)


# ----------------------------------------------------------------------------- errors


def _missing(tmp: Path) -> Path:
    return tmp / "nope.yaml"


def _directory(tmp: Path) -> Path:
    (tmp / "dir").mkdir()
    return tmp / "dir"


def _not_yaml(tmp: Path) -> Path:
    path = tmp / "broken"
    path.write_text("clusters: [\n  - name: a\n", encoding="utf-8")
    return path


def _not_kubeconfig(tmp: Path) -> Path:
    return write_yaml(tmp / "list.yaml", ["just", "a", "list"])


def _no_contexts(tmp: Path) -> Path:
    return write_yaml(tmp / "map.yaml", {"apiVersion": "v1", "kind": "Pod"})


def _no_current(tmp: Path) -> Path:
    return kubeconfig(tmp, current="")


def _current_undefined(tmp: Path) -> Path:
    return kubeconfig(tmp, current="elsewhere")


def _missing_cluster(tmp: Path) -> Path:
    document = kubeconfig_document()
    document["clusters"] = []
    return write_yaml(tmp / "config", document)


def _missing_user(tmp: Path) -> Path:
    document = kubeconfig_document()
    document["contexts"][0]["context"]["user"] = "ghost"
    return write_yaml(tmp / "config", document)


def _plain_http(tmp: Path) -> Path:
    return kubeconfig(tmp, server="http://127.0.0.1:8080")


def _insecure(tmp: Path) -> Path:
    return kubeconfig(tmp, insecure=True)


ERRORS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing file": (_missing, "file not found"),
    "directory": (_directory, "is a directory"),
    "not yaml": (_not_yaml, "not valid YAML at line"),
    "yaml list": (_not_kubeconfig, "not a kubeconfig"),
    "no contexts": (_no_contexts, "not a kubeconfig"),
    "no current-context": (_no_current, "no current-context set; pass --context NAME"),
    "current-context undefined": (_current_undefined, "'elsewhere' is not defined in it"),
    "missing cluster": (_missing_cluster, "names cluster 'ctx-cluster', which is not defined"),
    "missing user": (_missing_user, "names user 'ghost', which is not defined"),
    "plain http": (_plain_http, "has no https:// server URL"),
    "insecure": (_insecure, "insecure-skip-tls-verify"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_each_problem_is_one_line_naming_the_file(tmp_path: Path, case: str) -> None:
    make, expected = ERRORS[case]
    path = make(tmp_path)
    with pytest.raises(KubeconfigError) as error:
        targets(path)
    message = str(error.value)
    assert expected in message
    assert str(path.resolve()) in message
    assert "\n" not in message


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = kubeconfig(tmp_path)
    original = Path.read_text

    def deny(self: Path, *args, **kwargs) -> str:
        if self == path.resolve():
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", deny)
    with pytest.raises(KubeconfigError, match="not readable \\(permission denied\\)") as error:
        targets(path)
    assert str(path.resolve()) in str(error.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(KubeconfigError, match="not readable") as error:
        targets(path)
    assert "\n" not in str(error.value)


def test_unknown_context_names_every_file_searched(tmp_path: Path) -> None:
    a = kubeconfig(tmp_path, "a.yaml", contexts=("one",))
    b = kubeconfig(tmp_path, "b.yaml", contexts=("two",))
    with pytest.raises(KubeconfigError) as error:
        targets(a, b, contexts=("three",))
    message = str(error.value)
    assert "'three' not found" in message
    assert str(a.resolve()) in message and str(b.resolve()) in message
    assert "\n" not in message


def test_same_file_twice_is_refused_naming_it(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path)
    with pytest.raises(KubeconfigError) as error:
        targets(path, path)
    assert str(path.resolve()) in str(error.value)
    assert "'ctx'" in str(error.value)


# ----------------------------------------------------------------------------- targets


def test_current_context_target(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, contexts=("kubernetes-admin@kubernetes", "other"))
    (target,) = targets(path)
    assert target.id == "kubernetes-admin@kubernetes"
    assert target.kubeconfig == str(path.resolve())
    assert target.context == "kubernetes-admin@kubernetes"
    assert target.server == "https://127.0.0.1:6443"
    assert target.user == "kubernetes-admin@kubernetes-user"
    assert target.credential.kind == "token"
    assert "not-a-real-token" not in str(target.to_json())


def test_explicit_contexts_from_one_file(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, contexts=("prod", "staging", "dev"), current="dev")
    found = targets(path, contexts=("staging", "prod"))
    assert [t.context for t in found] == ["staging", "prod"]
    assert [t.id for t in found] == ["staging", "prod"]


def test_same_context_in_several_files_gets_file_qualified_ids(tmp_path: Path) -> None:
    a = kubeconfig(tmp_path, "team-a.yaml", contexts=("kind-kind",))
    b = kubeconfig(tmp_path, "team-b.yaml", contexts=("kind-kind",))
    assert [t.id for t in targets(a, b)] == ["team-a:kind-kind", "team-b:kind-kind"]
    assert [t.id for t in targets(a, b, contexts=("kind-kind",))] == [
        "team-a:kind-kind",
        "team-b:kind-kind",
    ]


def test_same_file_name_in_two_directories_still_gets_unique_ids(tmp_path: Path) -> None:
    # Regression: both were "config:admin" and the run stopped with "given twice".
    a = kubeconfig(tmp_path / "eu", contexts=("admin",))
    b = kubeconfig(tmp_path / "us", contexts=("admin",))
    found = targets(a, b)
    ids = [t.id for t in found]
    assert len(set(ids)) == 2
    assert all(i.endswith(":admin") for i in ids)
    assert "eu" in ids[0] and "us" in ids[1]


def test_ids_are_readable_slugs(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, contexts=("arn:aws:eks:eu-west-1:1234:cluster/prod pci",))
    (target,) = targets(path)
    assert target.id == "arn:aws:eks:eu-west-1:1234:cluster-prod-pci"


def test_kubeconfig_environment_with_several_paths_is_merged_as_kubectl_merges_it(
    tmp_path: Path,
) -> None:
    """Regression: each $KUBECONFIG file was audited on its own, so a user whose usual
    KUBECONFIG=main:extra had several current contexts audited clusters kubectl would not
    talk to (and a file with only credentials in it stopped the run)."""
    a = kubeconfig(tmp_path, "a.yaml", contexts=("alpha",))
    b = kubeconfig(tmp_path, "b.yaml", contexts=("beta", "alpha"))
    env = {"KUBECONFIG": f"{a}{os.pathsep}{os.pathsep}{tmp_path / 'gone'}{os.pathsep}{b}"}
    assert kc.default_kubeconfigs(env) == [str(a), str(tmp_path / "gone"), str(b)]
    (target,) = resolve_targets([], [], env)
    assert target.context == "alpha"  # the first current-context set
    assert target.kubeconfig == f"{a}{os.pathsep}{b}"  # what the API client merges again
    both = resolve_targets([], ["alpha", "beta"], env)
    assert [t.context for t in both] == ["alpha", "beta"]


def test_merged_kubeconfig_takes_each_name_from_the_first_file_and_reads_users_anywhere(
    tmp_path: Path,
) -> None:
    first = kubeconfig_document(contexts=("prod",), server="https://first:6443", current="")
    first["users"] = []  # credentials live in another file
    second = kubeconfig_document(contexts=("prod",), server="https://second:6443")
    second["users"] = [{"name": "prod-user", "user": exec_user()}]
    a = write_yaml(tmp_path / "clusters.yaml", first)
    b = write_yaml(tmp_path / "creds" / "users.yaml", second)
    env = {"KUBECONFIG": f"{a}{os.pathsep}{b}"}
    (target,) = resolve_targets([], [], env)
    assert target.server == "https://first:6443"
    assert target.credential.kind == "exec"


def test_kubeconfig_environment_naming_only_missing_files(tmp_path: Path) -> None:
    env = {"KUBECONFIG": f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}"}
    with pytest.raises(KubeconfigError, match="none of its files exists"):
        resolve_targets([], [], env)


def test_explicit_kubeconfig_wins_over_environment(tmp_path: Path) -> None:
    a = kubeconfig(tmp_path, "a.yaml", contexts=("alpha",))
    env = {"KUBECONFIG": str(tmp_path / "missing")}
    assert [t.id for t in resolve_targets([str(a)], [], env)] == ["alpha"]


def test_default_home_kubeconfig(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    with pytest.raises(KubeconfigError, match="file not found") as error:
        resolve_targets([], [], env)
    assert str(tmp_path / ".kube" / "config") in str(error.value)
    kubeconfig(tmp_path / ".kube", contexts=("home",))
    assert [t.context for t in resolve_targets([], [], env)] == ["home"]


def test_in_cluster_when_no_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tmp_path / "token"
    token.write_text("x", encoding="utf-8")
    monkeypatch.setattr(kc, "SA_TOKEN_PATH", token)
    env = {"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": "10.96.0.1"}
    (target,) = resolve_targets([], [], env)
    assert target.id == kc.IN_CLUSTER
    assert target.server == "https://10.96.0.1:443"
    assert target.credential.kind == "service-account-token"
    assert not target.credential.uses_plugin


# ----------------------------------------------------------------------------- credentials


def test_exec_plugin() -> None:
    credential = classify_user(exec_user("/usr/local/bin/kubelogin"))
    assert (credential.kind, credential.detail) == ("exec", "exec plugin kubelogin")
    assert credential.uses_plugin


def test_auth_provider() -> None:
    credential = classify_user({"auth-provider": {"name": "oidc", "config": {}}})
    assert (credential.kind, credential.detail) == ("auth-provider", "auth-provider oidc")
    assert credential.uses_plugin


def test_static_material_silences_exec() -> None:
    # client-go runs no exec plugin when a token or a certificate is set (exec.go
    # UpdateTransportConfig); the certificate is what the API server authenticates first.
    user = {**exec_user(), "token": "t", **cert_data_user("jane")}
    credential = classify_user(user)
    assert credential.kind == "client-certificate"
    assert [s.kind for s in credential.sent] == ["client-certificate", "token"]
    assert not credential.uses_plugin


def test_client_certificate_data() -> None:
    credential = classify_user(cert_data_user("kubernetes-admin", ["kubeadm:cluster-admins"]))
    assert credential.kind == "client-certificate"
    assert credential.detail == "client certificate CN=kubernetes-admin O=kubeadm:cluster-admins"
    assert credential.certificate is not None
    assert credential.certificate.organizations == ("kubeadm:cluster-admins",)
    assert credential.certificate.serial == "1f2e3d"
    assert not credential.uses_plugin
    as_json = credential.to_json()
    assert as_json["certificate"]["common_name"] == "kubernetes-admin"
    assert "BEGIN" not in str(as_json)


def test_client_certificate_several_orgs_and_none() -> None:
    masters = classify_user(cert_data_user("root", ["system:masters", "ops"]))
    assert masters.detail == "client certificate CN=root O=system:masters,ops"
    no_org = classify_user(cert_data_user("jane"))
    assert no_org.detail == "client certificate CN=jane O=-"


def test_client_certificate_file_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    cert, key = client_certificate("kubernetes-super-admin", ["system:masters"])
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "admin.crt").write_bytes(cert)
    (tmp_path / "pki" / "admin.key").write_bytes(key)  # only its existence is checked
    user = {"client-certificate": "pki/admin.crt", "client-key": "pki/admin.key"}
    credential = classify_user(user, tmp_path)
    assert credential.certificate is not None
    assert credential.certificate.common_name == "kubernetes-super-admin"

    path = kubeconfig(tmp_path, user=user)
    (target,) = targets(path)
    assert target.credential.detail == (
        "client certificate CN=kubernetes-super-admin O=system:masters"
    )


def test_unparseable_client_certificate_is_still_a_certificate(tmp_path: Path) -> None:
    for user in (
        {"client-certificate-data": b64(b"not a certificate"), "client-key-data": b64(b"k")},
        {"client-certificate-data": "%%% not base64", "client-key-data": b64(b"k")},
    ):
        credential = classify_user(user, tmp_path)
        assert credential.kind == "client-certificate"
        assert credential.detail == "client certificate (unparseable)"
        assert credential.certificate is None
    # A certificate file that is not there: kubectl refuses the entry (validation.go).
    missing = {"client-certificate": str(tmp_path / "missing.crt"), "client-key-data": "k"}
    credential = classify_user(missing, tmp_path)
    assert credential.kind == "invalid"
    assert "missing.crt cannot be opened" in credential.refused


@pytest.mark.parametrize(
    ("user", "kind"),
    [
        ({"token": "abc"}, "token"),
        ({"tokenFile": "/var/run/token"}, "token-file"),
        ({"username": "admin", "password": "secret"}, "basic-auth"),
        ({"password": "secret"}, "none"),  # HasBasicAuth needs a username
        ({}, "none"),
        ({"exec": None, "token": ""}, "none"),
    ],
)
def test_static_and_missing_credentials(user: dict, kind: str) -> None:
    credential = classify_user(user)
    assert credential.kind == kind
    assert not credential.uses_plugin
    assert "secret" not in credential.detail and "abc" not in credential.detail


def test_an_id_clash_left_over_names_both_targets(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, contexts=("in-cluster",))
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}
    with pytest.raises(KubeconfigError) as error:
        resolve_targets([kc.IN_CLUSTER, str(path)], [], env)
    message = str(error.value)
    assert str(path.resolve()) in message
    assert "same id 'in-cluster'" in message
    assert "\n" not in message
