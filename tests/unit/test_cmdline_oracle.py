"""The command-line reader against the components' own parsers, replayed.

tests/data/control_plane/parse_oracle.json holds what pflag (with each Kubernetes
component's real flag set, v1.35.4) and Go's flag package (with etcd's, v3.6.16) made of
247 command lines, and what time.ParseDuration and encoding/csv made of edge cases;
tests/data/control_plane/oracle/record.py re-records it. Each answer must be reproduced:
the flags set and their values, the leftover arguments, and whether parsing failed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from kubepci.analysis import cmdline
from kubepci.analysis.flag_specs import SHORTHANDS
from kubepci.analysis.flags import DEFAULTS, KINDS, ComponentFlags, _settings_from

DATA = Path(__file__).resolve().parents[1] / "data" / "control_plane" / "parse_oracle.json"


@cache
def oracle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text())
    return data


def _go_csv_field(field: str) -> str:
    # encoding/csv Writer.fieldNeedsQuotes, as pflag's writeAsCSV prints a slice.
    if field == "":
        return field
    if field == "\\." or any(c in field for c in ',"\r\n') or field[0].isspace():
        return '"' + field.replace('"', '""') + '"'
    return field


def go_string(flags: ComponentFlags, name: str) -> str:
    """The value as the flag's Value.String() prints it."""
    kind = KINDS[flags.component].get(name, "scalar")
    if flags.component == "etcd" and kind == "bool" and DEFAULTS["etcd"][name] == "":
        return ""  # flags.IgnoredFlag: etcd accepts and ignores it, and prints nothing
    if kind in ("csv-list", "list") and flags.component != "etcd":
        return "[" + ",".join(_go_csv_field(f) for f in flags.lists.get(name, [])) + "]"
    return flags.explicit[name]


def ours(case: dict[str, Any]) -> tuple[ComponentFlags, cmdline.ParsedArgs, list[str]]:
    component, args = case["component"], case["args"]
    kinds = KINDS[component]
    if component == "etcd":
        parsed = cmdline.parse_goflag(args, kinds)
        # Leftovers are etcd's own refusal, after the flag package has finished.
        errors = [r for r in parsed.refused if "is not a valid flag" not in r]
    else:
        parsed = cmdline.parse_pflag(args, kinds, SHORTHANDS[component])
        # Positional arguments are the cobra command's refusal, not pflag's.
        errors = [r for r in parsed.refused if not r.startswith("positional argument")]
    flags = ComponentFlags(component, "kube-system/x", "n", {})
    _settings_from(parsed.occurrences, kinds, flags)
    return flags, parsed, errors + flags.refused


def _value_checked_by_go_only(error: str) -> bool:
    # Set validates ints, IPs, durations and URLs; the reader keeps them as text and leaves
    # such values to the rules that read them. Booleans and CSV it checks itself.
    return (
        error.startswith(("invalid argument", "invalid value"))
        and "ParseBool" not in error
        and "quoted-field" not in error
    )


CASES = oracle()["parses"]


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[f"{i}-{c['component']}-{' '.join(c['args'])[:40]}" for i, c in enumerate(CASES)],
)
def test_command_line_as_the_component_parses_it(case: dict[str, Any]) -> None:
    go = case["go"]
    error = go.get("error", "")
    if _value_checked_by_go_only(error):
        pytest.skip(f"a value only Go validates: {error}")
    flags, parsed, errors = ours(case)
    assert bool(errors) == bool(error), (errors, error)
    if error:
        return
    assert set(flags.explicit) == set(go.get("set") or {})
    for name, value in (go.get("set") or {}).items():
        if case["component"] == "etcd" and name.endswith("-urls"):
            # UniqueURLs prints its URLs sorted.
            assert sorted(flags.explicit[name].split(",")) == sorted(value.split(","))
        else:
            assert go_string(flags, name) == value, name
    assert parsed.positional == (go.get("positional") or [])


def test_few_cases_are_left_to_go() -> None:
    skipped = [c for c in CASES if _value_checked_by_go_only(c["go"].get("error", ""))]
    assert 0 < len(skipped) < len(CASES) // 10
    kinds = ("strconv.ParseUint", "strconv.ParseInt", "failed to parse IP", "URL scheme")
    assert all(any(k in c["go"]["error"] for k in kinds) for c in skipped)


def text_id(case: dict[str, Any]) -> str:
    """The input, percent-encoded: pytest escapes a non-ASCII or backslash id in the node
    id it reports, and then cannot find the test by that id (mutmut runs tests by id)."""
    return quote(case["text"], safe="")


@pytest.mark.parametrize("case", oracle()["durations"], ids=text_id)
def test_duration_as_time_parse_duration(case: dict[str, Any]) -> None:
    assert cmdline.go_duration_ns(case["text"]) == case["go"].get("nanos")


@pytest.mark.parametrize("case", oracle()["csv"], ids=text_id)
def test_csv_record_as_encoding_csv(case: dict[str, Any]) -> None:
    expected = None if case["go"].get("error") else case["go"].get("fields", [])
    assert cmdline.csv_record(case["text"]) == expected
