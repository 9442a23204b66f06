"""The lifetime the API server gives a pod's projected token (kubepci.analysis.token_lifetime).

The recordings in tests/data/tokens/ hold, for each profile, the kube-apiserver's mirror
pod and the server's own answers: TokenRequests bound to a fixture pod, asked as the
kubelet asks, of which only exp - iat was kept. The model must agree with every answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubepci.access import trim
from kubepci.analysis import token_lifetime as tl
from kubepci.analysis.flags import control_plane_flags
from tests.builders import pod, static_pod, token_volume

DATA = Path(__file__).resolve().parents[1] / "data" / "tokens"
RECORDINGS = sorted(DATA.glob("*.json"))
ISSUER = "https://kubernetes.default.svc.cluster.local"
YEAR = tl.EXTENDED_SECONDS


def issuance_of(document: dict) -> list[tl.TokenIssuance]:
    pods = [trim.pod(p) for p in document["apiserver_pods"]]
    return [tl.TokenIssuance.from_flags(f) for f in control_plane_flags(pods)["kube-apiserver"]]


def answers(recording: Path) -> list[tuple[str, dict]]:
    document = json.loads(recording.read_text())
    rows = document["issued"] + document["probes"]
    return [(recording.stem, row) for row in rows]


RECORDED_ANSWERS = [a for r in RECORDINGS for a in answers(r)]


@pytest.mark.parametrize(
    ("profile", "answer"),
    RECORDED_ANSWERS,
    ids=[f"{p}:{a['requested']}s:{a['audience'] or 'api'}" for p, a in RECORDED_ANSWERS],
)
def test_model_agrees_with_the_api_server(profile: str, answer: dict) -> None:
    document = json.loads((DATA / f"{profile}.json").read_text())
    token = tl.ProjectedToken("v", answer["requested"], answer["audience"])
    life = tl.longest_lifetime(token, issuance_of(document))
    assert life.effective == answer["issued_seconds"], life.text()


def test_compliant_server_caps_at_an_hour_without_extension() -> None:
    (issuance,) = issuance_of(json.loads((DATA / "compliant.json").read_text()))
    assert (issuance.max_seconds, issuance.extend) == (3600, False)
    assert issuance.api_audiences == frozenset({ISSUER})
    assert issuance.source == "kube-apiserver kube-system/kube-apiserver-vm"


def server(
    max_seconds: int = 0, extend: bool = True, audiences: frozenset[str] | None = None
) -> tl.TokenIssuance:
    return tl.TokenIssuance("kube-apiserver x", max_seconds, extend, audiences)


@pytest.mark.parametrize(
    ("issuance", "requested", "audience", "effective"),
    [
        # No maximum, extension on (the defaults): the plugin's 3607 s lives a year.
        (server(), 3607, "", YEAR),
        (server(), 3600, "", 3600),
        (server(), 172800, "", 172800),
        (server(audiences=frozenset({ISSUER})), 3607, ISSUER, YEAR),
        (server(audiences=frozenset({ISSUER})), 3607, "vault", 3607),
        # Audiences unknown: every audience is taken as the API server's.
        (server(), 3607, "vault", YEAR),
        # The cap applies first: under a 1 h cap the 3607 s request becomes 3600 s, and
        # nothing is extended.
        (server(3600), 3607, "", 3600),
        (server(3600), 172800, "", 3600),
        (server(3600), 600, "", 600),
        # Above the cap the extension ignores it.
        (server(7200), 3607, "", YEAR),
        (server(7200), 7201, "", 7200),
        (server(extend=False), 3607, "", 3607),
    ],
)
def test_effective_lifetime(
    issuance: tl.TokenIssuance, requested: int, audience: str, effective: int
) -> None:
    life = tl.effective_lifetime(tl.ProjectedToken("v", requested, audience), issuance)
    assert (life.requested, life.effective) == (requested, effective)


def test_lifetime_texts() -> None:
    token = tl.ProjectedToken("v", 172800)
    assert tl.effective_lifetime(token, server(3600)).text() == (
        "asks for 172800s; --service-account-max-token-expiration shortens it to 3600s "
        "(kube-apiserver x)"
    )
    assert tl.effective_lifetime(token, server()).text() == (
        "asks for 172800s and gets it (kube-apiserver x)"
    )
    assert tl.effective_lifetime(tl.ProjectedToken("v", 3607), server()).text() == (
        "asks for 3607s; --service-account-extend-token-expiration makes a 3607s request for "
        "the API server's audience valid for one year (31536000s) (kube-apiserver x)"
    )


def test_longest_over_every_api_server() -> None:
    token = tl.ProjectedToken("v", 172800)
    life = tl.longest_lifetime(token, [server(3600), tl.TokenIssuance("other", 0, False, None)])
    assert (life.effective, life.server) == (172800, "other")
    with pytest.raises(ValueError):
        tl.longest_lifetime(token, [])


def flags_of(*flags: str) -> tl.TokenIssuance:
    pods = [static_pod("kube-apiserver", flags=flags)]
    (found,) = control_plane_flags(pods)["kube-apiserver"]
    return tl.TokenIssuance.from_flags(found)


class TestFromFlags:
    def test_defaults_when_flags_are_absent(self) -> None:
        issuance = flags_of(f"--service-account-issuer={ISSUER}")
        assert (issuance.max_seconds, issuance.extend) == (0, True)
        assert issuance.settings[:2] == (
            "--service-account-max-token-expiration not set; Kubernetes default 0s applies",
            "--service-account-extend-token-expiration not set; Kubernetes default true applies",
        )

    @pytest.mark.parametrize(("raw", "seconds"), [("1h", 3600), ("24h0m0s", 86400), ("0", 0)])
    def test_max_expiration(self, raw: str, seconds: int) -> None:
        assert flags_of(f"--service-account-max-token-expiration={raw}").max_seconds == seconds

    def test_unreadable_max_is_judged_as_no_maximum(self) -> None:
        issuance = flags_of("--service-account-max-token-expiration=forever")
        assert issuance.max_seconds == 0
        assert "cannot be read as a duration" in issuance.settings[2]

    @pytest.mark.parametrize("raw", ["30m", "2000000h"])
    def test_a_maximum_the_server_refuses_is_no_maximum(self, raw: str) -> None:
        issuance = flags_of(f"--service-account-max-token-expiration={raw}")
        assert issuance.max_seconds == 0
        assert "outside 1h..2^32s" in issuance.settings[2]

    def test_extension_off_in_the_separate_value_form(self) -> None:
        # pflag: a boolean takes no separate value, so "false" is left as a positional
        # argument (kube-apiserver then refuses to start) and the flag reads true
        # (tests/data/control_plane/parse_oracle.json, "--anonymous-auth false").
        issuance = flags_of("--service-account-extend-token-expiration", "false")
        assert issuance.extend
        issuance = flags_of("--service-account-extend-token-expiration=false")
        assert not issuance.extend

    def test_every_issuer_is_an_audience(self) -> None:
        issuance = flags_of("--service-account-issuer=https://a", "--service-account-issuer", "b")
        assert issuance.api_audiences == frozenset({"https://a", "b"})

    def test_api_audiences_win_over_issuers(self) -> None:
        issuance = flags_of(
            "--service-account-issuer=https://a", "--api-audiences=x,y", "--api-audiences=z"
        )
        assert issuance.api_audiences == frozenset({"x", "y", "z"})

    def test_without_argv_the_last_values_are_used(self) -> None:
        pods = [static_pod("kube-apiserver", flags=["--service-account-issuer=https://a"])]
        (found,) = control_plane_flags(pods)["kube-apiserver"]
        assert tl.TokenIssuance.from_flags(found).api_audiences == frozenset({"https://a"})

    def test_external_signer_is_noted(self) -> None:
        issuance = flags_of("--service-account-signing-endpoint=/run/signer.sock")
        assert "external signer" in issuance.settings[-1]

    def test_no_audience_known(self) -> None:
        assert flags_of().api_audiences is None


def test_issuances_read_each_servers_whole_command_line() -> None:
    """issuances() reads every value of a repeated flag from the server's own pod."""
    from kubepci.analysis.judgement import Gathered

    flags = ["--service-account-issuer=https://a", "--service-account-issuer=b"]
    pods = [static_pod("kube-apiserver", flags=flags)]
    apiservers = control_plane_flags(pods)["kube-apiserver"]
    (issuance,) = tl.issuances(Gathered(apiservers))
    assert issuance.api_audiences == frozenset({"https://a", "b"})


