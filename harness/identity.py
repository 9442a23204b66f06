"""The kubeconfigs the runner hands out, and proof of who they authenticate as.

noncompliant: a copy of kubeadm's admin kubeconfig (a shared admin credential is part of
what that profile demonstrates). compliant: an individual, `oidc:auditor@example.com`, whose
kubeconfig holds no credential at all, only an exec plugin that asks the local issuer's
key for a 10-minute token; RBAC gives that user only the kubepci-auditor roles.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml

from harness import oidc_issuer
from harness.kubectl import Kubectl
from harness.layout import ADMIN_CONF, AUDITOR_EMAIL, HARNESS, REPO

AUDITOR_USER = f"oidc:{AUDITOR_EMAIL}"
AUDITOR_GROUP = "kubepci-auditors"
AUDITOR_RBAC = REPO / "deploy" / "auditor-rbac.yaml"
KUBELET_CONFIG_BINDING = HARNESS / "manifests" / "auditor-kubelet-config-binding.yaml"


def copy_admin(dest: Path, source: Path = ADMIN_CONF) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, dest)
    dest.chmod(0o600)
    return dest


def write_auditor_kubeconfig(dest: Path, cluster_name: str, admin_conf: Path = ADMIN_CONF) -> Path:
    admin = yaml.safe_load(admin_conf.read_text())
    cluster = admin["clusters"][0]["cluster"]  # server URL and CA only; no admin credential
    context = f"{AUDITOR_EMAIL}@{cluster_name}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "users": [
            {
                "name": AUDITOR_EMAIL,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        # The venv's interpreter (not its resolved symlink): it has PyJWT.
                        "command": str(Path(sys.executable).absolute()),
                        "args": [
                            str(HARNESS / "oidc_login.py"),
                            "--user",
                            AUDITOR_EMAIL,
                            "--group",
                            AUDITOR_GROUP,
                            "--issuer",
                            oidc_issuer.issuer_url(),
                            "--key",
                            str(oidc_issuer.SIGNING_KEY),
                        ],
                        "interactiveMode": "Never",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
        "contexts": [
            {"name": context, "context": {"cluster": cluster_name, "user": AUDITOR_EMAIL}}
        ],
        "current-context": context,
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(config, sort_keys=False))
    dest.chmod(0o600)
    return dest


def grant_auditor(admin: Kubectl) -> None:
    """The project's least-privilege auditor role, plus configz reading on harness clusters."""
    admin.run("apply", "-f", str(AUDITOR_RBAC))
    admin.run("apply", "-f", str(KUBELET_CONFIG_BINDING))


def verify_auditor(kubeconfig: Path) -> None:
    """Fail the bring-up unless the kubeconfig is the auditor, who may read but not write."""
    user = Kubectl(kubeconfig)
    whoami = json.loads(user.run("auth", "whoami", "-o", "json"))
    name = whoami["status"]["userInfo"]["username"]
    if name != AUDITOR_USER:
        raise RuntimeError(f"compliant kubeconfig authenticates as {name!r}, not {AUDITOR_USER}")
    if user.run("auth", "can-i", "list", "pods", "--all-namespaces").strip() != "yes":
        raise RuntimeError(f"{AUDITOR_USER} cannot list pods")
    if user.run("auth", "can-i", "create", "pods", check=False).strip() != "no":
        raise RuntimeError(f"{AUDITOR_USER} is allowed to create pods")
