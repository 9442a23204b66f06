"""Control-plane flags read from static (mirror) pods, with Kubernetes defaults applied.

Flags may sit in a container's ``command`` or ``args`` (kubeadm uses command; RKE2 and
others use args), as ``--flag=value`` or ``--flag value``. When a flag is absent the
component's own default applies, and the evidence says so: an absent
``--anonymous-auth`` means anonymous authentication is ON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

Obj = dict[str, Any]

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")

# The defaults that matter to Section 1, from each component's --help for 1.35.
DEFAULTS: dict[str, dict[str, str]] = {
    "kube-apiserver": {
        "anonymous-auth": "true",
        "authorization-mode": "AlwaysAllow",
        "service-account-extend-token-expiration": "true",
        "service-account-max-token-expiration": "",
        "token-auth-file": "",
        "authentication-config": "",
        "oidc-issuer-url": "",
        "authentication-token-webhook-config-file": "",
        "secure-port": "6443",
    },
    "kube-controller-manager": {
        "authorization-always-allow-paths": "/healthz,/readyz,/livez",
        "bind-address": "0.0.0.0",
        "secure-port": "10257",
    },
    "kube-scheduler": {
        "authorization-always-allow-paths": "/healthz,/readyz,/livez",
        "bind-address": "0.0.0.0",
        "secure-port": "10259",
    },
    "etcd": {
        "client-cert-auth": "false",
        "listen-client-urls": "http://localhost:2379",
        "trusted-ca-file": "",
        "auto-tls": "false",
    },
}
DEFAULT_ALWAYS_ALLOW_PATHS = frozenset({"/healthz", "/readyz", "/livez"})


def parse_flags(tokens: list[str]) -> dict[str, str]:
    """Parse ``--flag=value``, ``--flag value`` and bare ``--flag`` (boolean true).

    >>> parse_flags(["kube-apiserver", "--anonymous-auth=false", "--secure-port", "6443", "--v"])
    {'anonymous-auth': 'false', 'secure-port': '6443', 'v': 'true'}
    """
    flags: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("-"):
            continue
        name = token.lstrip("-")
        if "=" in name:
            name, value = name.split("=", 1)
        elif i < len(tokens) and not tokens[i].startswith("-"):
            value = tokens[i]
            i += 1
        else:
            value = "true"
        flags[name] = value
    return flags


@dataclass
class ComponentFlags:
    """One control-plane component's effective flags and where they came from."""

    component: str
    pod: str  # namespace/name of the (mirror) pod
    node: str
    explicit: dict[str, str]
    defaults: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        if name in self.explicit:
            return self.explicit[name]
        return self.defaults.get(name, "")

    def source(self, name: str) -> str:
        if name in self.explicit:
            return f"--{name}={self.explicit[name]} (set on pod {self.pod})"
        default = self.defaults.get(name, "")
        return f"--{name} not set; Kubernetes default {default or '(empty)'} applies"

    def is_true(self, name: str) -> bool:
        return self.get(name).strip().lower() in ("true", "1", "t")

    def evidence(self, names: list[str]) -> Obj:
        return {
            "component": self.component,
            "pod": self.pod,
            "node": self.node,
            "flags": {name: self.source(name) for name in names},
        }


def component_of(container: Obj) -> str:
    """Which control-plane component a container runs, from its command or name."""
    command = list(container.get("command") or []) + list(container.get("args") or [])
    candidates = [container.get("name", "")]
    if command:
        candidates.insert(0, PurePosixPath(str(command[0])).name)
    for candidate in candidates:
        if candidate in COMPONENTS:
            return str(candidate)
    return ""


def control_plane_flags(pods: list[Obj]) -> dict[str, list[ComponentFlags]]:
    """Every control-plane component found in kube-system pods, one entry per instance."""
    found: dict[str, list[ComponentFlags]] = {c: [] for c in COMPONENTS}
    for pod in pods:
        meta = pod.get("metadata") or {}
        if meta.get("namespace") != "kube-system":
            continue
        for container in (pod.get("spec") or {}).get("containers") or []:
            component = component_of(container)
            if not component:
                continue
            tokens = list(container.get("command") or []) + list(container.get("args") or [])
            found[component].append(
                ComponentFlags(
                    component=component,
                    pod=f"{meta.get('namespace')}/{meta.get('name')}",
                    node=str((pod.get("spec") or {}).get("nodeName", "")),
                    explicit=parse_flags(tokens),
                    defaults=DEFAULTS[component],
                )
            )
    return found


def extra_always_allow_paths(flags: ComponentFlags) -> list[str]:
    paths = {
        p.strip() for p in flags.get("authorization-always-allow-paths").split(",") if p.strip()
    }
    return sorted(paths - DEFAULT_ALWAYS_ALLOW_PATHS)


def binds_all_interfaces(flags: ComponentFlags) -> bool:
    return flags.get("bind-address") in ("0.0.0.0", "::", "")


def parse_duration(text: str) -> float | None:
    """Seconds in a Go duration such as ``1h``, ``90m``, ``1h30m0s``; None if unparseable.

    >>> parse_duration("1h30m")
    5400.0
    """
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total, number, i = 0.0, "", 0
    text = text.strip()
    if not text:
        return None
    if text in ("0", "+0", "-0"):
        return 0.0  # Go accepts a bare zero, and nothing else without a unit
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text[i : i + 2] == "ms" else ch
        if unit not in units or not number:
            return None
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    if number:
        return None
    return total


def etcd_client_auth_gap(flags: ComponentFlags) -> str:
    """Why etcd would accept a client without a certificate ('' when it would not).

    etcd's TLS listener requires and verifies client certificates when
    --client-cert-auth=true OR a --trusted-ca-file is given (client/pkg/transport
    TLSInfo.ServerConfig), so --client-cert-auth=false alone does not open it. Plain-HTTP
    client URLs carry no TLS at all.
    """
    plain = [
        u for u in flags.get("listen-client-urls").split(",") if u.strip().startswith("http://")
    ]
    if plain:
        return f"plain-HTTP client URL(s) {', '.join(plain)} accept anyone"
    if flags.is_true("client-cert-auth") or flags.get("trusted-ca-file"):
        return ""
    return (
        "no client certificate is required: "
        + flags.source("client-cert-auth")
        + "; "
        + flags.source("trusted-ca-file")
    )
