"""PROVIDER=kind: `kind create cluster --config`, then the same set-up as the harness cluster.

    .venv/bin/python -m harness.kind_cluster up kind-configs/noncompliant.yaml
    .venv/bin/python -m harness.kind_cluster down

Replaces whatever cluster is up (either provider), like the harness runner. After kind has
made the cluster it grants the auditor roles, applies fixtures/<profile>/ (YAML and hooks;
node-level hooks reach the node containers through harness/nodes.py) and writes
~/.cache/kubepci/clusters/current.env in the harness's format plus PROVIDER=kind,
KIND_CLUSTER, NODES and NODE_ROOT (`/proc/<pid>/root` of the first control-plane node's
container: its whole filesystem, volumes and extraMounts included, for --node-root).

The node image is built here (harness/kind_image.py) unless KIND_NODE_IMAGE names one, e.g.
kind's own `kindest/node:v1.35.x` on a machine that can pull it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from harness import (
    cluster_state,
    docker_daemon,
    fixtures,
    identity,
    kind_image,
    kindconfig,
    nodes,
    oidc_issuer,
)
from harness.cluster_up import AUTHN_CONFIG, GENERATED
from harness.kubectl import Kubectl
from harness.layout import LOGS, REPO

CREATE_TIMEOUT_S = 900
NAME_PREFIX = "kubepci-"  # only clusters of our configs are ever deleted
CONTROL_PLANE_COMPONENTS = 4  # kube-apiserver, controller-manager, scheduler, etcd


def log(message: str) -> None:
    print(f"[kind] {message}", flush=True)


def kind_binary() -> str:
    """kind on PATH (a developer's or CI's own), else the one build-kind.sh builds here."""
    on_path = shutil.which("kind")
    if on_path:
        return on_path
    done = subprocess.run(
        [str(REPO / "harness" / "build-kind.sh")], check=True, stdout=subprocess.PIPE, text=True
    )
    return str(Path(done.stdout.strip().splitlines()[-1]) / "kind")


def _kind(binary: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )


# The generated AuthenticationConfigurations a kind config may mount: the harness's own, and
# one that also lets kubeadm's token discovery read cluster-info (several nodes join).
AUTHN_CONFIGS = {
    AUTHN_CONFIG: (),
    GENERATED / "authentication-config-kubeadm-join.yaml": (oidc_issuer.CLUSTER_INFO,),
}


def _mounts_issuer_config(raw: dict[str, Any]) -> bool:
    for node in raw.get("nodes") or []:
        for mount in node.get("extraMounts") or []:
            host = kindconfig.resolve_host_path(mount["hostPath"])
            if any(path == host or path.is_relative_to(host) for path in AUTHN_CONFIGS):
                return True
    return False


def _network_gateway() -> str:
    """The host's address on kind's docker network, where the nodes reach the OIDC issuer.

    kind uses an existing network named `kind` as it is; creating it first (when absent)
    fixes the gateway before the API server's AuthenticationConfiguration is written.
    """
    if subprocess.run(["docker", "network", "inspect", "kind"], capture_output=True).returncode:
        subprocess.run(
            ["docker", "network", "create", "--driver=bridge", "kind"],
            check=True,
            capture_output=True,
        )
    shown = subprocess.run(
        ["docker", "network", "inspect", "kind", "--format", "{{json .IPAM.Config}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for pool in json.loads(shown) or []:
        gateway = pool.get("Gateway", "")
        if gateway and ":" not in gateway:
            return str(gateway)
    raise RuntimeError("kind's docker network has no IPv4 gateway")


def _node_ip(container: str) -> str:
    return subprocess.run(
        [
            "docker",
            "inspect",
            "--format",
            '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{"\\n"}}{{end}}',
            container,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]


def _with_server(source_text: str, server: str, dest: Path) -> Path:
    """A copy of a node's kubeconfig pointed at the API endpoint kind publishes on this host."""
    config = yaml.safe_load(source_text)
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = server
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(config, sort_keys=False))
    dest.chmod(0o600)
    return dest


def _wait_ready(admin: Kubectl, node_names: list[str], control_planes: int) -> None:
    def nodes_ready() -> bool:
        items = admin.json("get", "nodes")["items"]
        ready = {
            n["metadata"]["name"]
            for n in items
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n["status"].get("conditions", [])
            )
        }
        return ready >= set(node_names)

    admin.wait_until(f"nodes {', '.join(node_names)} Ready", nodes_ready, 240)

    def kube_system_ready() -> bool:
        pods = admin.json("get", "pods", "-n", "kube-system")["items"]
        static = [p for p in pods if p["metadata"].get("labels", {}).get("tier") == "control-plane"]
        return len(static) == CONTROL_PLANE_COMPONENTS * control_planes and all(
            p["status"].get("phase") == "Running"
            and all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))
            for p in pods
        )

    # Every kube-system pod, CoreDNS included: a Service whose endpoints become ready
    # mid-audit would change what the services check probes.
    admin.wait_until("kube-system pods Ready", kube_system_ready, 240)


def _replace_what_is_up() -> None:
    from harness import cluster_down  # the harness's teardown also delegates kind to us

    if cluster_state.read().get("PROVIDER") == "kind" or _kind_containers():
        _down()
    elif cluster_down.anything_up():
        log("the harness cluster is up: tearing it down first")
        cluster_down.down()


def _kind_containers() -> list[str]:
    if not docker_daemon.responding():
        return []
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            "label=io.x-k8s.kind.cluster",
            "--format",
            '{{.Label "io.x-k8s.kind.cluster"}}',
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return sorted({c for c in listed if c.startswith(NAME_PREFIX)})


