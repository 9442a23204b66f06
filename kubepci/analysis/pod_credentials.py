"""Every path by which a pod holds a ServiceAccount credential, judged from its spec.

The kubelet writes a credential into a pod, or its environment, when the admitted spec
names one; a pod holds one if ANY of these is there:

- the ServiceAccount admission plugin's ``kube-api-access-*`` projected volume, added when
  the effective automount (pod over ServiceAccount over the default true) is on
  (plugin/pkg/admission/serviceaccount/admission.go: ``shouldAutomount``,
  ``mountServiceAccountToken``, ``TokenVolumeSource``);
- a projected ``serviceAccountToken`` source in any volume, whatever automount says;
- a Secret of type ``kubernetes.io/service-account-token`` (a legacy, non-expiring token)
  mounted as a ``secret`` volume or a projected ``secret`` source, or read by
  ``env[].valueFrom.secretKeyRef`` or ``envFrom[].secretRef``, in any container, init
  container or ephemeral container.

A token Secret carries the credential of the ServiceAccount its
``kubernetes.io/service-account.name`` annotation names, not of the pod's own account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubepci.analysis.tokens import (
    INVALID_SINCE_LABEL,
    LEGACY_TOKEN_ANNOTATION,
    Automount,
    should_automount,
)

Obj = dict[str, Any]

# admission.go: ServiceAccountVolumeName + "-", and the token the plugin asks for
# (pkg/serviceaccount/claims.go WarnOnlyBoundTokenExpirationSeconds).
INJECTED_VOLUME_PREFIX = "kube-api-access-"
INJECTED_TOKEN_SECONDS = 3607
INJECTED_CONFIGMAP = "kube-root-ca.crt"
# core/v1 ServiceAccountTokenKey: the key of a token Secret that holds the token itself
# (the others, ca.crt and namespace, are not credentials).
TOKEN_KEY = "token"

AUTOMOUNT = "automount"
PROJECTED_TOKEN = "projected-token"
SECRET_VOLUME = "secret-volume"
ENV = "env"
ENV_FROM = "env-from"
FROM_SECRET = (SECRET_VOLUME, ENV, ENV_FROM)


@dataclass(frozen=True)
class TokenSecrets:
    """Legacy token Secrets, as the server lists them by type: (namespace, name) → the
    ServiceAccount they belong to, and the invalid-since date when cleanup marked one."""

    accounts: Mapping[tuple[str, str], str]
    invalid_since: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_listing(cls, token_secrets: Iterable[Obj]) -> TokenSecrets:
        accounts: dict[tuple[str, str], str] = {}
        invalid: dict[tuple[str, str], str] = {}
        for secret in token_secrets:
            meta = secret["metadata"]
            key = (str(meta["namespace"]), str(meta["name"]))
            # The API server refuses a token Secret without the annotation
            # (pkg/apis/core/validation/validation.go ValidateSecret).
            accounts[key] = str(meta["annotations"][LEGACY_TOKEN_ANNOTATION])
            since = (meta.get("labels") or {}).get(INVALID_SINCE_LABEL)
            if since:
                invalid[key] = str(since)
        return cls(accounts, invalid)


@dataclass(frozen=True)
class Delivery:
    """One way a credential reaches the pod."""

    via: str  # AUTOMOUNT, PROJECTED_TOKEN, SECRET_VOLUME, ENV or ENV_FROM
    account: str  # namespace/name of the ServiceAccount whose credential it is
    explicit: bool  # the pod spec, or its ServiceAccount, asks for it in writing
    how: str
    volume: str = ""
    secret: str = ""

    @property
    def account_name(self) -> str:
        return self.account.split("/", 1)[-1]

    def text(self) -> str:
        return f"ServiceAccount {self.account} credential {self.how}"


@dataclass(frozen=True)
class PodCredentials:
    """What credentials one pod holds, and what could not be resolved."""

    namespace: str
    name: str
    service_account: str
    automount: Automount
    deliveries: tuple[Delivery, ...]
    # Secret references that may be token Secrets: the token-Secret listing was unavailable.
    unresolved: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"Pod {self.namespace}/{self.name}"

    def unrequested(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.explicit]

    def default_account_detail(self) -> str:
        """Why this pod uses a namespace's default ServiceAccount ('' when it does not):
        it runs as ``default`` and holds any credential, or it holds a ``default``
        account's legacy token by a Secret reference."""
        if self.service_account == "default" and self.deliveries:
            held = "; ".join(d.text() for d in self.deliveries)
            return f"runs as the default ServiceAccount and holds {held}"
        borrowed = [d for d in self.deliveries if d.account_name == "default"]
        if borrowed:
            held = "; ".join(d.text() for d in borrowed)
            return (
                f"runs as ServiceAccount {self.namespace}/{self.service_account} "
                f"but holds the default account's {held}"
            )
        return ""


