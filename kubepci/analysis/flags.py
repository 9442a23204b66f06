"""Control-plane components as their static pods run them, and the settings they hold.

**What a component is.** A container of a static pod: a kube-system pod the kubelet
mirrors into the API (the ``kubernetes.io/config.mirror`` annotation, a Node as its
controlling owner: pkg/kubelet/pod/mirror_client.go CreateMirrorPod), identified by the
binary its command runs. A pod named or labelled like a component (an ``etcd-backup``
job's pod, ``component: etcd``) is not one, and is listed as set aside; a static pod
whose binary cannot be seen (no ``command``, or a shell) is listed as unresolved, so a
check errors rather than judge without it.

**What it holds.** Its argv as the kubelet builds it, parsed by its own flag library with
its own flag table (:mod:`kubepci.analysis.cmdline`, :mod:`kubepci.analysis.flag_specs`):
a boolean takes no separate value, a repeated scalar flag keeps its last value, a
string-slice flag accumulates (``--authorization-mode=Node --authorization-mode=RBAC`` is
``Node,RBAC``), and a flag not set has the component's own default, which the evidence
names. etcd also reads ``ETCD_*`` variables and, with ``--config-file``, takes everything
from that file (:mod:`kubepci.analysis.etcd`). A command line the component would refuse
is recorded (``refused``): it does not describe a running component. A value the suite
cannot see raises :class:`~kubepci.verdict.EvidenceUnavailable` when it is asked for
(:class:`~kubepci.analysis.component_settings.ComponentFlags`, re-exported here).

**What it implies.** The rules at the end: paths that skip authorization, ``--secure-port=0``,
etcd's listeners, the TokenRequest cap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from kubepci.analysis import cmdline, etcd
from kubepci.analysis.component_settings import (
    COMPONENTS,
    DEFAULT_ALWAYS_ALLOW_PATHS,
    DEFAULTS,
    KINDS,
    SETTINGS_FILE_FLAGS,
    ComponentFlags,
    ConfigFile,
)
from kubepci.analysis.flag_specs import SHORTHANDS, VERSIONS
from kubepci.verdict import EvidenceUnavailable

__all__ = [
    "COMPONENTS",
    "DEFAULTS",
    "DEFAULT_ALWAYS_ALLOW_PATHS",
    "KINDS",
    "SETTINGS_FILE_FLAGS",
    "ComponentFlags",
    "ConfigFile",
    "ControlPlane",
    "component_flags",
    "control_plane_flags",
    "parse_duration",
]

Obj = dict[str, Any]

SHELLS = frozenset({"sh", "bash", "dash", "ash", "busybox", "env"})
_VERSION = re.compile(r"v?(\d+)\.(\d+)")


# ----------------------------------------------------------------------- parsing


def _settings_from(
    occurrences: list[cmdline.Occurrence], kinds: dict[str, str], flags: ComponentFlags
) -> None:
    """Apply each occurrence in order, as the flag library calls ``Set`` per occurrence."""
    written: dict[str, list[str]] = {}
    for occ in occurrences:
        kind = kinds.get(occ.name, "scalar")
        value = occ.value
        unresolved = cmdline.UNRESOLVED in value
        if kind == "bool" and not unresolved and occ.name != "version":
            # (--version=raw is valid: verflag prints the version either way.)
            parsed = cmdline.parse_go_bool(value)
            if parsed is None:
                flags.refused.append(f"invalid boolean {value!r} in {occ.token}")
                continue
            value = "true" if parsed else "false"
        if kind in ("csv-list", "list", "map"):
            items = [value] if kind != "csv-list" or unresolved else cmdline.csv_record(value)
            if items is None:
                flags.refused.append(f"{occ.token}: not valid CSV (encoding/csv)")
                continue
            # The first occurrence replaces the default, later ones add to it.
            flags.lists[occ.name] = [*flags.lists.get(occ.name, []), *items]
            flags.explicit[occ.name] = ",".join(flags.lists[occ.name])
        else:
            flags.explicit[occ.name] = value
        written.setdefault(occ.name, []).append(occ.token)
    for name, tokens in written.items():
        flags.origins[name] = " ".join(tokens)


def _mark_unresolved(flags: ComponentFlags, argv_notes: list[str]) -> None:
    """Flags whose value holds a $(VAR) the suite could not resolve."""
    why = "; ".join(argv_notes) or "a $(VAR) reference was not resolved"
    for name, value in list(flags.explicit.items()):
        names = cmdline.unresolved_names(value)
        if names:
            flags.unresolved[name] = f"its value uses $({'), $('.join(names)}): {why}"
            readable = value
            for ref in names:
                readable = readable.replace(
                    f"{cmdline.UNRESOLVED}{ref}{cmdline.UNRESOLVED}", f"$({ref})"
                )
            flags.explicit[name] = readable
            if name in flags.lists:
                flags.lists[name] = readable.split(",")


def _apply_etcd_environment(
    container: Obj, flags: ComponentFlags, on_command_line: set[str]
) -> None:
    env = cmdline.container_environment(container)
    config_file = flags.explicit.get("config-file", "")
    if (
        not config_file
        and env.get(etcd.env_name("config-file")) is None
        and etcd.env_name("config-file") in env
    ):
        flags.unresolved["config-file"] = (
            "ETCD_CONFIG_FILE is set from a source the suite does not read"
        )
        flags.all_unknown = flags.unresolved["config-file"]
        return
    if not config_file and env.get(etcd.env_name("config-file")):
        flags.explicit["config-file"] = str(env[etcd.env_name("config-file")])
        flags.origins["config-file"] = f"ETCD_CONFIG_FILE={flags.explicit['config-file']}"
    if flags.explicit.get("config-file"):
        return  # the file replaces flags and variables alike (etcdmain/config.go parse)
    occurrences = []
    for name in KINDS["etcd"]:
        key = etcd.env_name(name)
        # ETCD_VERSION is unset before the environment is read. An ETCD_CONFIG_FILE that
        # reaches here is empty (etcd read a set one as its file above), and shadows a
        # --config-file= given empty as any variable shadows its flag.
        if key not in env or name == "version":
            continue
        if name in on_command_line:
            flags.refused.append(
                f"{key} in the environment shadows --{name} on the command line: etcd exits "
                "(pkg/flags verifyEnv)"
            )
            continue
        value = env[key]
        if value is None:
            flags.unresolved[name] = f"{key} is set from a source the suite does not read"
        elif value:
            occurrences.append(cmdline.Occurrence(name, value, f"{key}={value}"))
    _settings_from(occurrences, KINDS["etcd"], flags)
    if container.get("envFrom"):
        flags.all_unknown = (
            "the container takes variables from envFrom sources the suite does not read, "
            "and etcd reads any ETCD_* variable among them as a flag"
        )
    flags.notes.append(
        "ETCD_* variables the image itself sets are not visible through the API; only the "
        "pod's own env is read"
    )


def _minor(text: str) -> tuple[int, int] | None:
    match = _VERSION.search(text)
    return (int(match[1]), int(match[2])) if match else None


def tables_match(component: str, image: str, server_version: str) -> bool:
    """Whether the flag tables are for this component's minor version (image tag first,
    the API server's version for the Kubernetes components otherwise)."""
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    ours = _minor(VERSIONS["etcd" if component == "etcd" else "kubernetes"])
    theirs = _minor(tag) or (None if component == "etcd" else _minor(server_version))
    return theirs is not None and theirs == ours