def test_kubernetes_defaults_are_the_longest_lifetimes() -> None:
    issuance = tl.TokenIssuance.kubernetes_defaults("EKS runs kube-apiserver")
    assert (issuance.max_seconds, issuance.extend, issuance.api_audiences) == (0, True, None)
    assert issuance.source == "Kubernetes defaults assumed (EKS runs kube-apiserver)"
    assert issuance.to_json()["settings"] == [
        "--service-account-max-token-expiration default 0 (no maximum)",
        "--service-account-extend-token-expiration default true",
    ]


def test_projected_tokens_of_a_pod() -> None:
    subject = pod("p", volumes=[token_volume("short", 600), token_volume("unset")])
    subject["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["audience"] = (
        "vault"
    )
    assert tl.projected_tokens(subject) == [
        tl.ProjectedToken("short", 600, "vault"),
        tl.ProjectedToken("unset", 3600, ""),
    ]
    assert tl.projected_tokens(pod("none")) == []


# ------------------------------------------------------------- edges and wording
def test_a_request_at_the_cap_is_granted_as_asked() -> None:
    life = tl.effective_lifetime(tl.ProjectedToken("v", 3600), server(3600, extend=False))
    assert (life.effective, life.why) == (3600, "")
    assert life.text() == "asks for 3600s and gets it (kube-apiserver x)"