def _containers(spec: Obj) -> list[tuple[str, Obj]]:
    kinds = (
        ("containers", "container"),
        ("initContainers", "init container"),
        ("ephemeralContainers", "ephemeral container"),
    )
    return [(kind, c) for key, kind in kinds for c in spec.get(key) or []]


def _mounted_in(spec: Obj, volume: str) -> str:
    where = [
        f"{kind} {c['name']}"  # a container's name is required (ValidatePod)
        for kind, c in _containers(spec)
        if any(m.get("name") == volume for m in c.get("volumeMounts") or [])
    ]
    # The kubelet still writes an unmounted volume on the node, and an ephemeral container
    # added later may mount it: the credential is the pod's either way.
    return ", ".join(where) if where else "no container yet"


def _is_injected(volume: Obj) -> bool:
    """The volume admission.go TokenVolumeSource builds, under its generated name."""
    if not str(volume["name"]).startswith(INJECTED_VOLUME_PREFIX):
        return False
    sources = (volume.get("projected") or {}).get("sources") or []
    tokens = [s["serviceAccountToken"] for s in sources if "serviceAccountToken" in s]
    configmaps = [s["configMap"].get("name") for s in sources if "configMap" in s]
    return (
        len(tokens) == 1
        and int(tokens[0].get("expirationSeconds") or 0) == INJECTED_TOKEN_SECONDS
        and not tokens[0].get("audience")
        and configmaps == [INJECTED_CONFIGMAP]
        and any("downwardAPI" in s for s in sources)
    )


def _keys_deliver_token(reference: Obj) -> bool:
    # A listed item's key is required (core/validation validateKeyToPath); the trimmer
    # writes it for every item.
    items = reference.get("items")
    return items is None or any(i["key"] == TOKEN_KEY for i in items)


class _Collector:
    def __init__(self, namespace: str, secrets: TokenSecrets | None) -> None:
        self.namespace = namespace  # the pod's: the Secrets it names are its namespace's
        self.secrets = secrets
        self.deliveries: list[Delivery] = []
        self.unresolved: list[str] = []
        self.notes: list[str] = []

    def token_secret(self, name: str, where: str) -> str | None:
        """The account of a referenced token Secret, or None if it is not one."""
        if self.secrets is None:
            self.unresolved.append(f"Secret {self.namespace}/{name} ({where})")
            return None
        account = self.secrets.accounts.get((self.namespace, name))
        if account is None:
            return None
        return f"{self.namespace}/{account}"

    def is_token_secret(self, name: str) -> bool:
        return self.secrets is not None and (self.namespace, name) in self.secrets.accounts

    def invalid_note(self, name: str) -> str:
        since = (self.secrets.invalid_since if self.secrets else {}).get((self.namespace, name))
        return f" (marked invalid since {since})" if since else ""

    def from_secret(self, via: str, name: str, how: str, volume: str = "") -> None:
        account = self.token_secret(name, how)
        if account is not None:
            self.deliveries.append(
                Delivery(
                    via,
                    account,
                    True,
                    f"from legacy token Secret {name}{self.invalid_note(name)} {how}",
                    volume,
                    name,
                )
            )


