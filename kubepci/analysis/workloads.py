"""Who runs where: the ServiceAccounts a privilege path can reach, from the snapshot.

Running code as a pod, minting a token or reading a token Secret makes the holder act as
a ServiceAccount; which accounts those are is a fact of the cluster, recorded here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
        accounts_list = list(service_accounts)
        index = tokens.service_account_index(accounts_list)
        accounts = {
            (str(a["metadata"].get("namespace", "")), str(a["metadata"]["name"]))
            for a in accounts_list
        }
        held: list[PodAccount] = []
        for pod in pods:
            meta = pod.get("metadata") or {}
            spec = pod.get("spec") or {}
            namespace = str(meta.get("namespace", ""))
            account = str(spec.get("serviceAccountName") or "default")
            accounts.add((namespace, account))
            if tokens.is_mirror_pod(pod):
                continue  # static pods get no ServiceAccount token
            if tokens.effective_automount(pod, index).mounted:
                held.append(
                    PodAccount(
                        namespace,
                        str(meta.get("name", "")),
                        str(spec.get("nodeName") or ""),
                        account,
                    )
                )
        secret_accounts = set()
        for secret in tokens.legacy_token_secrets(list(secrets)):
            meta = secret.get("metadata") or {}
            account = (meta.get("annotations") or {}).get(tokens.LEGACY_TOKEN_ANNOTATION, "")
            if account:
                secret_accounts.add(
                    (str(meta.get("namespace", "")), str(meta.get("name", "")), str(account))
                )
        return cls(frozenset(accounts), tuple(held), frozenset(secret_accounts))

    def service_accounts_in(self, scope: str) -> list[tuple[str, str]]:
        return sorted(a for a in self.accounts if not scope or a[0] == scope)

    def pod_service_accounts(
        self, scope: str, pods: Iterable[str] = (), nodes: Iterable[str] = ()
    ) -> list[tuple[str, str]]:
        """Accounts of token-holding pods in the scope (or of the named pods or nodes)."""
        named, on = set(pods), set(nodes)
        return sorted(
            {
                (p.namespace, p.service_account)
                for p in self.pods
                if (not scope or p.namespace == scope)
                and (not (named or on) or p.pod in named or p.node in on)
            }
        )

    def token_secret_accounts(
        self, scope: str, secrets: Iterable[str] = ()
    ) -> list[tuple[str, str]]:
        named = set(secrets)
        return sorted(
            {
                (ns, account)
                for ns, secret, account in self.token_secrets
                if (not scope or ns == scope) and (not named or secret in named)
            }
        )
