"""NIST's OSCAL JSON Schemas (tests/data/oscal/) as a validator independent of trestle.

OSCAL's schemas are draft-07 with ECMA-262 patterns that use Unicode property classes
(``\\p{L}``, ``\\p{N}``); Python's ``re`` rejects them, so the ``pattern`` keyword and the
``regex`` format are evaluated with the ``regex`` package, which implements them. Format
checking is on (date-time, uri, uri-reference, email: jsonschema[format-nongpl]).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import regex  # type: ignore[import-untyped]
from jsonschema import Draft7Validator, FormatChecker, validators  # type: ignore[import-untyped]

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "oscal"
ASSESSMENT_RESULTS = "oscal_assessment-results_schema.json"
CATALOG = "oscal_catalog_schema.json"


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checkers.update(Draft7Validator.FORMAT_CHECKER.checkers)

    @checker.checks("regex", raises=regex.error)
    def is_regex(instance: object) -> bool:
        return not isinstance(instance, str) or bool(regex.compile(instance))

    del is_regex
    return checker


_Validator = validators.extend(Draft7Validator, {"pattern": _pattern})


@cache
def validator(name: str) -> Any:
    """A validator for the schema file ``name``, the schema itself checked first."""
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    checker = _format_checker()
    _Validator(Draft7Validator.META_SCHEMA, format_checker=checker).validate(schema)
    return _Validator(schema, format_checker=checker)


def errors(document: Any, name: str = ASSESSMENT_RESULTS) -> list[str]:
    """Every way ``document`` breaks the schema, as ``path: message`` (empty when valid)."""
    found = validator(name).iter_errors(document)
    return sorted(f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in found)
