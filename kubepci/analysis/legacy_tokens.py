"""PCI 1.3.4 judged: no long-lived, secret-based ServiceAccount token exists.

A legacy token is a Secret of type ``kubernetes.io/service-account-token``, listed by that
type as metadata only (:func:`kubepci.analysis.tokens.service_account_token_secrets`); a
Secret of another type that kept the annotation is not one. The pods that hold each token
are found by :mod:`kubepci.analysis.pod_credentials`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubepci.analysis import tokens
from kubepci.analysis.judgement import Draft, Judgement, drafted
from kubepci.analysis.pod_credentials import TokenSecrets, pod_credentials, token_secret_consumers
from kubepci.verdict import Finding

Obj = dict[str, Any]


def _ref(secret: Obj) -> tuple[str, str]:
    # Secrets are namespaced: the API server stores none without a namespace.
    return secret["metadata"]["namespace"], secret["metadata"]["name"]


def _listed_tokens(draft: Draft, token_secrets: Sequence[Obj]) -> Judgement:
    """A step: the secret-based tokens listed (metadata only), as evidence."""
    legacy = tokens.service_account_token_secrets(list(token_secrets))
    draft.record("Secret-based ServiceAccount tokens (metadata only)", legacy, "objects")
    return draft.so_far()


listed_tokens = drafted(_listed_tokens)


def _annotated_copies(
    draft: Draft, secrets: Sequence[Obj], token_secrets: Sequence[Obj]
) -> Judgement:
    """A step: Secrets of another type that carry the token annotation are not legacy
    tokens; they are named as evidence that they were seen and set aside."""
    legacy = tokens.service_account_token_secrets(list(token_secrets))
    copies = tokens.annotated_copies(list(secrets), legacy)
    if copies:
        draft.record(
            "Not legacy tokens: Secrets of another type with the service-account annotation",
            [f"Secret {namespace}/{name}" for namespace, name in map(_ref, copies)],
        )
    return draft.so_far()


annotated_copies = drafted(_annotated_copies)


def _judge_legacy_tokens(
    draft: Draft,
    token_secrets: Sequence[Obj],
    service_accounts: Sequence[Obj],
    pods: Sequence[Obj],
) -> Judgement:
    """Each legacy token Secret is a finding, with its last use, its cleanup mark and the
    pods that hold it (mirror pods cannot hold one)."""
    legacy = tokens.service_account_token_secrets(list(token_secrets))
    accounts = tokens.service_account_index(list(service_accounts))
    secrets = TokenSecrets.from_listing(legacy)
    consumers = token_secret_consumers(
        pod_credentials(p, accounts, secrets) for p in pods if not tokens.is_mirror_pod(p)
    )
    findings = []
    for secret in legacy:
        namespace, name = _ref(secret)
        detail = tokens.legacy_token_detail(secret)
        held = consumers.get((namespace, name))
        if held:
            detail += "; held by " + ", ".join(held)
        findings.append(Finding("Secret", namespace, name, detail))
    return draft.judge(findings, passed="no secret-based ServiceAccount tokens")


judge_legacy_tokens = drafted(_judge_legacy_tokens)
