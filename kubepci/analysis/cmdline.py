"""A container's command line as its process receives and parses it. Pure.

Three steps, each transcribed from the code that does it:

1. **The kubelet builds argv** (pkg/kubelet/container/helpers.go
   ExpandContainerCommandAndArgs; third_party/forked/golang/expansion/expand.go): the
   container's ``command`` then its ``args`` (args appended to command), with every
   ``$(VAR)`` replaced from the container's environment and ``$$`` as a literal ``$``. A
   reference the suite cannot resolve (a ``valueFrom``, an ``envFrom``, a variable the
   kubelet adds itself) is kept as an :data:`UNRESOLVED` marker, so no value is guessed.
   Without ``command`` the image's entrypoint runs, which the API does not show.
2. **pflag** (github.com/spf13/pflag v1.0.9 flag.go parseArgs, parseLongArg,
   parseSingleShortArg) for kube-apiserver, kube-controller-manager and kube-scheduler:
   ``--name=value``; ``--name value`` for a flag that takes a value, whatever the next
   token looks like; a boolean flag takes no separate value (``--anonymous-auth false``
   leaves ``false`` as a positional argument, which these commands refuse); one dash is a
   shorthand (``-v=2``, ``-v2``, ``-v 2``); ``--`` ends the flags; ``_`` in a name is
   ``-`` (component-base cli/run.go WordSepNormalizeFunc); an unknown flag stops the
   command.
3. **Go's flag package** (src/flag/flag.go parseOne) for etcd: one or two dashes alike,
   ``-name=value`` or ``-name value``, booleans only as ``-name`` or ``-name=false``, and
   parsing stops at the first non-flag, after which etcdmain/config.go refuses to start
   (``%q is not a valid flag``).

Repeated flags are applied in order, as ``Set`` is called per occurrence: see
:func:`kubepci.analysis.flags.settings_from` for how each kind keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

UNRESOLVED = "\x00"  # wraps the name of a $(VAR) the suite could not resolve


@dataclass(frozen=True)
class Occurrence:
    """One flag set on the command line, in order."""

    name: str  # normalized, without dashes
    value: str
    token: str  # as written (a following value token joined with a space)


@dataclass
class ParsedArgs:
    occurrences: list[Occurrence] = field(default_factory=list)
    positional: list[str] = field(default_factory=list)
    # Why the component would not run with this command line (it exits at once).
    refused: list[str] = field(default_factory=list)
    # Assumptions made for flags the tables do not know (another version's flags).
    assumed: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------- the kubelet


def unresolved_names(text: str) -> list[str]:
    """Names of the unresolved $(VAR) markers in an expanded string."""
    parts = text.split(UNRESOLVED)
    return parts[1::2]


def expand(text: str, mapping: Mapping[str, str | None]) -> str:
    """expansion.Expand: ``$(NAME)`` from ``mapping`` (None: known to exist, value unknown,
    so an :data:`UNRESOLVED` marker), ``$$`` → ``$``; anything else stays as written, and
    a name not in ``mapping`` at all is unresolved too (the kubelet may supply it)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$" or i + 1 >= len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":  # escaped operator
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close < 0:  # incomplete reference: kept as written
                out.append("$(")
                i += 2
                continue
            name = text[i + 2 : close]
            value = mapping.get(name)
            if value is None and not name:
                value = "$()"  # no variable has an empty name: kept as written
            out.append(value if value is not None else f"{UNRESOLVED}{name}{UNRESOLVED}")
            i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


def container_environment(container: Obj) -> dict[str, str | None]:
    """The container's env as the kubelet builds it (makeEnvironmentVariables): literal
    values, each expanded with the ones before it; None for a value the suite cannot see
    (``valueFrom``). ``envFrom`` sources are not visible: :func:`kubelet_argv` says so."""
    env: dict[str, str | None] = {}
    for entry in container.get("env") or []:
        name = str(entry.get("name", ""))
        if entry.get("valueFrom") is not None or "secretKeyRef" in entry:
            env[name] = None
        else:
            env[name] = expand(str(entry.get("value") or ""), env)
    return env


def kubelet_argv(container: Obj) -> tuple[list[str] | None, list[str]]:
    """The argv the container's process gets, and notes on what could not be resolved.

    None when the container has no ``command``: the image's entrypoint runs, and the
    API does not show what it is.
    """
    env = container_environment(container)
    notes: list[str] = []
    command = [expand(str(t), env) for t in container.get("command") or []]
    args = [expand(str(t), env) for t in container.get("args") or []]
    if not command:
        return None, ["no command: the image's entrypoint runs, which the API does not show"]
    missing = sorted({n for t in command + args for n in unresolved_names(t)})
    if missing:
        notes.append(
            "$(" + "), $(".join(missing) + ") not resolved: set from a Secret, ConfigMap, "
            "field reference or by the kubelet itself, which the suite does not read"
        )
        if container.get("envFrom"):
            notes.append("the container also takes variables from envFrom sources")
    return command + args, notes


