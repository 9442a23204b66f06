"""PCI 1.5.1 / 1.5.2 judged: pods hold ServiceAccount credentials only where they ask for
them, and none uses a namespace's default ServiceAccount.

Every path by which a pod holds a credential is :mod:`kubepci.analysis.pod_credentials`.
Mirror pods are left out: static pods may not use ServiceAccounts or Secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubepci.analysis import tokens
from kubepci.analysis.judgement import Draft, Gathered, Judgement, drafted
from kubepci.analysis.pod_credentials import PodCredentials, TokenSecrets, pod_credentials
from kubepci.verdict import EvidenceUnavailable, Finding

Obj = dict[str, Any]


def held_credentials(
    service_accounts: Sequence[Obj], pods: Sequence[Obj], token_secrets: Gathered[Sequence[Obj]]
) -> list[PodCredentials]:
    """Every non-mirror pod's credentials; without the token-Secret listing, Secret
    references stay unresolved."""
    accounts = tokens.service_account_index(list(service_accounts))
    secrets = (
        None
        if token_secrets.missing
        else TokenSecrets.from_listing(tokens.service_account_token_secrets(token_secrets.value))
    )
    return [pod_credentials(p, accounts, secrets) for p in pods if not tokens.is_mirror_pod(p)]


def _notes(draft: Draft, held: Sequence[PodCredentials]) -> None:
    notes = [f"{c.ref}: {note}" for c in held for note in c.notes]
    if notes:
        draft.record("Settings that deliver no credential", notes)


def _judge_pod_token_automount(
    draft: Draft,
    service_accounts: Sequence[Obj],
    pods: Sequence[Obj],
    token_secrets: Gathered[Sequence[Obj]],
) -> Judgement:
    """1.5.1: the admission-injected token is there only where the pod or its
    ServiceAccount sets automountServiceAccountToken: true; what pods ask for explicitly
    is listed (other checks judge it)."""
    held = held_credentials(service_accounts, pods, token_secrets)
    findings, explicit = [], []
    for pod in held:
        unrequested = pod.unrequested()
        if unrequested:
            detail = "; ".join(d.text() for d in unrequested)
            findings.append(Finding("Pod", pod.namespace, pod.name, detail))
        asked = [d.text() for d in pod.deliveries if d.explicit]
        if asked:
            explicit.append(f"{pod.ref}: " + "; ".join(asked))
    draft.record("Pods that hold a credential because they ask for it", explicit)
    _notes(draft, held)
    if token_secrets.missing:
        draft.record(
            "Limitation",
            f"legacy token Secrets could not be listed ({token_secrets.missing}); a Secret a "
            "pod names is an explicit request either way, so the verdict does not depend on "
            "them",
        )
    return draft.judge(findings, passed="every credential a pod holds was explicitly requested")


judge_pod_token_automount = drafted(_judge_pod_token_automount)


def _judge_default_account_use(
    draft: Draft,
    service_accounts: Sequence[Obj],
    pods: Sequence[Obj],
    token_secrets: Gathered[Sequence[Obj]],
) -> Judgement:
    """1.5.2: no pod runs as ``default`` holding a credential by any path, and none holds
    a ``default`` account's legacy token; without the token-Secret listing, a Secret
    reference that may be one leaves no pass."""
    held = held_credentials(service_accounts, pods, token_secrets)
    findings = []
    for pod in held:
        detail = pod.default_account_detail()
        if detail:
            findings.append(Finding("Pod", pod.namespace, pod.name, detail))
    _notes(draft, held)
    unresolved = [f"{c.ref} names {ref}" for c in held for ref in c.unresolved]
    if token_secrets.missing and unresolved:
        draft.record("Secret references not resolved", unresolved)
        if not findings:
            raise EvidenceUnavailable(
                f"{token_secrets.missing}: {len(unresolved)} Secret reference(s) in pods may "
                "be legacy ServiceAccount tokens"
            )
    return draft.judge(findings, passed="no pod uses a default ServiceAccount's credential")


judge_default_account_use = drafted(_judge_default_account_use)
