"""The risky-permission catalogue (privileges.yaml), validated at load.

Validation is pydantic's: a class with an unknown gain, scope or recommendation, a
request without verbs, or a duplicate id stops the suite at import, never mid-audit.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Gain = Literal[
    "service-accounts",
    "pod-service-accounts",
    "token-secret-service-accounts",
    "identities",
    "any-identity-except-masters",
    "bound-roles",
    "any-rules",
]
Names = Literal["unbounded", "any", "none"] | tuple[str, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestTemplate(_Strict):
    """Requests the class is made of: any verb on any resource listed, in the scope."""

    verbs: tuple[str, ...] = Field(min_length=1)
    group: str
    resources: tuple[str, ...] = Field(min_length=1)
    scope: Literal["cluster", "namespace"]
    names: Names

    @field_validator("resources")
    @classmethod
    def _one_slash(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for resource in value:
            if resource.count("/") > 1 or resource.startswith("/"):
                raise ValueError(f"resource {resource!r}: write 'resource' or 'resource/sub'")
        return value

    def split(self, resource: str) -> tuple[str, str]:
        name, _, sub = resource.partition("/")
        return name, sub


class Alternative(_Strict):
    all_of: tuple[RequestTemplate, ...] = Field(min_length=1)

    @property
    def key(self) -> RequestTemplate:
        """The request whose names bound the class (and whose names a gain follows)."""
        return next((t for t in self.all_of if t.names == "unbounded"), self.all_of[0])

    @property
    def namespaced(self) -> bool:
        return any(t.scope == "namespace" for t in self.all_of)


class PrivilegeClass(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]+$")
    title: str
    severity: Literal["critical", "high", "medium", "low"]
    recommendation: Literal["1.2.1", "1.3.2", "1.5.3"]
    rationale: str
    references: tuple[str, ...] = Field(min_length=1)
    gains: Gain | None = None
    # Requests the holder must also be allowed for the gain (not the class) to follow.
    gain_requires: tuple[RequestTemplate, ...] = ()
    # The class is a shape of the rules themselves ("*" verbs or resources), whatever
    # resources they name: no list of requests could enumerate them.
    wildcard_rules: bool = False
    any_of: tuple[Alternative, ...] = Field(min_length=1)


class PrivilegeCatalogue(_Strict):
    version: Literal[1]
    classes: tuple[PrivilegeClass, ...]

    @model_validator(mode="after")
    def _unique(self) -> PrivilegeCatalogue:
        ids = [c.id for c in self.classes]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate privilege class id(s): {', '.join(duplicates)}")
        if "admin-equivalent" not in ids:
            raise ValueError("the catalogue must define admin-equivalent")
        return self

    def get(self, class_id: str) -> PrivilegeClass:
        return next(c for c in self.classes if c.id == class_id)


def parse(document: object) -> PrivilegeCatalogue:
    return PrivilegeCatalogue.model_validate(document)


@cache
def load() -> PrivilegeCatalogue:
    text = resources.files(__package__).joinpath("privileges.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse(yaml.load(text, Loader=loader))