# ----------------------------------------------------------------------- pflag


def parse_pflag(
    args: Sequence[str],
    kinds: Mapping[str, str],
    shorthands: Mapping[str, str],
    known_version: bool = True,
) -> ParsedArgs:
    """Parse ``args`` (argv without the binary) as pflag's FlagSet.Parse does.

    ``kinds`` maps each flag to its kind ("bool" takes no separate value). With
    ``known_version`` False (the tables are for another version), an unknown flag is not a
    refusal: ``--x=v`` is taken as written, ``--x v`` as taking the next token (these
    commands refuse positional arguments, so a running one's next token is a value), and
    a bare ``--x`` before another flag as a boolean; each such guess is recorded.
    """
    parsed = ParsedArgs()
    rest = list(args)
    while rest:
        token = rest.pop(0)
        if len(token) < 2 or not token.startswith("-"):
            parsed.positional.append(token)
            continue
        if token == "--":
            parsed.positional.extend(rest)
            break
        if token.startswith("--"):
            _pflag_long(token, rest, kinds, known_version, parsed)
        else:
            _pflag_short(token, rest, kinds, shorthands, parsed)
        if parsed.refused:
            return parsed
    # The commands refuse any non-empty argument (their cobra Args check). One that is an
    # unresolved $(VAR) may expand to flags: that is for the caller to weigh, not a refusal.
    real = [p for p in parsed.positional if p and UNRESOLVED not in p]
    if real:
        parsed.refused.append(
            "positional argument(s) "
            + ", ".join(repr(p) for p in real)
            + ": the command takes none and refuses to start"
        )
    return parsed


def _normalize(name: str) -> str:
    return name.replace("_", "-")


def _pflag_long(
    token: str, rest: list[str], kinds: Mapping[str, str], known: bool, parsed: ParsedArgs
) -> None:
    body = token[2:]
    if not body or body[0] in "-=":
        parsed.refused.append(f"bad flag syntax: {token}")
        return
    name, has_value, value = body.partition("=")
    name = _normalize(name)
    kind = kinds.get(name)
    if kind is None:
        if name == "help":
            parsed.refused.append(f"{token}: prints its help and exits")
        elif known:
            parsed.refused.append(f"unknown flag: --{name}")
        elif has_value:
            parsed.assumed.append(f"--{name} is not a flag of the known version; read as set")
            parsed.occurrences.append(Occurrence(name, value, token))
        elif rest and not rest[0].startswith("-"):
            parsed.assumed.append(
                f"--{name} is not a flag of the known version; read as taking the next "
                f"token {rest[0]!r}"
            )
            parsed.occurrences.append(Occurrence(name, rest[0], f"{token} {rest[0]}"))
            rest.pop(0)
        else:
            parsed.assumed.append(f"--{name} is not a flag of the known version; read as a boolean")
            parsed.occurrences.append(Occurrence(name, "true", token))
        return
    if has_value:
        parsed.occurrences.append(Occurrence(name, value, token))
    elif kind == "bool":
        parsed.occurrences.append(Occurrence(name, "true", token))
    elif rest:
        parsed.occurrences.append(Occurrence(name, rest[0], f"{token} {rest[0]}"))
        rest.pop(0)
    else:
        parsed.refused.append(f"flag needs an argument: --{name}")


def _pflag_short(
    token: str,
    rest: list[str],
    kinds: Mapping[str, str],
    shorthands: Mapping[str, str],
    parsed: ParsedArgs,
) -> None:
    letters = token[1:]
    while letters:
        letter = letters[0]
        name = shorthands.get(letter)
        if name is None:
            if letter == "h":
                parsed.refused.append(f"{token}: prints its help and exits")
            else:
                parsed.refused.append(f"unknown shorthand flag: {letter!r} in {token}")
            return
        kind = kinds[name]  # every shorthand names a flag of the same table
        if len(letters) > 2 and letters[1] == "=":
            parsed.occurrences.append(Occurrence(name, letters[2:], token))
            return
        if kind == "bool":
            parsed.occurrences.append(Occurrence(name, "true", token))
            letters = letters[1:]
        elif len(letters) > 1:
            parsed.occurrences.append(Occurrence(name, letters[1:], token))
            return
        elif rest:
            parsed.occurrences.append(Occurrence(name, rest[0], f"{token} {rest[0]}"))
            rest.pop(0)
            return
        else:
            parsed.refused.append(f"flag needs an argument: -{letter} in {token}")
            return


# ----------------------------------------------------------------------- Go flag