def test_any_positive_cap_shortens_a_longer_request() -> None:
    # TokenREST.Create applies whatever maximum it holds; from_flags only ever gives 0 or
    # a value in [1h, 2^32 s], but the arithmetic does not depend on that.
    life = tl.effective_lifetime(tl.ProjectedToken("v", 600), server(1, extend=False))
    assert life.effective == 1


def test_no_issuance_is_a_programming_error() -> None:
    with pytest.raises(ValueError) as raised:
        tl.longest_lifetime(tl.ProjectedToken("v", 600), [])
    assert str(raised.value) == "no token issuance to judge against"


class TestFromFlagsEdges:
    def test_an_empty_maximum_is_no_maximum_without_a_note(self) -> None:
        issuance = flags_of("--service-account-max-token-expiration=")
        assert issuance.max_seconds == 0
        assert len(issuance.settings) == 2

    def test_the_largest_maximum_the_server_takes(self) -> None:
        issuance = flags_of("--service-account-max-token-expiration=4294967296s")
        assert issuance.max_seconds == 1 << 32
        assert len(issuance.settings) == 2
        assert flags_of("--service-account-max-token-expiration=4294967297s").max_seconds == 0

    def test_empty_audiences_are_kept_as_kube_apiserver_keeps_them(self) -> None:
        # "--api-audiences=," is two empty audiences, so the issuers are not used.
        issuance = flags_of("--service-account-issuer=https://a", "--api-audiences=,")
        assert issuance.api_audiences == frozenset({""})
        assert flags_of("--service-account-issuer=https://a", "--api-audiences=").api_audiences == (
            frozenset({"https://a"})
        )

    def test_quoted_audiences_are_one_csv_record(self) -> None:
        issuance = flags_of('--api-audiences="a,b",c')
        assert issuance.api_audiences == frozenset({"a,b", "c"})

    def test_an_issuer_with_a_comma_is_one_audience(self) -> None:
        # --service-account-issuer is a StringArray: each value whole, never split.
        issuance = flags_of("--service-account-issuer=https://a,b")
        assert issuance.api_audiences == frozenset({"https://a,b"})
        assert issuance.settings[2] == "API audiences https://a,b"

    def test_audience_values_keep_an_equals_sign(self) -> None:
        issuance = flags_of("--api-audiences=a=b,c", "--api-audiences", "d=e")
        assert issuance.api_audiences == frozenset({"a=b", "c", "d=e"})
        assert issuance.settings[2] == "API audiences a=b, c, d=e"

    def test_without_argv_the_explicit_values_are_read(self) -> None:
        pods = [
            static_pod(
                "kube-apiserver",
                flags=["--service-account-issuer=https://a", "--api-audiences=x,y"],
            )
        ]
        (found,) = control_plane_flags(pods)["kube-apiserver"]
        issuance = tl.TokenIssuance.from_flags(found)
        assert issuance.api_audiences == frozenset({"x", "y"})
        assert issuance.settings[2] == "API audiences x, y"
        (bare,) = control_plane_flags([static_pod("kube-apiserver")])["kube-apiserver"]
        assert tl.TokenIssuance.from_flags(bare).api_audiences is None

    def test_external_signer_note_word_for_word(self) -> None:
        issuance = flags_of("--service-account-signing-endpoint=/run/signer.sock")
        assert issuance.settings[-1] == (
            "--service-account-signing-endpoint is set: the external signer's own maximum "
            "also caps tokens, and is not visible"
        )