def component_flags(
    component: str, pod: Obj, container: Obj, argv: list[str], notes: list[str], server_version: str
) -> ComponentFlags:
    """One component instance's settings from its argv (binary first)."""
    meta = pod.get("metadata") or {}
    flags = ComponentFlags(
        component=component,
        pod=f"{meta.get('namespace')}/{meta.get('name')}",
        node=str((pod.get("spec") or {}).get("nodeName", "")),
        explicit={},
        notes=list(notes),
        container=str(container.get("name", "")),
    )
    known = tables_match(component, str(container.get("image", "")), server_version)
    if not known:
        flags.notes.append(
            f"flag tables are for {component} "
            f"{VERSIONS['etcd' if component == 'etcd' else 'kubernetes']}; this one runs "
            f"another or an unknown version, so flags the tables lack are read as written"
        )
    args = argv[1:]
    if component == "etcd":
        parsed = cmdline.parse_goflag(args, KINDS[component], known)
    else:
        parsed = cmdline.parse_pflag(args, KINDS[component], SHORTHANDS[component], known)
    marker = cmdline.UNRESOLVED
    if any(marker in t for t in [*parsed.refused, *parsed.positional]) or any(
        marker in o.name or _may_take_the_next(o) for o in parsed.occurrences
    ):
        # A $(VAR) stands where a flag may be: no setting can be read with certainty.
        flags.all_unknown = "; ".join(notes) or "a flag comes from an unresolved $(VAR)"
    flags.refused += [r for r in parsed.refused if marker not in r]
    flags.notes += parsed.assumed
    _settings_from(parsed.occurrences, KINDS[component], flags)
    version = flags.explicit.get("version")
    if version is not None and cmdline.parse_go_bool(version) is not False:
        flags.refused.append(_version_refusal(component, version, flags.origins["version"]))
    if flags.explicit.get("help") == "true":
        flags.refused.append("--help: prints its help and exits")
    if component == "etcd":
        _apply_etcd_environment(container, flags, set(flags.explicit))
    _mark_unresolved(flags, notes)
    return flags


