"""An AuthenticationConfiguration kube-apiserver would refuse (PCI 1.1.1), named exactly.

Found by ``make mutation`` (tests/mutation/): the refusals were asserted by a fragment at
most, and some not at all (a wrong group with a right version, ``conditions`` with
``enabled`` left out, ``anonymous`` as a list). Each case starts from the file recorded on
the compliant cluster (tests/data/control_plane/authentication-config-compliant.yaml)
and changes one thing; the reason is what the verdict tells the assessor.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubepci.analysis import anonymous

RECORDED = yaml.safe_load(
    (
        Path(__file__).parents[1]
        / "data"
        / "control_plane"
        / "authentication-config-compliant.yaml"
    ).read_text()
)
NOT_AUTHN = "not an apiserver.config.k8s.io AuthenticationConfiguration"


def changed(**fields: Any) -> dict[str, Any]:
    """The recorded file with top-level fields replaced (None removes one)."""
    doc = copy.deepcopy(RECORDED)
    for key, value in fields.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def test_the_recorded_file_is_accepted() -> None:
    assert anonymous._strict_problem(RECORDED) == ""


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (
            changed(apiVersion=None),
            f"{NOT_AUTHN} (apiVersion ?, kind AuthenticationConfiguration)",
        ),
        (
            changed(apiVersion="apps/v1"),
            f"{NOT_AUTHN} (apiVersion apps/v1, kind AuthenticationConfiguration)",
        ),
        (
            changed(apiVersion="apiserver.config.k8s.io/v2"),
            f"{NOT_AUTHN} (apiVersion apiserver.config.k8s.io/v2, "
            "kind AuthenticationConfiguration)",
        ),
        (
            changed(kind="AuthorizationConfiguration"),
            f"{NOT_AUTHN} (apiVersion apiserver.config.k8s.io/v1, kind AuthorizationConfiguration)",
        ),
        (
            changed(oidc={}, authorizers=[]),
            "unknown field(s) authorizers, oidc (strict decoding)",
        ),
        (
            changed(anonymous=["enabled"]),
            "anonymous must be a mapping of enabled and conditions (strict decoding)",
        ),
        (
            changed(anonymous={"enabled": True, "paths": ["/livez"]}),
            "anonymous must be a mapping of enabled and conditions (strict decoding)",
        ),
        (
            changed(anonymous={"enabled": "true"}),
            "anonymous.enabled 'true' is not a boolean",
        ),
        (
            changed(anonymous={"enabled": True, "conditions": [{"path": 1}]}),
            "anonymous.conditions must be a list of {path: string} (strict decoding)",
        ),
        (
            changed(anonymous={"conditions": [{"path": "/livez"}]}),
            "anonymous.conditions set while enabled is false (validation refuses it)",
        ),
        (
            changed(anonymous={"enabled": False, "conditions": [{"path": "/livez"}]}),
            "anonymous.conditions set while enabled is false (validation refuses it)",
        ),
    ],
    ids=[
        "no apiVersion",
        "other group",
        "other version",
        "other kind",
        "two unknown fields",
        "anonymous as a list",
        "anonymous with an unknown key",
        "enabled as text",
        "condition path not a string",
        "conditions without enabled",
        "conditions with enabled false",
    ],
)
def test_a_file_the_server_refuses_says_why(doc: dict[str, Any], problem: str) -> None:
    assert anonymous._strict_problem(doc) == problem


@pytest.mark.parametrize(
    "section",
    [None, {}, {"enabled": False}, {"enabled": True}, {"enabled": True, "conditions": []}],
)
def test_anonymous_sections_the_server_accepts(section: dict[str, Any] | None) -> None:
    doc = changed(anonymous=section) if section is not None else changed(anonymous=None)
    assert anonymous._strict_problem(doc) == ""