def parse_goflag(
    args: Sequence[str], kinds: Mapping[str, str], known_version: bool = True
) -> ParsedArgs:
    """Parse ``args`` as Go's flag.FlagSet.Parse does, then refuse leftovers as etcd does."""
    parsed = ParsedArgs()
    rest = list(args)
    while rest:
        token = rest[0]
        if len(token) < 2 or token[0] != "-":
            break  # the first non-flag ends parsing
        dashes = 2 if token[1] == "-" else 1
        if token == "--":
            rest.pop(0)
            break
        rest.pop(0)
        body = token[dashes:]
        if not body or body[0] in "-=":
            parsed.refused.append(f"bad flag syntax: {token}")
            return parsed
        # "equals cannot be first": the name is everything up to the first "=" after it.
        cut = body.find("=", 1)
        name, has_value, value = (
            (body, False, "") if cut < 0 else (body[:cut], True, body[cut + 1 :])
        )
        kind = kinds.get(name)
        if kind is None:
            if name in ("help", "h"):
                parsed.refused.append(f"{token}: prints its help and exits")
                return parsed
            if known_version:
                parsed.refused.append(f"flag provided but not defined: -{name}")
                return parsed
            if not has_value and rest and not rest[0].startswith("-"):
                value, has_value = rest.pop(0), True
                token = f"{token} {value}"
            parsed.assumed.append(f"-{name} is not a flag of the known version; read as set")
            parsed.occurrences.append(Occurrence(name, value if has_value else "true", token))
            continue
        if kind == "bool":
            parsed.occurrences.append(Occurrence(name, value if has_value else "true", token))
            continue
        if not has_value:
            if not rest:
                parsed.refused.append(f"flag needs an argument: -{name}")
                return parsed
            value = rest.pop(0)
            token = f"{token} {value}"
        parsed.occurrences.append(Occurrence(name, value, token))
    if rest:
        parsed.positional = rest
        if UNRESOLVED not in rest[0]:
            parsed.refused.append(f"{rest[0]!r} is not a valid flag (etcd refuses to start)")
    return parsed


# ----------------------------------------------------------------------- values


def parse_go_bool(text: str) -> bool | None:
    """strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def csv_record(text: str) -> list[str] | None:
    """The first record of encoding/csv's Reader (pflag readAsCSV): ``,``-separated
    fields, ``"``-quoted fields with ``""`` for a quote; None where Go returns an error (a
    bare or stray quote). An empty string is no field at all."""
    if text == "":
        return []
    while text.startswith(("\n", "\r\n")):  # Read skips empty lines
        text = text[1:] if text[0] == "\n" else text[2:]
    if text == "":
        return None  # nothing but empty lines: io.EOF
    fields: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            i += 1
            buf: list[str] = []
            while True:
                j = text.find('"', i)
                if j < 0:
                    return None  # extraneous or missing " in quoted-field
                buf.append(text[i:j])
                if j + 1 < n and text[j + 1] == '"':
                    buf.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            if i < n and text[i] not in ",\r\n":
                return None
            fields.append("".join(buf))
        else:
            end = i
            while end < n and text[end] not in ",\n":
                end += 1
            value = text[i:end]
            if '"' in value:
                return None  # bare " in non-quoted field
            fields.append(value.removesuffix("\r"))
            i = end
        if i >= n or text[i] in "\r\n":
            return fields
        i += 1  # the comma
        if i >= n:
            fields.append("")
            return fields


_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # µs, micro sign
    "\u03bcs": 1_000,  # μs, Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MAX_NS = (1 << 63) - 1


def go_duration_ns(text: str) -> int | None:
    """time.ParseDuration in nanoseconds; None where Go returns an error.

    ``[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+`` with the units ns, us, µs, μs, ms, s, m, h,
    combined (``1h30m``), fractions (``1.5h``, ``.5s``), a bare ``0``, and the int64 range.
    """
    s = text
    negative = False
    if s and s[0] in "+-":
        negative, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if not s:
        return None
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            return None
        i = 0
        while i < len(s) and "0" <= s[i] <= "9":
            i += 1
        whole, s = s[:i], s[i:]
        fraction = ""
        if s.startswith("."):
            j = 1
            while j < len(s) and "0" <= s[j] <= "9":
                j += 1
            fraction, s = s[1:j], s[j:]
        if not whole and not fraction:
            return None
        j = 0
        while j < len(s) and not (s[j] == "." or "0" <= s[j] <= "9"):
            j += 1
        unit, s = s[:j], s[j:]
        if not unit:
            return None  # missing unit
        scale = _UNITS_NS.get(unit)
        if scale is None:
            return None
        value = int(whole or "0")
        if value > (1 << 63) // scale:
            return None
        value *= scale
        if fraction:
            # leadingFraction stops accumulating digits once they would overflow.
            digits, frac_scale = 0, 1
            for ch in fraction:
                if digits > ((1 << 63) - 1) // 10:
                    break
                digits, frac_scale = digits * 10 + int(ch), frac_scale * 10
            value += int(float(digits) * (float(scale) / frac_scale))
        total += value
        if total > 1 << 63:
            return None
    if negative:
        return -total
    return total if total <= _MAX_NS else None