def up(config_path: Path | str, image: str | None = None) -> Path:
    """Create the kind cluster CONFIG_PATH describes; return the kubeconfig the suite uses."""
    with cluster_state.exclusive():
        return _up(Path(config_path).resolve(), image)


def _up(config_path: Path, image: str | None) -> Path:
    started = time.monotonic()
    raw = yaml.safe_load(config_path.read_text())
    profile = config_path.stem
    name = str(raw.get("name") or "kind")
    if not name.startswith(NAME_PREFIX):
        raise ValueError(f"{config_path}: kind cluster name must start with {NAME_PREFIX!r}")
    _replace_what_is_up()
    docker_daemon.ensure()
    image = image or os.environ.get("KIND_NODE_IMAGE") or kind_image.build()
    binary = kind_binary()
    uses_issuer = _mounts_issuer_config(raw)
    if uses_issuer:
        gateway = _network_gateway()
        log(f"starting the local OIDC issuer on {gateway} (kind's network gateway)")
        oidc_issuer.start(serve_on=gateway)
        GENERATED.mkdir(parents=True, exist_ok=True)
        for path, anonymous_paths in AUTHN_CONFIGS.items():
            path.write_text(oidc_issuer.authentication_config(anonymous_paths))

    out_dir = cluster_state.profile_dir(profile)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    kind_kubeconfig = out_dir / "kind.kubeconfig"
    log(f"kind create cluster --config {config_path.relative_to(REPO)} --image {image}")
    created = _kind(
        binary,
        "create",
        "cluster",
        f"--config={config_path}",
        f"--image={image}",
        f"--kubeconfig={kind_kubeconfig}",
        "--retain",
        timeout=CREATE_TIMEOUT_S,
    )
    if created.returncode:
        logs = LOGS / f"kind-{name}"
        _kind(binary, "export", "logs", str(logs), f"--name={name}")
        raise RuntimeError(
            f"kind create cluster failed ({created.returncode}); node logs in {logs}:\n"
            + created.stderr[-3000:]
        )
    kind_kubeconfig.chmod(0o600)
    server = yaml.safe_load(kind_kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    members = nodes.kind_nodes(name)
    control_planes = [n for n in members if n.role == nodes.CONTROL_PLANE]
    first = control_planes[0]
    break_glass = _with_server(
        first.read_text("/etc/kubernetes/super-admin.conf"),
        server,
        out_dir / "super-admin.kubeconfig",
    )
    admin = Kubectl(break_glass)
    _wait_ready(admin, [n.name for n in members], len(control_planes))
    identity.grant_auditor(admin)
    log(f"applying fixtures/{profile}/ on {len(members)} node(s)")
    fixtures.apply(profile, admin, nodes=members)
    fixtures.wait_pods_running(profile, admin)

    admin_copy = out_dir / "admin.kubeconfig"
    shutil.copy2(kind_kubeconfig, admin_copy)
    if uses_issuer:
        kubeconfig = identity.write_auditor_kubeconfig(
            out_dir / "auditor.kubeconfig", name, admin_conf=kind_kubeconfig
        )
        identity.verify_auditor(kubeconfig)
    else:
        kubeconfig = admin_copy
    cluster_state.write(
        {
            "PROFILE": profile,
            "KUBECONFIG": str(kubeconfig),
            "ADMIN_KUBECONFIG": str(break_glass),
            "NODE_NAME": first.name,
            "NODE_IP": _node_ip(first.name),
            "API_SERVER": server,
            "CONFIG": str(config_path),
            "PROVIDER": "kind",
            "KIND_CLUSTER": name,
            "NODES": ",".join(n.name for n in members),
            "NODE_ROOT": str(first.root()),
        }
    )
    log(f"kind cluster {name} up in {time.monotonic() - started:.1f}s")
    return kubeconfig


def down() -> None:
    """Delete the kind cluster(s) of our configs, the issuer, and a dockerd started here."""
    with cluster_state.exclusive():
        _down()


def _down() -> None:
    started = time.monotonic()
    state = cluster_state.read()
    if state.get("PROVIDER") == "kind":
        docker_daemon.ensure()  # e.g. after a reboot, to find and delete the containers
    names = set(_kind_containers())
    if state.get("PROVIDER") == "kind" and state.get("KIND_CLUSTER"):
        names.add(state["KIND_CLUSTER"])
    if names:
        binary = kind_binary()
        for name in sorted(names):
            log(f"kind delete cluster --name {name}")
            # kind removes its context from the kubeconfig it is given: never ~/.kube/config.
            scratch = cluster_state.CLUSTERS / f".{name}.kubeconfig"
            deleted = _kind(
                binary, "delete", "cluster", f"--name={name}", f"--kubeconfig={scratch}"
            )
            scratch.unlink(missing_ok=True)
            if deleted.returncode:
                raise RuntimeError(f"kind delete cluster {name} failed: {deleted.stderr[-2000:]}")
    oidc_issuer.stop()
    if state.get("PROVIDER") == "kind":
        if state.get("PROFILE"):
            shutil.rmtree(cluster_state.profile_dir(state["PROFILE"]), ignore_errors=True)
        cluster_state.clear()
    left = _kind_containers()
    docker_daemon.stop()
    if left:
        raise RuntimeError(f"kind containers left behind: {left}")
    log(f"kind cluster removed in {time.monotonic() - started:.1f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("up", help="create the cluster a kind config describes")
    create.add_argument("config", type=Path)
    create.add_argument("--image", help="node image (default: built here, or $KIND_NODE_IMAGE)")
    sub.add_parser("down", help="delete it")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            kubeconfig = up(args.config, args.image)
            print(f"KUBECONFIG={kubeconfig}", flush=True)
        else:
            down()
    except Exception as err:
        log(f"FAILED: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
