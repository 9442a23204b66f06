"""How long the API server makes a pod's projected ServiceAccount token live.

A projected ``serviceAccountToken`` source asks for ``expirationSeconds`` (the API
defaults an unset one to 3600, pkg/apis/core/v1/defaults.go); the kubelet requests it,
bound to the pod, with the source's audience or none (pkg/volume/projected/projected.go).
The server then decides the lifetime (pkg/registry/core/serviceaccount/storage/token.go,
``TokenREST.Create``):

1. a request longer than ``--service-account-max-token-expiration`` (0, the default: no
   maximum) is shortened to it;
2. then, with ``--service-account-extend-token-expiration`` (default true), a pod-bound
   request of exactly 3607 s (``WarnOnlyBoundTokenExpirationSeconds``, what the admission
   plugin asks for) whose audiences are all the API server's (``--api-audiences``, else
   the ``--service-account-issuer`` values; an unset audience means those) gets a token
   valid for one year (``ExpirationExtensionSeconds``, pkg/serviceaccount/claims.go).

The cap applies first, so under a cap below 3607 s nothing is extended. With an external
signer (``--service-account-signing-endpoint``) the signer's own maximum caps both too
(pkg/controlplane/apiserver/options/options.go); it is not visible, so it is not assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kubepci.analysis.flags import (
    ComponentFlags,
    parse_duration,
    token_expiration_cap,
)
from kubepci.analysis.judgement import Draft, Gathered, Judgement, drafted, pod_finding
from kubepci.verdict import EvidenceUnavailable, Finding, NotApplicable

Obj = dict[str, Any]

WARN_ONLY_SECONDS = 3607  # pkg/serviceaccount/claims.go WarnOnlyBoundTokenExpirationSeconds
EXTENDED_SECONDS = 24 * 365 * 60 * 60  # pkg/serviceaccount/claims.go ExpirationExtensionSeconds
DEFAULT_REQUEST_SECONDS = 3600  # SetDefaults_ServiceAccountTokenProjection
MAX_FLAG = "service-account-max-token-expiration"
EXTEND_FLAG = "service-account-extend-token-expiration"


@dataclass(frozen=True)
class ProjectedToken:
    """One projected serviceAccountToken source, as the pod spec asks for it."""

    volume: str
    requested: int
    audience: str = ""


@dataclass(frozen=True)
class TokenIssuance:
    """How one kube-apiserver issues pod-bound tokens."""

    source: str  # which server, or why Kubernetes' defaults are assumed
    max_seconds: int  # 0: no maximum
    extend: bool
    api_audiences: frozenset[str] | None  # None: unknown, every audience counts as the API's
    settings: tuple[str, ...] = ()  # the flags as read, for the evidence

    @classmethod
    def kubernetes_defaults(cls, why: str) -> TokenIssuance:
        """No maximum and the one-year extension on: the server's own defaults, and the
        longest lifetimes any configuration gives."""
        return cls(
            f"Kubernetes defaults assumed ({why})",
            0,
            True,
            None,
            (f"--{MAX_FLAG} default 0 (no maximum)", f"--{EXTEND_FLAG} default true"),
        )

    @classmethod
    def from_flags(cls, flags: ComponentFlags) -> TokenIssuance:
        """From one kube-apiserver's flags, every occurrence of the repeatable ones read."""
        settings = [flags.source(MAX_FLAG), flags.source(EXTEND_FLAG)]
        raw = flags.get(MAX_FLAG)
        seconds = parse_duration(raw) if raw else 0.0
        if seconds is None:
            # The server would not start with it; judge as if there were no maximum.
            settings.append(f"--{MAX_FLAG}={raw} cannot be read as a duration: no maximum assumed")
            seconds = 0.0
        elif seconds and not 3600 <= seconds <= 1 << 32:
            # options.go refuses a maximum outside [1h, 2^32 s]: these flags are not the
            # running server's, and a cap it never applied must not shorten anything.
            settings.append(f"--{MAX_FLAG}={raw} is outside 1h..2^32s: no maximum assumed")
            seconds = 0.0
        # --api-audiences (a StringSlice: comma-separated, repeatable), else every
        # --service-account-issuer (a StringArray, each value whole):
        # pkg/kubeapiserver/options/authentication.go ApplyTo.
        audiences = flags.values("api-audiences") or flags.values("service-account-issuer")
        if audiences:
            settings.append(f"API audiences {', '.join(audiences)}")
        if flags.get("service-account-signing-endpoint"):
            settings.append(
                "--service-account-signing-endpoint is set: the external signer's own "
                "maximum also caps tokens, and is not visible"
            )
        return cls(
            f"kube-apiserver {flags.pod}",
            int(seconds),
            flags.is_true(EXTEND_FLAG),
            frozenset(audiences) if audiences else None,
            tuple(settings),
        )

    def to_json(self) -> Obj:
        return {
            "server": self.source,
            "max_seconds": self.max_seconds,
            "extend": self.extend,
            "settings": list(self.settings),
        }


@dataclass(frozen=True)
class Lifetime:
    requested: int
    effective: int
    why: str  # what changed the requested lifetime; "" when the server grants it as asked
    server: str

    def text(self) -> str:
        if not self.why:
            return f"asks for {self.requested}s and gets it ({self.server})"
        return f"asks for {self.requested}s; {self.why} ({self.server})"


