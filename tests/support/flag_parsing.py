"""Reading a bare argv as its binary's flag library would: a test helper (the suite reads
flags from control-plane pods, kubepci.analysis.flags.control_plane_flags)."""

from __future__ import annotations

from pathlib import PurePosixPath

from kubepci.analysis import cmdline
from kubepci.analysis.flag_specs import SHORTHANDS
from kubepci.analysis.flags import COMPONENTS, KINDS, ComponentFlags, _settings_from


def parse_flags(tokens: list[str]) -> dict[str, str]:
    """The flags of an argv (binary first) as that binary's flag library reads them;
    a binary the tables do not know is read as kube-apiserver's pflag would.

    >>> parse_flags(["kube-apiserver", "--anonymous-auth=false", "--secure-port", "6443",
    ...              "--authorization-mode=Node", "--authorization-mode=RBAC"])
    {'anonymous-auth': 'false', 'secure-port': '6443', 'authorization-mode': 'Node,RBAC'}
    """
    binary = PurePosixPath(tokens[0]).name if tokens else ""
    component = binary if binary in COMPONENTS else "kube-apiserver"
    args = list(tokens[1:]) if binary else list(tokens)
    if component == "etcd":
        parsed = cmdline.parse_goflag(args, KINDS[component], False)
    else:
        parsed = cmdline.parse_pflag(args, KINDS[component], SHORTHANDS[component], False)
    flags = ComponentFlags(component, "", "", {})
    _settings_from(parsed.occurrences, KINDS[component], flags)
    return flags.explicit
