"""One control-plane component instance's settings, and the files it reads them from.

:class:`ComponentFlags` is what a check reads: each setting as the component holds it
(:meth:`ComponentFlags.get`), where it came from (:meth:`ComponentFlags.source`), and an
:class:`~kubepci.verdict.EvidenceUnavailable` for a value the suite cannot see. It is
built by :mod:`kubepci.analysis.flags` from the static pod.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from kubepci.analysis import cmdline, etcd
from kubepci.analysis.flag_specs import FLAGS
from kubepci.verdict import EvidenceUnavailable

Obj = dict[str, Any]

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
KINDS: dict[str, dict[str, str]] = {c: {n: k for n, (k, _) in FLAGS[c].items()} for c in FLAGS}
# Each flag's default as the component's flag set prints it (lists without brackets).
DEFAULTS: dict[str, dict[str, str]] = {c: {n: d for n, (_, d) in FLAGS[c].items()} for c in FLAGS}
DEFAULT_ALWAYS_ALLOW_PATHS = frozenset({"/healthz", "/readyz", "/livez"})
# The files a component reads Section 1 settings from, by the flag that names them.
# kube-scheduler's --config (KubeSchedulerConfiguration, pkg/scheduler/apis/config) holds
# no serving, authentication or authorization settings, so it is not read; the
# controller manager takes no file. --authorization-config is read by the facade's
# authorization_config for the authorizer chain.
SETTINGS_FILE_FLAGS = {
    "kube-apiserver": ("authentication-config",),
    "etcd": ("config-file",),
}


@dataclass(frozen=True)
class ConfigFile:
    """A settings file named by a flag, as read from the node (or why it was not)."""

    flag: str
    path: str  # as the flag gives it
    read_from: str = ""  # the host path read; "" when not read
    document: Obj | None = None
    reason: str = ""  # why it was not read

    @property
    def unread(self) -> str:
        """'' when read; otherwise why, worded for the evidence."""
        if self.document is not None:
            return ""
        return f"--{self.flag}={self.path}: {self.reason or 'not read'}"


@dataclass
class ComponentFlags:
    """One control-plane component's effective settings and where each came from."""

    component: str
    pod: str  # namespace/name of the (mirror) pod
    node: str
    explicit: dict[str, str]  # set on the command line (or, for etcd, the environment)
    lists: dict[str, list[str]] = field(default_factory=dict)  # list flags' items
    origins: dict[str, str] = field(default_factory=dict)  # how each explicit one was written
    unresolved: dict[str, str] = field(default_factory=dict)  # flag -> why its value is unknown
    # Why no setting, explicit or not, can be read: a $(VAR) that may stand for a flag can
    # override one given before it (pflag and Go's flag: the last occurrence wins, a list
    # appends) and hide a default; a settings file etcd may read replaces everything.
    all_unknown: str = ""
    refused: list[str] = field(default_factory=list)  # why the component would not run so
    notes: list[str] = field(default_factory=list)  # limitations and assumptions
    container: str = ""
    files: dict[str, ConfigFile] = field(default_factory=dict)

    # ------------------------------------------------------------------ reading
    @property
    def settings_file(self) -> str:
        """etcd's --config-file (or ETCD_CONFIG_FILE) when set: then it decides everything."""
        if self.component != "etcd":
            return ""
        return self.explicit.get("config-file", "")

    def _unknown(self, name: str) -> str:
        if name in self.unresolved:
            return self.unresolved[name]
        if self.all_unknown:
            return self.all_unknown
        return ""

    def _from_file(self, name: str) -> str:
        path = self.settings_file
        file = self.files.get("config-file")
        if file is None or file.document is None:
            why = file.unread if file else f"{path} is on the node and was not read"
            raise EvidenceUnavailable(
                f"{self.pod}: etcd takes its settings from --config-file={path}, a file the "
                f"suite cannot read ({why}; run with --node-root on the node)"
            )
        try:
            found, value = etcd.file_setting(file.document, name, KINDS["etcd"][name])
        except etcd.EtcdRefuses as exc:
            raise EvidenceUnavailable(
                f"{self.pod}: etcd would refuse {file.read_from}: {exc}"
            ) from None
        return value if found else self.default(name)

    def get(self, name: str) -> str:
        """The setting as the component holds it (list items joined by commas)."""
        why = self._unknown(name)
        if why:
            raise EvidenceUnavailable(f"{self.pod}: --{name} cannot be read: {why}")
        if self.settings_file and name != "config-file":
            return self._from_file(name)
        if name in self.explicit:
            return self.explicit[name]
        if (
            self.component == "etcd"
            and name == "advertise-client-urls"
            and self.explicit.get("listen-client-urls")
        ):
            return ""  # etcdmain configFromCmdLine: no default advertised URL then
        return self.default(name)

    def default(self, name: str) -> str:
        """The flag's default as the component's flag set holds it (flag_specs).

        A name the component has no flag for is a KeyError, not "": a check that asks
        for a misspelt or foreign flag must fail, not read an empty setting.
        """
        return DEFAULTS[self.component][name]

    def values(self, name: str) -> list[str]:
        """A list flag's items in order: a StringSlice's value is one CSV record
        (spf13/pflag string_slice.go readAsCSV), a StringArray's occurrences are each one
        item (string_array.go)."""
        kind = KINDS[self.component][name]
        if kind not in ("csv-list", "list"):
            raise ValueError(f"--{name} of {self.component} is not a list flag")
        if name in self.lists and not self._unknown(name):
            return list(self.lists[name])
        value = self.get(name)
        if kind == "list":
            return [value] if value else []
        return cmdline.csv_record(value) or []

    def is_set(self, name: str) -> bool:
        """Given explicitly (command line, or for etcd its environment)."""
        return name in self.explicit

    def is_true(self, name: str) -> bool:
        return cmdline.parse_go_bool(self.get(name).strip()) is True

    def source(self, name: str) -> str:
        """Where the value comes from, in words for the evidence."""
        why = self._unknown(name)
        if why:
            return f"--{name}: not known ({why})"
        if self.settings_file and name != "config-file":
            file = self.files.get("config-file")
            if file is None or file.document is None:
                return f"--{name}: set by --config-file={self.settings_file} (not read)"
            try:
                found, value = etcd.file_setting(file.document, name, KINDS["etcd"][name])
            except etcd.EtcdRefuses as exc:
                return f"--{name}: etcd would refuse {file.read_from} ({exc})"
            where = etcd.file_key(name)
            if found:
                return f"{where}: {value} in {file.read_from} (--config-file on pod {self.pod})"
            default = self.default(name)
            return f"{where} not in {file.read_from}; etcd default {default or '(empty)'} applies"
        if name in self.explicit:
            value = self.explicit[name]
            written = self.origins.get(name, "")
            if written.startswith(etcd.ENV_PREFIX + "_"):
                return f"{written} in the environment of pod {self.pod}"
            if written and written != f"--{name}={value}":
                return f"--{name}={value} (set on pod {self.pod} as: {written})"
            return f"--{name}={value} (set on pod {self.pod})"
        default = self.default(name)
        owner = "etcd" if self.component == "etcd" else "Kubernetes"
        return f"--{name} not set; {owner} default {default or '(empty)'} applies"

    def evidence(self, names: list[str]) -> Obj:
        out: Obj = {
            "component": self.component,
            "pod": self.pod,
            "node": self.node,
            "flags": {name: self.source(name) for name in names},
        }
        if self.notes:
            out["notes"] = list(self.notes)
        if self.refused:
            out["refused"] = list(self.refused)
        return out

    # ------------------------------------------------------------------ files
    def file_paths(self) -> dict[str, str]:
        """The settings files this instance reads, by flag (only those it reads)."""
        out = {}
        for flag in SETTINGS_FILE_FLAGS.get(self.component, ()):
            if flag not in self.unresolved and self.explicit.get(flag):
                out[flag] = self.explicit[flag]
        return out

    def with_files(self, files: dict[str, ConfigFile]) -> ComponentFlags:
        return dataclasses.replace(self, files=dict(files))
