"""Command-line edges the recorded oracle does not reach.

etcd's command line read for a version whose flags the tables do not hold: Go's flag
package (flag.FlagSet.parseOne) is the reference for a known version: the
oracle in tests/data/control_plane/ records its answers. For another version, a name the
tables do not know is read as set (its value the next argument when that is no flag),
and said so in the evidence, instead of refusing the whole command line.
"""

from __future__ import annotations

from kubepci.analysis.cmdline import Occurrence, parse_goflag

KINDS = {"name": "scalar", "client-cert-auth": "bool"}


def test_unknown_flags_are_read_as_set_and_noted() -> None:
    parsed = parse_goflag(
        ["--future", "on", "-later=2", "--switch", "--name", "a", "--last"],
        KINDS,
        known_version=False,
    )
    assert parsed.occurrences == [
        Occurrence("future", "on", "--future on"),
        Occurrence("later", "2", "-later=2"),
        Occurrence("switch", "true", "--switch"),
        Occurrence("name", "a", "--name a"),
        Occurrence("last", "true", "--last"),
    ]
    assert parsed.assumed == [
        f"-{n} is not a flag of the known version; read as set"
        for n in ("future", "later", "switch", "last")
    ]
    assert parsed.refused == [] and parsed.positional == []


def test_help_is_refused_whatever_the_version() -> None:
    for token in ("-h", "--help"):
        parsed = parse_goflag(["--name", "a", token, "--future"], KINDS, known_version=False)
        assert parsed.refused == [f"{token}: prints its help and exits"]
        assert parsed.occurrences == [Occurrence("name", "a", "--name a")]


def test_bad_syntax_and_an_equals_sign_first() -> None:
    for token in ("---name", "--=a", "-=a"):
        assert parse_goflag([token], KINDS).refused == [f"bad flag syntax: {token}"]
    # The name runs to the first "=" after its first character.
    (occurrence,) = parse_goflag(["--name=a=b"], KINDS).occurrences
    assert occurrence == Occurrence("name", "a=b", "--name=a=b")


def test_csv_records_around_letters_go_does_not_split_on() -> None:
    from kubepci.analysis.cmdline import csv_record

    # encoding/csv: only "," and line ends end a field; a quote must close before one.
    assert csv_record("aXb") == ["aXb"]
    assert csv_record('"a"X') is None
    assert csv_record("\r\nab") == ["ab"]  # an empty first line, CRLF-terminated, skipped
