"""Who runs where: the ServiceAccounts a privilege path can reach, from the snapshot.

Running code as a pod, minting a token or reading a token Secret makes the holder act as
a ServiceAccount; which accounts those are is a fact of the cluster, recorded here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from kubepci.analysis import tokens

Obj = dict[str, Any]


@dataclass(frozen=True)
class PodAccount:
    namespace: str
    pod: str
    node: str
    service_account: str


@dataclass(frozen=True)
class Workloads:
    accounts: frozenset[tuple[str, str]]
    pods: tuple[PodAccount, ...]  # pods that hold their ServiceAccount's token
    token_secrets: frozenset[tuple[str, str, str]]  # (namespace, secret, account)

    @classmethod
    def from_objects(
        cls, service_accounts: Iterable[Obj], pods: Iterable[Obj], secrets: Iterable[Obj]
    ) -> Workloads:
        # Objects come through the snapshot's trimmers (kubepci/access/trim.py), which keep
        # metadata.name and, where set, metadata.namespace; the API server sets both on
        # every namespaced object it stores, so they are read directly: an object without
        # them is no evidence of a cluster, and the check errors on it.
        accounts_list = list(service_accounts)
        index = tokens.service_account_index(accounts_list)
        accounts = {
            (str(a["metadata"]["namespace"]), str(a["metadata"]["name"])) for a in accounts_list
        }
        held: list[PodAccount] = []
        for pod in pods:
            meta, spec = pod["metadata"], pod.get("spec") or {}
            namespace = str(meta["namespace"])
            # The ServiceAccount admission plugin sets "default" where a pod names none
            # (plugin/pkg/admission/serviceaccount/admission.go); the trimmer writes it so.
            account = str(spec["serviceAccountName"])
            accounts.add((namespace, account))
            if tokens.is_mirror_pod(pod):
                continue  # static pods get no ServiceAccount token
            if tokens.effective_automount(pod, index).mounted:
                held.append(
                    PodAccount(
                        namespace, str(meta["name"]), str(spec.get("nodeName") or ""), account
                    )
                )
        secret_accounts = set()
        for secret in tokens.legacy_token_secrets(list(secrets)):
            meta = secret["metadata"]
            # legacy_token_secrets keeps only Secrets that carry the annotation; an Opaque
            # copy may carry it empty (validation requires a value only of the token type:
            # pkg/apis/core/validation/validation.go ValidateSecret), and names no account.
            account = meta["annotations"][tokens.LEGACY_TOKEN_ANNOTATION]
            if account:
                secret_accounts.add((str(meta["namespace"]), str(meta["name"]), str(account)))
        return cls(frozenset(accounts), tuple(held), frozenset(secret_accounts))

    # Indexes by namespace, built on first use: a privilege path asks for one namespace's
    # accounts once per namespace, and a scan of every account each time is quadratic in
    # the size of the cluster (7,500 namespaces x 37,500 accounts at 150,000 pods).
    @cached_property
    def _accounts_by_namespace(self) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for account in sorted(self.accounts):
            found[account[0]].append(account)
        return dict(found)

    @cached_property
    def _pods_by_namespace(self) -> dict[str, list[PodAccount]]:
        found: dict[str, list[PodAccount]] = defaultdict(list)
        for pod in self.pods:
            found[pod.namespace].append(pod)
        return dict(found)

    @cached_property
    def _token_secrets_by_namespace(self) -> dict[str, list[tuple[str, str, str]]]:
        found: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for entry in self.token_secrets:
            found[entry[0]].append(entry)
        return dict(found)

    def service_accounts_in(self, scope: str) -> list[tuple[str, str]]:
        """The accounts of one namespace (every namespace when ``scope`` is ''), sorted."""
        if not scope:
            return sorted(self.accounts)
        return list(self._accounts_by_namespace.get(scope, ()))

    def pod_service_accounts(
        self, scope: str, pods: Iterable[str] = (), nodes: Iterable[str] = ()
    ) -> list[tuple[str, str]]:
        """Accounts of token-holding pods in the scope (or of the named pods or nodes)."""
        named, on = set(pods), set(nodes)
        candidates = self.pods if not scope else self._pods_by_namespace.get(scope, ())
        return sorted(
            {
                (p.namespace, p.service_account)
                for p in candidates
                if not (named or on) or p.pod in named or p.node in on
            }
        )

    def token_secret_accounts(
        self, scope: str, secrets: Iterable[str] = ()
    ) -> list[tuple[str, str]]:
        named = set(secrets)
        candidates = (
            self.token_secrets if not scope else self._token_secrets_by_namespace.get(scope, ())
        )
        return sorted(
            {(ns, account) for ns, secret, account in candidates if not named or secret in named}
        )
