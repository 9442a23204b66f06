"""pflag's one-dash shorthands as the control-plane components parse them
(github.com/spf13/pflag flag.go parseShortArg / parseSingleShortArg).

Found by ``make mutation`` (tests/mutation/): grouped booleans (``-hv``), ``-v=`` and a
table without ``-h`` (pflag then answers help itself) were never parsed by a test.
"""

from __future__ import annotations

from kubepci.analysis import cmdline
from kubepci.analysis.flag_specs import SHORTHANDS
from kubepci.analysis.flags import KINDS

APISERVER = (KINDS["kube-apiserver"], SHORTHANDS["kube-apiserver"])


def occurrences(*args: str) -> list[tuple[str, str, str]]:
    parsed = cmdline.parse_pflag(list(args), *APISERVER)
    assert not parsed.refused, parsed.refused
    return [(o.name, o.value, o.token) for o in parsed.occurrences]


def test_dash_h_asks_for_help() -> None:
    assert occurrences("-h") == [("help", "true", "-h")]


def test_grouped_shorthands_take_a_boolean_then_a_value() -> None:
    assert occurrences("-hv", "4") == [("help", "true", "-hv"), ("v", "4", "-hv 4")]
    assert occurrences("-hv4") == [("help", "true", "-hv4"), ("v", "4", "-hv4")]


def test_value_forms_of_a_shorthand() -> None:
    assert occurrences("-v=2") == [("v", "2", "-v=2")]
    assert occurrences("-v2") == [("v", "2", "-v2")]
    assert occurrences("-v", "2") == [("v", "2", "-v 2")]
    # "-v=" is two letters: "=" is the value, not the separator (len(shorthands) > 2).
    assert occurrences("-v=") == [("v", "=", "-v=")]


def test_a_shorthand_missing_its_value_is_refused() -> None:
    parsed = cmdline.parse_pflag(["-v"], *APISERVER)
    assert parsed.refused == ["flag needs an argument: -v in -v"]


def test_without_an_h_shorthand_pflag_answers_help_itself() -> None:
    kinds, shorthands = {"v": "scalar"}, {"v": "v"}
    assert cmdline.parse_pflag(["-h"], kinds, shorthands).refused == [
        "-h: prints its help and exits"
    ]
    assert cmdline.parse_pflag(["-vh"], kinds, shorthands).occurrences[0].value == "h"
    assert cmdline.parse_pflag(["-x"], kinds, shorthands).refused == [
        "unknown shorthand flag: 'x' in -x"
    ]
