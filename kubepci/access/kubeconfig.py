"""Audit targets from kubeconfig files, resolved without contacting any cluster.

Everything here is local: it reads the kubeconfig YAML and says what is wrong with it in
one line. Credentials are classified by type only; no token, password or key material
leaves this module.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Credential classification lives in its own module; re-exported for existing callers.
from kubepci.access.credential import (  # noqa: F401
    ClientCertificate,
    Credential,
    classify_user,
    parse_certificate,
)

IN_CLUSTER = "in-cluster"
SA_TOKEN_PATH = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


class KubeconfigError(ValueError):
    """A kubeconfig problem, phrased as one line for the user."""


@dataclass(frozen=True)
class Target:
    """One cluster to audit: a kubeconfig file and a context in it (or in-cluster)."""

    id: str
    kubeconfig: str  # absolute path, $KUBECONFIG's merged path list, or IN_CLUSTER
    context: str
    server: str
    user: str
    credential: Credential

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kubeconfig": self.kubeconfig,
            "context": self.context,
            "server": self.server,
            "user": self.user,
            "credential": self.credential.to_json(),
        }


def _load_document(path: Path, need_contexts: bool = True) -> dict[str, Any]:
    if not path.exists():
        raise KubeconfigError(f"kubeconfig {path}: file not found")
    if path.is_dir():
        raise KubeconfigError(f"kubeconfig {path}: is a directory, not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise KubeconfigError(f"kubeconfig {path}: not readable (permission denied)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KubeconfigError(f"kubeconfig {path}: not readable ({exc})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise KubeconfigError(f"kubeconfig {path}: not valid YAML{line}") from None
    if not isinstance(document, dict) or (
        need_contexts and not isinstance(document.get("contexts"), list)
    ):
        raise KubeconfigError(f"kubeconfig {path}: not a kubeconfig (no 'contexts' list)")
    return document


@dataclass(frozen=True)
class _Source:
    """One kubeconfig as kubectl would read it: a file, or $KUBECONFIG's files merged."""

    label: str  # a path, or the path list (what the API client is given to load)
    document: dict[str, Any]
    user_folders: dict[str, Path]  # where each user's relative file paths start from

    def folder_of(self, user: str) -> Path:
        return self.user_folders.get(user, Path(self.label).parent)


def _single(path: Path) -> _Source:
    return _Source(str(path), _load_document(path), {})


def _merged(paths: list[Path]) -> _Source:
    """$KUBECONFIG's files merged as kubectl merges them: files that do not exist are
    skipped, the first definition of each cluster, user and context name wins, and so
    does the first current-context set."""
    present = [p for p in paths if p.exists()]
    if not present:
        listed = os.pathsep.join(str(p) for p in paths)
        raise KubeconfigError(f"$KUBECONFIG {listed}: none of its files exists")
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    folders: dict[str, Path] = {}
    for path in present:
        document = _load_document(path, need_contexts=False)
        if not merged.get("current-context") and document.get("current-context"):
            merged["current-context"] = document["current-context"]
        for section in ("clusters", "users", "contexts"):
            taken = {entry.get("name") for entry in merged[section]}
            for entry in document.get(section) or []:
                if isinstance(entry, dict) and entry.get("name") not in taken:
                    merged[section].append(entry)
                    taken.add(entry.get("name"))
                    if section == "users":
                        folders[str(entry.get("name"))] = path.parent
    return _Source(os.pathsep.join(str(p) for p in present), merged, folders)


def _named(document: dict[str, Any], section: str, name: str) -> dict[str, Any] | None:
    for entry in document.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            body = entry.get(section[:-1])
            return body if isinstance(body, dict) else {}
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@:-]+", "-", text).strip("-")


def _readable_id(context: str, path: Path, holders: list[Path]) -> str:
    """The context's name, qualified by its file when several files define it: by the
    file's stem, or by its whole path when the stems (``config``, say) are alike too."""
    slug = _slug(context) or "context"
    if len(holders) < 2:
        return slug
    stems = [p.stem for p in holders]
    qualifier = path.stem if stems.count(path.stem) == 1 else _slug(str(path))
    return f"{qualifier}:{slug}"


def default_kubeconfigs(environ: dict[str, str] | None = None) -> list[str]:
    """``$KUBECONFIG`` (path list), then ``~/.kube/config``, then in-cluster."""
    env = os.environ if environ is None else environ
    if env.get("KUBECONFIG"):
        return [p for p in env["KUBECONFIG"].split(os.pathsep) if p]
    home_config = Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"
    if home_config.exists():
        return [str(home_config)]
    if env.get("KUBERNETES_SERVICE_HOST") and SA_TOKEN_PATH.exists():
        return [IN_CLUSTER]
    return [str(home_config)]