def projected_tokens(pod: Obj) -> list[ProjectedToken]:
    """Every projected serviceAccountToken source of the pod, the injected one included."""
    out: list[ProjectedToken] = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        for source in (volume.get("projected") or {}).get("sources") or []:
            token = source.get("serviceAccountToken")
            if token is not None:
                out.append(
                    ProjectedToken(
                        str(volume["name"]),  # required (ValidateVolumes)
                        int(token.get("expirationSeconds") or DEFAULT_REQUEST_SECONDS),
                        str(token.get("audience") or ""),
                    )
                )
    return out


def effective_lifetime(token: ProjectedToken, issuance: TokenIssuance) -> Lifetime:
    """TokenREST.Create's arithmetic for a pod-bound request (token.go)."""
    seconds, why = token.requested, ""
    if issuance.max_seconds > 0 and seconds > issuance.max_seconds:
        seconds = issuance.max_seconds
        why = f"--{MAX_FLAG} shortens it to {seconds}s"
    kube_audience = (
        not token.audience
        or issuance.api_audiences is None
        or token.audience in issuance.api_audiences
    )
    if issuance.extend and seconds == WARN_ONLY_SECONDS and kube_audience:
        return Lifetime(
            token.requested,
            EXTENDED_SECONDS,
            f"--{EXTEND_FLAG} makes a {WARN_ONLY_SECONDS}s request for the API server's "
            f"audience valid for one year ({EXTENDED_SECONDS}s)",
            issuance.source,
        )
    return Lifetime(token.requested, seconds, why, issuance.source)


def longest_lifetime(token: ProjectedToken, issuances: Sequence[TokenIssuance]) -> Lifetime:
    """The kubelet may reach any API server: the longest lifetime any of them gives."""
    if not issuances:
        raise ValueError("no token issuance to judge against")
    return max((effective_lifetime(token, i) for i in issuances), key=lambda life: life.effective)


# ----------------------------------------------------------------------- the checks
def _judge_token_lifetime_cap(
    draft: Draft, instances: Sequence[ComponentFlags], limit: int
) -> Judgement:
    """1.3.4: --service-account-max-token-expiration (0, its default, is no cap) is set
    within ``limit`` seconds, and --service-account-extend-token-expiration=false."""
    findings: list[Finding] = []
    for flags in instances:
        draft.record(
            f"kube-apiserver flags ({flags.pod})", flags.evidence([MAX_FLAG, EXTEND_FLAG]), "flags"
        )
        cap = token_expiration_cap(flags)
        if cap == 0:
            findings.append(
                pod_finding(
                    flags.pod,
                    f"no token lifetime cap ({flags.source(MAX_FLAG)}): tokens "
                    "may be requested for any lifetime",
                )
            )
        elif cap > limit:
            findings.append(
                pod_finding(
                    flags.pod, f"{flags.source(MAX_FLAG)}: {cap:g}s exceeds the {limit}s policy"
                )
            )
        if flags.is_true(EXTEND_FLAG):
            findings.append(
                pod_finding(
                    flags.pod,
                    "admission-injected tokens are extended to one year: "
                    + flags.source(EXTEND_FLAG),
                )
            )
    return draft.judge(findings, passed=f"token lifetimes capped within {limit}s")


judge_token_lifetime_cap = drafted(_judge_token_lifetime_cap)


def issuances(apiservers: Gathered[list[ComponentFlags]]) -> list[TokenIssuance]:
    """How each kube-apiserver issues pod tokens; Kubernetes' defaults (no maximum, the
    one-year extension on) where its flags cannot be read, with the reason."""
    try:
        return [TokenIssuance.from_flags(f) for f in apiservers.get()]
    except (NotApplicable, EvidenceUnavailable) as exc:
        return [TokenIssuance.kubernetes_defaults(str(exc))]


def _judge_projected_tokens(
    draft: Draft,
    apiservers: Gathered[list[ComponentFlags]],
    pods: Gathered[Sequence[Obj]],
    limit: int,
) -> Judgement:
    """1.3.4: every projected token a pod holds lives at most ``limit`` seconds, by the
    lifetime the API server gives it (the longest any server would)."""
    issued = issuances(apiservers)
    draft.record("How the API server issues pod tokens", [i.to_json() for i in issued])
    findings: list[Finding] = []
    changed: list[str] = []
    for pod in pods.get():
        meta = pod["metadata"]
        too_long = []
        for token in projected_tokens(pod):
            life = longest_lifetime(token, issued)
            text = f"projected token volume {token.volume} {life.text()}"
            if life.effective != life.requested:
                changed.append(f"Pod {meta['namespace']}/{meta['name']}: {text}")
            if life.effective > limit:
                too_long.append(f"{text}, over the {limit}s policy")
        if too_long:
            findings.append(Finding("Pod", meta["namespace"], meta["name"], "; ".join(too_long)))
    draft.record("Policy", f"longest acceptable token lifetime: {limit}s")
    draft.record("Tokens the server issues for another lifetime than asked", changed)
    return draft.judge(findings, passed=f"every projected token lives at most {limit}s")


judge_projected_tokens = drafted(_judge_projected_tokens)
