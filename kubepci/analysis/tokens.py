"""Service account token analysis: automount, default accounts, legacy and long-lived tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

LEGACY_TOKEN_ANNOTATION = "kubernetes.io/service-account.name"
LAST_USED_LABEL = "kubernetes.io/legacy-token-last-used"
INVALID_SINCE_LABEL = "kubernetes.io/legacy-token-invalid-since"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token"


@dataclass(frozen=True)
class Automount:
    """Whether a pod receives a token, and which setting decided it."""

    mounted: bool
    explicit: bool  # true when the pod or its service account says so in writing
    decided_by: str

    def text(self) -> str:
        # "...: true" ends the text: a value in parentheses, "true)", would make the
        # redactor look at every such finding at length (kubepci.report.redact).
        return f"token {'mounted' if self.mounted else 'not mounted'}; {self.decided_by}"


def is_mirror_pod(pod: Obj) -> bool:
    """Static pods' API mirrors cannot use service accounts, so token rules do not apply."""
    return MIRROR_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {})


def service_account_index(service_accounts: Sequence[Obj]) -> dict[tuple[str, str], Obj]:
    return {
        (str(sa["metadata"]["namespace"]), str(sa["metadata"]["name"])): sa
        for sa in service_accounts
    }


def should_automount(pod: Obj, accounts: dict[tuple[str, str], Obj]) -> Automount:
    """The ServiceAccount admission plugin's decision: pod setting over ServiceAccount
    setting over the default true (plugin/pkg/admission/serviceaccount/admission.go
    ``shouldAutomount``), judged against the ServiceAccount as it is now."""
    # The trimmer writes the namespace and the account name, "default" where the pod names
    # none, as the ServiceAccount admission plugin sets it (kubepci/access/trim.py pod).
    spec = pod.get("spec") or {}
    namespace = str(pod["metadata"]["namespace"])
    sa_name = str(spec["serviceAccountName"])
    if "automountServiceAccountToken" in spec:
        value = bool(spec["automountServiceAccountToken"])
        return Automount(
            value, True, f"pod sets automountServiceAccountToken: {str(value).lower()}"
        )
    account = accounts.get((namespace, sa_name))
    if account is not None and "automountServiceAccountToken" in account:
        value = bool(account["automountServiceAccountToken"])
        decided = (
            f"ServiceAccount {namespace}/{sa_name} sets "
            f"automountServiceAccountToken: {str(value).lower()}"
        )
        return Automount(value, True, decided)
    return Automount(True, False, "neither pod nor ServiceAccount sets it; default true")


def effective_automount(pod: Obj, accounts: dict[tuple[str, str], Obj]) -> Automount:
    """Pod setting over service account setting over the default (true).

    A pod that mounts a projected serviceAccountToken volume by hand also carries a token,
    whatever automount says. Every path to a credential, legacy token Secrets included, is
    in kubepci.analysis.pod_credentials.
    """
    spec = pod.get("spec") or {}
    projected = [
        v["name"]
        for v in spec.get("volumes") or []
        if any("serviceAccountToken" in s for s in (v.get("projected") or {}).get("sources") or [])
    ]
    automount = should_automount(pod, accounts)
    if not automount.mounted and projected:
        return Automount(True, True, f"projected token volume {projected[0]} mounted explicitly")
    return automount


def legacy_token_secrets(secrets: Sequence[Obj]) -> list[Obj]:
    """Secrets that name a ServiceAccount in the token annotation, whatever their type.

    For privilege paths (kubepci.analysis.workloads): reading such a Secret, or an Opaque
    copy of one, yields that account's token while the original exists. Which Secrets ARE
    legacy tokens is a matter of type: :func:`service_account_token_secrets`.
    """
    return [
        s
        for s in secrets
        if LEGACY_TOKEN_ANNOTATION in ((s.get("metadata") or {}).get("annotations") or {})
    ]


def service_account_token_secrets(token_secrets: Sequence[Obj]) -> list[Obj]:
    """Secret-based (legacy, non-expiring) ServiceAccount tokens: Secrets of type
    kubernetes.io/service-account-token, which the snapshot lists by field selector as
    metadata only. The type, not an annotation anyone can copy, makes one: the tokens
    controller fills in only those, and the token authenticator accepts a token only while
    the Secret it names holds it (pkg/serviceaccount/legacy.go)."""
    return [s for s in token_secrets if s.get("type") == SERVICE_ACCOUNT_TOKEN_TYPE]


def annotated_copies(secrets: Sequence[Obj], token_secrets: Sequence[Obj]) -> list[Obj]:
    """Secrets that carry the token annotation but are not of the token type."""
    # A Secret is namespaced: its namespace is always set (and kept by the trimmer).
    typed = {
        (s["metadata"]["namespace"], s["metadata"]["name"])
        for s in service_account_token_secrets(token_secrets)
    }
    return [
        s
        for s in legacy_token_secrets(secrets)
        if (s["metadata"]["namespace"], s["metadata"]["name"]) not in typed
    ]


def legacy_token_detail(secret: Obj) -> str:
    """One token Secret's finding. Its account annotation is required of the type
    (core/validation ValidateSecret: kubernetes.io/service-account.name)."""
    meta = secret["metadata"]
    account = meta["annotations"][LEGACY_TOKEN_ANNOTATION]
    labels = meta.get("labels") or {}
    parts = [f"long-lived token for ServiceAccount {meta['namespace']}/{account}"]
    if LAST_USED_LABEL in labels:
        parts.append(f"last used {labels[LAST_USED_LABEL]}")
    else:
        parts.append("no recorded use")
    if INVALID_SINCE_LABEL in labels:
        parts.append(f"invalidated since {labels[INVALID_SINCE_LABEL]} (pending cleanup)")
    return "; ".join(parts)


def projected_token_lifetimes(pod: Obj) -> list[tuple[str, int]]:
    """(volume name, expirationSeconds) for each projected service account token."""
    out: list[tuple[str, int]] = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        for source in (volume.get("projected") or {}).get("sources") or []:
            token = source.get("serviceAccountToken")
            if token is not None:
                # The API server defaults an unset expirationSeconds to one hour; a volume
                # always has a name (pkg/apis/core/validation/validation.go ValidateVolumes).
                out.append((str(volume["name"]), int(token.get("expirationSeconds") or 3600)))
    return out