def pod_credentials(
    pod: Obj, accounts: dict[tuple[str, str], Obj], token_secrets: TokenSecrets | None
) -> PodCredentials:
    """Every ServiceAccount credential the pod holds. ``token_secrets`` None: the legacy
    token Secrets could not be listed, so Secret references stay unresolved."""
    # The snapshot's trimmer (kubepci/access/trim.py) writes every field read directly
    # here: the pod's name and namespace, a volume's name, a Secret reference's name and
    # its items' keys, an env entry's name and secretKeyRef, an envFrom's prefix and
    # secretRef.
    meta, spec = pod["metadata"], pod.get("spec") or {}
    namespace = str(meta["namespace"])
    own = str(spec["serviceAccountName"])  # "default" where none is named (trim.pod)
    own_ref = f"{namespace}/{own}"
    automount = should_automount(pod, accounts)
    pod_says = spec.get("automountServiceAccountToken")
    found = _Collector(namespace, token_secrets)
    injected = False

    for volume in spec.get("volumes") or []:
        name = str(volume["name"])
        where = _mounted_in(spec, name)
        if "secret" in volume:
            reference = volume["secret"] or {}
            secret = str(reference["secretName"])
            if _keys_deliver_token(reference):
                found.from_secret(SECRET_VOLUME, secret, f"in volume {name} ({where})", name)
            elif found.is_token_secret(secret):
                found.notes.append(f"volume {name} projects only other keys of Secret {secret}")
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "secret" in source:
                reference = source["secret"] or {}
                secret = str(reference["name"])
                if _keys_deliver_token(reference):
                    how = f"projected into volume {name} ({where})"
                    found.from_secret(SECRET_VOLUME, secret, how, name)
            if "serviceAccountToken" not in source:
                continue
            # The plugin adds its volume only when the pod does not turn automount off
            # (the pod's field is immutable); one of that shape in such a pod was written
            # by hand, like any other projected token.
            if _is_injected(volume) and pod_says is not False:
                injected = True
                decided = automount.decided_by
                if not automount.mounted:
                    decided = f"{decided} now, but the pod was admitted before that"
                found.deliveries.append(
                    Delivery(
                        AUTOMOUNT,
                        own_ref,
                        automount.explicit and automount.mounted,
                        f"in the admission-injected volume {name} ({where}); {decided}",
                        name,
                    )
                )
            else:
                found.deliveries.append(
                    Delivery(
                        PROJECTED_TOKEN,
                        own_ref,
                        True,
                        f"in projected volume {name} ({where}), written in the pod spec",
                        name,
                    )
                )

    for kind, container in _containers(spec):
        cname = f"{kind} {container['name']}"
        for env in container.get("env") or []:
            ref = env.get("secretKeyRef")
            if ref is None:
                continue  # a control-plane pod's variables, kept for its flags
            secret, key = str(ref["name"]), str(ref["key"])
            how = f"key {key} in env {env['name']} of {cname}"
            if key == TOKEN_KEY:
                found.from_secret(ENV, secret, how)
            elif found.is_token_secret(secret):
                found.notes.append(f"{cname} reads only key {key} of Secret {secret}")
        for env_from in container.get("envFrom") or []:
            if "secretRef" not in env_from:
                continue  # a ConfigMap's variables, kept of a control-plane pod for its flags
            secret = str(env_from["secretRef"]["name"])
            prefix = str(env_from["prefix"])
            found.from_secret(ENV_FROM, secret, f"in env {prefix}{TOKEN_KEY} (envFrom) of {cname}")

    if automount.mounted and not injected and pod_says is not False:
        found.notes.append(
            "automount is on but no admission-injected token volume is in the pod: the "
            "ServiceAccount admission plugin did not add one (disabled, or every container "
            "mounts its own volume at /var/run/secrets/kubernetes.io/serviceaccount)"
        )
    return PodCredentials(
        namespace,
        str(meta["name"]),
        own,
        automount,
        tuple(found.deliveries),
        tuple(found.unresolved),
        tuple(found.notes),
    )


def token_secret_consumers(
    credentials: Iterable[PodCredentials],
) -> dict[tuple[str, str], list[str]]:
    """(namespace, Secret) → the pods that hold its token, and how."""
    out: dict[tuple[str, str], list[str]] = {}
    for pod in credentials:
        for d in pod.deliveries:
            if d.via in FROM_SECRET:
                out.setdefault((pod.namespace, d.secret), []).append(f"{pod.ref} {d.how}")
    return out
