"""Bring up a single-node kubeadm cluster on this host from a kind config.

    .venv/bin/python -m harness.cluster_up kind-configs/noncompliant.yaml

Idempotent by replacement: if a cluster is already up (any profile), it is torn down first,
so the result always matches the config given. The last line printed is
`KUBECONFIG=<absolute path>`; the same goes to ~/.cache/kubepci/clusters/current.env.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from harness import (
    cluster_down,
    cluster_state,
    cni,
    containerd,
    fixtures,
    hostdeps,
    identity,
    images,
    kindconfig,
    kubeadm_config,
    kubelet,
    node,
    oidc_issuer,
)
from harness.kubectl import Kubectl
from harness.layout import (
    AUDIT_LOG_DIR,
    BIN,
    HARNESS,
    LOGS,
    REPO,
    RUN,
    SUPER_ADMIN_CONF,
    tool,
)

# The compliant profile mounts this file; the runner writes it (the issuer CA is generated
# per bring-up, so it cannot be committed). Ignored by git; see kind-configs/README.md.
GENERATED = REPO / "kind-configs" / "files" / "generated"
AUTHN_CONFIG = GENERATED / "authentication-config.yaml"
REQUIRED_BINARIES = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kubeadm",
    "kubectl",
    "etcd",
    "containerd",
    "containerd-shim-runc-v2",
    "ctr",
    "pause",
)
KUBEADM_TIMEOUT_S = 300


def log(message: str) -> None:
    print(f"[cluster-up] {message}", flush=True)


def ensure_binaries() -> None:
    if all((BIN / b).is_file() for b in REQUIRED_BINARIES):
        return
    log("building Kubernetes binaries (harness/build-k8s.sh); a cold build takes a while")
    subprocess.run([str(HARNESS / "build-k8s.sh")], check=True)


def _needs_issuer(kind: kindconfig.KindCluster) -> bool:
    return any(
        m.host_path == AUTHN_CONFIG or AUTHN_CONFIG.is_relative_to(m.host_path)
        for m in kind.extra_mounts
    )


def _prepare_generated_files(kind: kindconfig.KindCluster) -> bool:
    if not _needs_issuer(kind):
        return False
    log("starting the local OIDC issuer")
    oidc_issuer.start()
    GENERATED.mkdir(parents=True, exist_ok=True)
    AUTHN_CONFIG.write_text(oidc_issuer.authentication_config())
    return True


def _control_plane_images(config_file: Path) -> list[images.ImageSpec]:
    listed = subprocess.run(
        [tool("kubeadm"), "config", "images", "list", "--config", str(config_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    specs = [s for s in map(images.control_plane_spec, listed) if s is not None]
    return [*specs, images.workload_spec()]


def _kubeadm_init(config_file: Path) -> None:
    """kubeadm init, starting the kubelet ourselves once kubeadm has configured it."""
    for stale in (kubelet.CONFIG, kubelet.FLAGS_ENV):
        stale.unlink(missing_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    init_log = LOGS / "kubeadm-init.log"
    with open(init_log, "wb") as out:
        proc = subprocess.Popen(
            [tool("kubeadm"), "init", f"--config={config_file}", "--skip-token-print", "--v=1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"PATH": f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        try:
            kubelet.wait_for_kubeadm_files(120, abort=lambda: proc.poll() is not None)
            log("kubeadm wrote the kubelet config; starting the kubelet")
            kubelet.start()
            rc = proc.wait(timeout=KUBEADM_TIMEOUT_S)
        except BaseException:
            proc.kill()
            raise
    if rc != 0:
        tail = "\n".join(init_log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"kubeadm init failed ({rc}); {init_log}:\n{tail}")


def _wait_ready(admin: Kubectl, node_name: str) -> None:
    def node_ready() -> bool:
        conditions = admin.json("get", "node", node_name)["status"].get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    admin.wait_until(f"node {node_name} Ready", node_ready, 120)

    def control_plane_ready() -> bool:
        pods = admin.json("get", "pods", "-n", "kube-system", "-l", "tier=control-plane")
        ready = [
            p["status"].get("phase") == "Running"
            and all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))
            for p in pods["items"]
        ]
        return len(ready) == 4 and all(ready)

    admin.wait_until("control-plane mirror pods Ready", control_plane_ready, 120)


def up(config_path: Path | str) -> Path:
    """Bring up the cluster described by a kind config; return the kubeconfig to use."""
    with cluster_state.exclusive():
        return _up(Path(config_path))


def _up(config_path: Path) -> Path:
    started = time.monotonic()
    config_path = config_path.resolve()
    kind = kindconfig.load(config_path)
    hostdeps.ensure_host()
    ensure_binaries()
    if cluster_down.anything_up():
        log("a cluster is already up: tearing it down first")
        cluster_down.down()

    this = node.detect()
    docs = kubeadm_config.render(kind, this)
    RUN.mkdir(parents=True, exist_ok=True)
    config_file = RUN / f"kubeadm-{kind.profile}.yaml"
    config_file.write_text(kubeadm_config.dump(docs))

    specs = _control_plane_images(config_file)
    containerd.start(pause_image=next(s.name for s in specs if "/pause:" in s.name))
    images.ensure_images(specs)
    cni.write_conflist(kind.pod_subnet)
    uses_issuer = _prepare_generated_files(kind)
    node.install_extra_mounts(kind.extra_mounts)
    # A fresh audit log per cluster, so it only holds this cluster's requests.
    for old in AUDIT_LOG_DIR.glob("*.log"):
        old.unlink()

    log(f"kubeadm init ({kind.profile}, node {this.name} {this.ip})")
    _kubeadm_init(config_file)
    admin = Kubectl(SUPER_ADMIN_CONF)
    # kubeadm's taints: [] keeps the node schedulable; this covers an older kubeadm too.
    admin.run(
        "taint", "nodes", "--all", "node-role.kubernetes.io/control-plane:NoSchedule-", check=False
    )
    _wait_ready(admin, this.name)
    identity.grant_auditor(admin)
    log(f"applying fixtures/{kind.profile}/")
    fixtures.apply(kind.profile, admin)
    fixtures.wait_pods_running(kind.profile, admin)

    out_dir = cluster_state.profile_dir(kind.profile)
    admin_copy = identity.copy_admin(out_dir / "admin.kubeconfig")
    break_glass = identity.copy_admin(out_dir / "super-admin.kubeconfig", SUPER_ADMIN_CONF)
    if uses_issuer:
        kubeconfig = identity.write_auditor_kubeconfig(
            out_dir / "auditor.kubeconfig", f"kubepci-{kind.profile}"
        )
        identity.verify_auditor(kubeconfig)
    else:
        kubeconfig = admin_copy
    cluster_state.write(
        {
            "PROFILE": kind.profile,
            "KUBECONFIG": str(kubeconfig),
            # Setup work by the project's tests; on the compliant profile admin.conf no
            # longer holds cluster-admin, so this is kubeadm's break-glass credential.
            "ADMIN_KUBECONFIG": str(break_glass),
            "NODE_NAME": this.name,
            "NODE_IP": this.ip,
            "API_SERVER": f"https://{this.ip}:{kubeadm_config.API_PORT}",
            "CONFIG": str(config_path),
        }
    )
    log(f"cluster {kind.profile} up in {time.monotonic() - started:.1f}s")
    return kubeconfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path, help="kind config, e.g. kind-configs/compliant.yaml")
    args = parser.parse_args(argv)
    try:
        kubeconfig = up(args.config)
    except Exception as err:
        log(f"FAILED: {err}")
        log("leaving the partial cluster for inspection; `make cluster-down` removes it")
        return 1
    print(f"KUBECONFIG={kubeconfig}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