def _may_take_the_next(occurrence: cmdline.Occurrence) -> bool:
    """A shorthand's attached value made only of $(VAR)s (``-v$(LEVEL)``): expanded to
    nothing, the shorthand takes the next argument as its value (spf13/pflag v1.0.9
    flag.go parseSingleShortArg), so what follows cannot be read with certainty.

    A $(VAR) expands within its own argument, never into several
    (third_party/forked/golang/expansion/expand.go), so a value after "=" (``-v=$(X)``,
    ``--v=$(X)``), a value given as the next argument, or an attached value with any
    literal text stays that flag's value, whatever the $(VAR) holds. A $(VAR) in a flag's
    name is the caller's to see."""
    value, token = occurrence.value, occurrence.token
    literal = value.split(cmdline.UNRESOLVED)[::2]  # the text outside the markers
    if any(literal) or token.endswith(" " + value):  # text, or the next argument
        return False
    # Attached after its letter, or after "=" (where an empty value stays the value; Go's
    # flag package and a long pflag flag only ever attach a value after "=").
    return token[-len(value) - 1] != "="


def _version_refusal(component: str, value: str, written: str) -> str:
    """Why a --version other than a false one stops the suite reading the component.

    A false value (strconv.ParseBool: 0, f, F, false, FALSE, False) starts it as usual.
    Kubernetes: component-base/version/verflag/verflag.go versionValue.Set and
    PrintAndExitIfRequested (raw or true print the version and exit; a "v" value sets the
    version the component reports, if the binary accepts it). etcd: a Go bool flag
    (etcdmain/config.go parse, printVersion)."""
    if cmdline.parse_go_bool(value) or (component != "etcd" and value == "raw"):
        return f"{written}: prints its version and exits"
    if component != "etcd" and value.startswith("v"):
        return (
            f"{written}: overrides the version the component reports, which the suite does "
            "not judge"
        )
    return f"{written}: not a value the component accepts, so it exits"


# ----------------------------------------------------------------------- discovery


def is_static_pod(pod: Obj) -> bool:
    """A mirror pod: the kubelet's annotation and its Node as the owner."""
    meta = pod.get("metadata") or {}
    owners = meta.get("ownerReferences") or []
    return "kubernetes.io/config.mirror" in (meta.get("annotations") or {}) and any(
        o.get("kind") == "Node" for o in owners
    )


def _resemblance(pod: Obj, container: Obj) -> str:
    """The component a pod's name, label, container name or image suggests ('' if none)."""
    meta = pod.get("metadata") or {}
    image = str(container.get("image", "")).rsplit("/", 1)[-1].split(":", 1)[0].split("@")[0]
    candidates = [
        str(container.get("name", "")),
        image,
        str((meta.get("labels") or {}).get("component", "")),
        *(c for c in COMPONENTS if str(meta.get("name", "")).startswith(c)),
    ]
    return next((c for c in candidates if c in COMPONENTS), "")


class ControlPlane(dict[str, list[ComponentFlags]]):
    """component -> its instances; plus what was set aside and what could not be read."""

    def __init__(self) -> None:
        super().__init__({c: [] for c in COMPONENTS})
        self.unresolved: dict[str, list[str]] = {c: [] for c in COMPONENTS}
        self.set_aside: dict[str, list[str]] = {c: [] for c in COMPONENTS}


def control_plane_flags(pods: Sequence[Obj], server_version: str = "") -> ControlPlane:
    """Every control-plane component found in kube-system static pods."""
    found = ControlPlane()
    for pod in pods:
        meta = pod.get("metadata") or {}
        if meta.get("namespace") != "kube-system":
            continue
        static = is_static_pod(pod)
        ref = f"Pod kube-system/{meta.get('name')}"
        for container in (pod.get("spec") or {}).get("containers") or []:
            argv, notes = cmdline.kubelet_argv(container)
            binary = PurePosixPath(argv[0]).name if argv else ""
            component = binary if binary in COMPONENTS else ""
            looks_like = component or _resemblance(pod, container)
            where = f"{ref} container {container.get('name', '')}"
            if not looks_like:
                continue
            if not static:
                found.set_aside[looks_like].append(
                    f"{where}: not a static pod (no kubernetes.io/config.mirror annotation "
                    "with a Node as owner)"
                )
                continue
            if (
                component == "etcd"
                and argv is not None
                and argv[1:2] in (["gateway"], ["grpc-proxy"])
            ):
                found.set_aside["etcd"].append(
                    f"{where}: runs etcd {argv[1]}, a proxy, not the store"
                )
                continue
            if not component:
                if argv is None:
                    found.unresolved[looks_like].append(f"{where}: {notes[0]}")
                elif binary in SHELLS:
                    found.unresolved[looks_like].append(
                        f"{where}: runs {binary}, whose script the suite does not interpret"
                    )
                else:
                    found.set_aside[looks_like].append(f"{where}: runs {binary}, not {looks_like}")
                continue
            assert argv is not None
            found[component].append(
                component_flags(component, pod, container, argv, notes, server_version)
            )
    return found