def _in_cluster_target(environ: dict[str, str]) -> Target:
    host = environ.get("KUBERNETES_SERVICE_HOST", "")
    port = environ.get("KUBERNETES_SERVICE_PORT", "443")
    server = f"https://{host}:{port}"
    return Target(
        IN_CLUSTER,
        IN_CLUSTER,
        IN_CLUSTER,
        server,
        "serviceaccount",
        Credential("service-account-token", "projected ServiceAccount token of this pod"),
    )


def resolve_targets(
    kubeconfigs: list[str], contexts: list[str], environ: dict[str, str] | None = None
) -> list[Target]:
    """Pair kubeconfigs with contexts; raise KubeconfigError naming the problem.

    Each ``--kubeconfig`` file stands alone. Without any, ``$KUBECONFIG``'s files are
    merged into one kubeconfig, as kubectl merges them. Without ``--context`` each
    kubeconfig contributes its current context. With it, each named context is taken from
    every kubeconfig that defines it, and must exist in one.
    """
    env = dict(os.environ if environ is None else environ)
    targets: list[Target] = []
    sources: list[_Source] = []
    paths = kubeconfigs or default_kubeconfigs(env)
    if not kubeconfigs and len(paths) > 1:
        sources.append(_merged([Path(p).expanduser().resolve() for p in paths]))
    else:
        for raw in paths:
            if raw == IN_CLUSTER:
                targets.append(_in_cluster_target(env))
            else:
                sources.append(_single(Path(raw).expanduser().resolve()))

    wanted: list[tuple[_Source, str]] = []
    if contexts:
        for name in contexts:
            holders = [s for s in sources if _named(s.document, "contexts", name) is not None]
            if not holders:
                where = ", ".join(s.label for s in sources) or "the kubeconfig"
                raise KubeconfigError(f"context {name!r} not found in {where}")
            wanted.extend((s, name) for s in holders)
    else:
        for source in sources:
            current = source.document.get("current-context")
            if not current:
                raise KubeconfigError(
                    f"kubeconfig {source.label}: no current-context set; pass --context NAME"
                )
            if _named(source.document, "contexts", current) is None:
                raise KubeconfigError(
                    f"kubeconfig {source.label}: current-context {current!r} is not defined in it"
                )
            wanted.append((source, current))

    seen: set[tuple[str, str]] = set()
    for source, name in wanted:
        if (source.label, name) in seen:
            raise KubeconfigError(f"kubeconfig {source.label}: context {name!r} was given twice")
        seen.add((source.label, name))

    for source, name in wanted:
        label, document = source.label, source.document
        context = _named(document, "contexts", name) or {}
        cluster_name = str(context.get("cluster", ""))
        cluster = _named(document, "clusters", cluster_name)
        if cluster is None:
            raise KubeconfigError(
                f"kubeconfig {label}: context {name!r} names cluster {cluster_name!r},"
                " which is not defined"
            )
        server = str(cluster.get("server", ""))
        if not server.startswith("https://"):
            raise KubeconfigError(
                f"kubeconfig {label}: cluster {cluster_name!r} has no https:// server URL"
            )
        if cluster.get("insecure-skip-tls-verify"):
            raise KubeconfigError(
                f"kubeconfig {label}: cluster {cluster_name!r} sets insecure-skip-tls-verify;"
                " kubepci never sends credentials to a server whose certificate it cannot verify"
            )
        user_name = str(context.get("user", ""))
        user = _named(document, "users", user_name)
        if user is None:
            raise KubeconfigError(
                f"kubeconfig {label}: context {name!r} names user {user_name!r},"
                " which is not defined"
            )
        targets.append(
            Target(
                id=_readable_id(name, Path(label), [Path(s.label) for s, n in wanted if n == name]),
                kubeconfig=label,
                context=name,
                server=server,
                user=user_name,
                credential=classify_user(user, source.folder_of(user_name)),
            )
        )
    by_id: dict[str, Target] = {}
    for target in targets:
        other = by_id.setdefault(target.id, target)
        if other is not target:
            raise KubeconfigError(
                f"kubeconfig {target.kubeconfig}: context {target.context!r} has the same id"
                f" {target.id!r} as context {other.context!r} of {other.kubeconfig}"
            )
    return targets
