"""Rules of kubepci.analysis.cmdline that ``make mutation`` (tests/mutation/) found no test
pinning down, each asserted as Kubernetes, pflag or Go does it.

pflag's one-dash shorthands as the control-plane components parse them
(github.com/spf13/pflag flag.go parseShortArg / parseSingleShortArg): grouped booleans
(``-hv``), ``-v=`` and a table without ``-h`` (pflag then answers help itself). Then, below,
pflag's long flags, Go's flag package, the kubelet's ``$(VAR)`` expansion and notes,
strconv.ParseBool and time.ParseDuration (see the section comment there).
"""

from __future__ import annotations

import pytest

from kubepci.analysis import cmdline
from kubepci.analysis.cmdline import Occurrence
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


# --------------------------------------------------------------------------------------
# Found by ``make mutation`` (mut8): the rest of cmdline's rules that no test pinned down.
#
# - pflag's long flags (pflag flag.go parseLongArg): the syntax check, the built-in
#   ``--help`` of a table without one, and an unknown flag of another version taking the
#   next token;
# - Go's flag package (src/flag/flag.go parseOne): "equals cannot be first", so a
#   one-letter name with a value;
# - the kubelet's expansion (third_party/forked/golang/expansion/expand.go) of ``$()``
#   and ``$x``, of args as well as command, and the wording of its notes;
# - strconv.ParseBool (src/internal/strconv/atob.go) spelling by spelling;
# - time.ParseDuration (src/time/format.go) around the unit scan, the int64 range and
#   leadingFraction's 19th digit.
# --------------------------------------------------------------------------------------

U = cmdline.UNRESOLVED
# A table without pflag's own --help flag (kube-apiserver's table has one): then pflag
# answers "--help" itself (parseLongArg: `case name == "help"`).
NO_HELP: tuple[dict[str, str], dict[str, str]] = ({"v": "scalar", "on": "bool"}, {})


# ----------------------------------------------------------------------- pflag long


@pytest.mark.parametrize("token", ["---v", "--=v", "---", "--=", "--=2"])
def test_a_long_flag_starting_with_a_dash_or_equals_is_bad_syntax(token: str) -> None:
    # parseLongArg: `len(name) == 0 || name[0] == '-' || name[0] == '='`.
    parsed = cmdline.parse_pflag([token], *APISERVER)
    assert parsed.refused == [f"bad flag syntax: {token}"]
    assert parsed.occurrences == []


def test_a_one_letter_long_flag_is_a_flag_not_bad_syntax() -> None:
    # Only the first character of the name is checked: "--v=2" is the v flag, long form.
    assert occurrences("--v=2") == [("v", "2", "--v=2")]
    assert occurrences("--v", "3") == [("v", "3", "--v 3")]


@pytest.mark.parametrize("name", ["Xfoo", "X", "a", "9", "_x"])
def test_any_other_first_character_starts_a_flag_name(name: str) -> None:
    # An unknown name is refused as unknown (not as bad syntax) ...
    parsed = cmdline.parse_pflag([f"--{name}"], *APISERVER)
    assert parsed.refused == [f"unknown flag: --{name.replace('_', '-')}"]
    # ... and read as set when the table is another version's.
    parsed = cmdline.parse_pflag([f"--{name}=1"], *APISERVER, known_version=False)
    assert parsed.refused == []
    assert parsed.occurrences == [Occurrence(name.replace("_", "-"), "1", f"--{name}=1")]


@pytest.mark.parametrize("known", [True, False])
@pytest.mark.parametrize("token", ["--help", "--help=false"])
def test_help_is_answered_by_pflag_when_the_table_has_no_help_flag(token: str, known: bool) -> None:
    # The command prints its usage and exits (ErrHelp), whatever the version, and even
    # with a value: only the name before "=" is looked at.
    parsed = cmdline.parse_pflag([token, "--v=2"], *NO_HELP, known_version=known)
    assert parsed.refused == [f"{token}: prints its help and exits"]
    assert parsed.occurrences == []


@pytest.mark.parametrize("name", ["Help", "HELP", "helper"])
def test_only_help_spelled_exactly_is_pflags_help(name: str) -> None:
    parsed = cmdline.parse_pflag([f"--{name}"], *NO_HELP)
    assert parsed.refused == [f"unknown flag: --{name}"]


def test_an_unknown_flag_of_another_version_takes_the_very_next_token() -> None:
    parsed = cmdline.parse_pflag(["--future", "a", "b", "--v=2"], *NO_HELP, known_version=False)
    assert parsed.occurrences == [
        Occurrence("future", "a", "--future a"),
        Occurrence("v", "2", "--v=2"),
    ]
    assert parsed.assumed == [
        "--future is not a flag of the known version; read as taking the next token 'a'"
    ]
    assert parsed.positional == ["b"]
    # The last token of the command line is taken just the same.
    parsed = cmdline.parse_pflag(["--future", "a"], *NO_HELP, known_version=False)
    assert parsed.occurrences == [Occurrence("future", "a", "--future a")]
    assert parsed.refused == []


def test_every_positional_argument_is_named_in_the_refusal() -> None:
    # pflag leaves "false" after a boolean as an argument; the command refuses arguments.
    parsed = cmdline.parse_pflag(["--on", "false", "extra"], *NO_HELP)
    assert parsed.refused == [
        "positional argument(s) 'false', 'extra': the command takes none and refuses to start"
    ]


# ----------------------------------------------------------------------- Go flag