# ----------------------------------------------------------------------- rules


def extra_always_allow_paths(flags: ComponentFlags) -> list[str]:
    """Entries beyond the default health paths that skip authorization, as written.

    k8s.io/apiserver/pkg/authorization/path NewAuthorizer: the leading "/" is optional
    ("metrics" is "/metrics"), a trailing "*" makes a prefix ("*" alone: every path), an
    empty entry is the root path, and "*" anywhere else stops the component.
    """
    defaults = {p.lstrip("/") for p in DEFAULT_ALWAYS_ALLOW_PATHS}
    extra = set()
    for entry in flags.values("authorization-always-allow-paths"):
        path = entry.removeprefix("/")
        if "*" in path[:-1]:
            raise EvidenceUnavailable(
                f"{flags.pod}: {flags.source('authorization-always-allow-paths')}: only a "
                f"trailing * is allowed ({entry!r}), so {flags.component} refuses to start"
            )
        if path not in defaults:
            extra.add(entry if path else "/ (the root path)")
    return sorted(extra)


def binds_all_interfaces(flags: ComponentFlags) -> bool:
    return flags.get("bind-address") in ("0.0.0.0", "::", "")


def serves_nothing(flags: ComponentFlags) -> bool:
    """--secure-port=0: SecureServingOptions serves no HTTPS at all (no listener)."""
    port = flags.get("secure-port").strip()
    try:
        return int(port, 0) == 0
    except ValueError:
        raise EvidenceUnavailable(
            f"{flags.pod}: --secure-port={port} is not a number; {flags.component} refuses it"
        ) from None


def parse_duration(text: str) -> float | None:
    """Seconds in a Go duration (time.ParseDuration: ns, us, µs, ms, s, m, h, combined,
    fractional, signed); None where Go refuses it.

    >>> parse_duration("1h30m"), parse_duration("90s"), parse_duration("1d")
    (5400.0, 90.0, None)
    """
    ns = cmdline.go_duration_ns(text.strip())
    return None if ns is None else ns / 1e9


def etcd_listener_gaps(flags: ComponentFlags) -> list[str]:
    """Why etcd's client and peer listeners would accept callers without certificates.
    Raises EvidenceUnavailable when etcd would refuse these settings."""
    try:
        return etcd.listener_gaps(flags.get, peer=False) + etcd.listener_gaps(flags.get, peer=True)
    except etcd.EtcdRefuses as exc:
        raise EvidenceUnavailable(
            f"{flags.pod}: etcd would refuse these settings ({exc}), so they do not "
            "describe the running etcd"
        ) from None


def etcd_client_auth_gap(flags: ComponentFlags) -> str:
    """Why etcd's client listeners would accept a client without a certificate ('' when
    they would not)."""
    try:
        return "; ".join(etcd.listener_gaps(flags.get, peer=False))
    except etcd.EtcdRefuses as exc:
        raise EvidenceUnavailable(
            f"{flags.pod}: etcd would refuse these settings ({exc})"
        ) from None


MAX_TOKEN_EXPIRATION = "service-account-max-token-expiration"


def token_expiration_cap(flags: ComponentFlags) -> float:
    """Seconds of the API server's TokenRequest cap; 0 means none.

    pkg/controlplane/apiserver/options/options.go completeServiceAccountOptions: a nonzero
    value outside [1h, 2^32 s] stops the server, and with no value an external signer
    (--service-account-signing-endpoint) supplies its own maximum, which is not visible.
    """
    raw = flags.get(MAX_TOKEN_EXPIRATION)
    ns = cmdline.go_duration_ns(raw.strip())
    if ns is None:
        raise EvidenceUnavailable(
            f"{flags.pod}: {flags.source(MAX_TOKEN_EXPIRATION)} is not a Go duration; "
            "kube-apiserver refuses it, so these flags do not describe the running server"
        )
    if ns != 0 and not 3600 * 10**9 <= ns <= (1 << 32) * 10**9:
        raise EvidenceUnavailable(
            f"{flags.pod}: {flags.source(MAX_TOKEN_EXPIRATION)} is outside 1h..2^32s; "
            "kube-apiserver refuses to start with it, so these flags do not describe it"
        )
    if ns == 0 and flags.get("service-account-signing-endpoint"):
        raise EvidenceUnavailable(
            f"{flags.pod}: no --{MAX_TOKEN_EXPIRATION}, so the external signer at "
            f"{flags.get('service-account-signing-endpoint')} sets the cap, which the suite "
            "cannot see"
        )
    return ns / 1e9