@pytest.mark.parametrize("dashes", ["-", "--"])
def test_a_go_flag_of_one_letter_takes_its_value_after_equals(dashes: str) -> None:
    # parseOne: the "=" is searched from the name's second character, so "-x=1" is x=1.
    parsed = cmdline.parse_goflag([f"{dashes}x=1", f"{dashes}y=="], {"x": "scalar", "y": "scalar"})
    assert parsed.refused == []
    assert parsed.occurrences == [
        Occurrence("x", "1", f"{dashes}x=1"),
        Occurrence("y", "=", f"{dashes}y=="),
    ]


@pytest.mark.parametrize("name", ["Xfoo", "X", "9"])
def test_a_go_flag_name_may_start_with_any_other_character(name: str) -> None:
    parsed = cmdline.parse_goflag([f"-{name}"], {"x": "scalar"})
    assert parsed.refused == [f"flag provided but not defined: -{name}"]
    parsed = cmdline.parse_goflag([f"-{name}=1"], {"x": "scalar"}, known_version=False)
    assert parsed.occurrences == [Occurrence(name, "1", f"-{name}=1")]


# ----------------------------------------------------------------------- the kubelet


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        # tryReadVariableName: the name ends at the first ")" after "(", even right away.
        ("$()x)", "$()x)"),
        ("$())", "$())"),
        # "$" before anything else is written with that character, and the rest follows.
        ("$ab", "$ab"),
        ("-$ab$cd-", "-$ab$cd-"),
        ("$a$(A)", "$a1"),
    ],
)
def test_expansion_keeps_what_is_not_a_reference(text: str, expanded: str) -> None:
    assert cmdline.expand(text, {"A": "1"}) == expanded


def test_args_are_expanded_from_the_environment_like_the_command() -> None:
    container = {
        "command": ["kube-apiserver"],
        "args": ["--secure-port=$(PORT)", "--v=$(V)"],
        "env": [{"name": "PORT", "value": "6443"}, {"name": "V", "value": "2"}],
    }
    assert cmdline.kubelet_argv(container) == (
        ["kube-apiserver", "--secure-port=6443", "--v=2"],
        [],
    )


def test_without_a_command_the_entrypoint_is_noted_as_unseen() -> None:
    assert cmdline.kubelet_argv({"args": ["--v=2"]}) == (
        None,
        ["no command: the image's entrypoint runs, which the API does not show"],
    )


def test_unresolved_references_are_noted_with_where_they_come_from() -> None:
    container = {
        "command": ["etcd", "--name=$(HOST):$(POD_IP)"],
        "args": ["--data-dir=$(DIR)"],
        "env": [{"name": "DIR", "valueFrom": {"fieldRef": {}}}],
        "envFrom": [{"configMapRef": {}}],
    }
    argv, notes = cmdline.kubelet_argv(container)
    assert argv == ["etcd", f"--name={U}HOST{U}:{U}POD_IP{U}", f"--data-dir={U}DIR{U}"]
    assert notes == [
        "$(DIR), $(HOST), $(POD_IP) not resolved: set from a Secret, ConfigMap, field "
        "reference or by the kubelet itself, which the suite does not read",
        "the container also takes variables from envFrom sources",
    ]


def test_every_unresolved_name_in_a_token_is_found() -> None:
    token = cmdline.expand("$(A)-$(B):$(C)$(D)", {})
    assert cmdline.unresolved_names(token) == ["A", "B", "C", "D"]


# ----------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # strconv.ParseBool's whole table (src/internal/strconv/atob.go) ...
        *((t, True) for t in ("1", "t", "T", "true", "TRUE", "True")),
        *((t, False) for t in ("0", "f", "F", "false", "FALSE", "False")),
        # ... and nothing else: no other casing, no yes/no, no spaces, no numbers.
        *(
            (t, None)
            for t in ("tRUE", "TrUe", "fALSE", "FaLsE", "yes", "no", "on", "off", "y", "n")
        ),
        *((t, None) for t in ("", " true", "true ", "2", "-1", "01", "tr", "fa")),
    ],
)
def test_go_bool_spellings(text: str, value: bool | None) -> None:
    assert cmdline.parse_go_bool(text) is value


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        # Values checked against Go's time.ParseDuration (src/time/format.go).
        ("+5s", 5_000_000_000),
        ("1s.5s", 1_500_000_000),  # "." starts the next number, never part of a unit
        ("1m9s", 69_000_000_000),  # so does every digit, 9 included
        ("1h0.5m9ms", 3_630_009_000_000),
        ("1.5", None),  # missing unit, after a fraction running to the end
        ("1.", None),
        (".5", None),
        ("X1s", None),  # a number must come first: a sign is the only prefix
        ("x1s", None),
        ("*1s", None),
        ("s", None),
        ("9223372036854775807ns", (1 << 63) - 1),
        ("2562047h47m16.854775807s", (1 << 63) - 1),
        ("9223372036854775808ns", None),
        ("-9223372036854775808ns", -(1 << 63)),
        ("-2562047h47m16.854775808s", -(1 << 63)),
        # Past 1<<63 in total is an error even when negative (d > 1<<63).
        ("-9223372036854775808ns1ns", None),
        ("-2562047h47m16.854775809s", None),
        ("-9223372036854775807ns9223372036854775807ns", None),
        # leadingFraction keeps a 19th digit while the digits so far are at most
        # (1<<63-1)/10 and drops it beyond; float64 rounding makes it show in the last ns.
        (".92841609037388891735h", 3_342_297_925_346),
        (".84833026474833325819h", 3_053_988_953_093),
    ],
)
def test_go_durations(text: str, ns: int | None) -> None:
    assert cmdline.go_duration_ns(text) == ns
