"""One redaction function for every output: HTML, JSON, JUnit, terminal, evidence pack.

The suite never reads Secret data, but probes return bodies, the command line may carry a
token, and kubeconfig files hold credentials; anything that could be a credential is
replaced by ``[REDACTED]`` before it is written anywhere. Patterns are deliberately
conservative about Kubernetes evidence: ``--token-auth-file=/etc/...``,
``automountServiceAccountToken: true`` and CSR requests stay readable, because the checks
judge from them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import html
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from kubepci import jsonio

MASK = "[REDACTED]"
# Literal credentials shorter than this are left to the patterns: replacing every "admin"
# in the evidence because some password is "admin" would destroy the evidence.
MIN_LITERAL = 8

# Texts at least this long are looked at whole first (see json_text_may_need_redaction).
_LONG_TEXT = 1024

_KNOWN: set[str] = set()
_KNOWN_LONGEST_FIRST: list[str] = []
# How each known credential appears inside a JSON string, either way JSON is written.
_KNOWN_IN_JSON: set[str] = set()

# Word a key must END with to name a credential (``access_token``, ``client-secret``,
# ``--token``), so ``token-auth-file`` or ``legacy-token-last-used`` are not matched.
_SECRET_WORDS = (
    r"token|tokens|password|passwd|pwd|passphrase|secret|secrets|credential|credentials"
    r"|api[_-]?key|apikey|private[_-]?key|access[_-]?key|secret[_-]?key"
    r"|client[_-]?key[_-]?data|auth[_-]?key"
)
_SECRET_KEY = re.compile(rf"(?i)(?:^|[^a-z0-9])?(?:{_SECRET_WORDS})$")
_HEADER_KEYS = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-auth-token",
    "x-api-key",
    "private-token",
}

_PEM_PRIVATE = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|$)",
    re.DOTALL,
)
# base64 of "-----BEGIN": kubeconfig client-key-data, or a key embedded in JSON.
_PEM_BASE64 = re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=]*")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}")
_AUTH_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-auth-token|x-api-key|private-token|cookie|set-cookie)"
    r"(\"?'?\s*[:=]\s*\"?'?)(?![\[{])([^\s\"'][^\"'\r\n]*)"
)
_AUTH_SCHEMES = ("bearer", "basic", "digest", "negotiate", "token", "ntlm", "aws4-hmac-sha256")
_DASHED_FIELDS = (
    "client-secret",
    "client-key-data",
    "id-token",
    "refresh-token",
    "access-token",
    "auth-token",
    "bearer-token",
    "api-key",
    "private-key",
)
_SCHEME_TOKEN = re.compile(r"(?i)\b(bearer|basic)\s+(?!realm\b)([A-Za-z0-9._~+/=-]{8,})")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@\"']+):([^/\s@\"']+)@")
_KEY_VALUE = re.compile(
    rf"(?i)(?<![A-Za-z0-9])([\"']?)((?:[A-Za-z0-9_.-]*?)(?:{_SECRET_WORDS}))"
    r"([\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}\]]+)"
)
# Every pattern below needs one of these; most strings in a snapshot (names, UIDs, images)
# have none, and skipping them keeps redacting a large cluster's exports fast.
# A colon between two digits (timestamps, host:port) starts none of them: every pattern that
# reads a colon has a letter, quote or space beside it, or "://" after it.
_TRIGGER = re.compile(r"(?<!\d):|:(?!\d)|[=@]|-----|eyJ|LS0tLS1CRUdJTi|(?i:bearer|basic)")
_HARMLESS_VALUE = re.compile(
    r"(?i)^(?:true|false|yes|no|null|none|nil|\[redacted\]?|\d+(?:\.\d+)?[smhd]?|[/~.].*)$"
)


def register_secret(value: str) -> None:
    """A credential this run knows about: redacted wherever it appears, pattern or not."""
    value = value.strip()
    if len(value) >= MIN_LITERAL:
        _KNOWN.add(value)
        _KNOWN_LONGEST_FIRST[:] = sorted(_KNOWN, key=len, reverse=True)
        _KNOWN_IN_JSON.update(json.dumps(value, ensure_ascii=a)[1:-1] for a in (False, True))


def known_secrets() -> frozenset[str]:
    return frozenset(_KNOWN)


def forget_secrets() -> None:
    """For tests: the registry is process-wide."""
    _KNOWN.clear()
    _KNOWN_LONGEST_FIRST.clear()
    _KNOWN_IN_JSON.clear()


@functools.lru_cache(maxsize=8192)  # called for every key of every exported object
def is_secret_key(name: str) -> bool:
    """Does a field or option name say its value is a credential?

    >>> is_secret_key("--token"), is_secret_key("client-key-data"), is_secret_key("password")
    (True, True, True)
    >>> is_secret_key("token-auth-file"), is_secret_key("automountServiceAccountToken")
    (False, True)
    """
    name = name.strip().lstrip("-").strip("\"'")
    return name.lower() in _HEADER_KEYS or bool(_SECRET_KEY.search(name))


def _harmless(value: str) -> bool:
    return not value or bool(_HARMLESS_VALUE.match(value))


def _pem_base64(match: re.Match[str]) -> str:
    blob = match.group(0)
    try:
        decoded = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=False)
    except (binascii.Error, ValueError):
        return MASK
    # A certificate or CSR is public evidence; only key material is hidden.
    return MASK if b"PRIVATE KEY" in decoded or len(decoded) < 40 else blob


def _credential_like(value: str) -> bool:
    """Prose has words; credentials have length and digits or symbols."""
    return len(value) >= 8 and not value.isalpha()


def _scheme_token(match: re.Match[str]) -> str:
    scheme, value = match.groups()
    # "Basic authentication" is prose; "Basic dXNlcjpwYXNz" is a credential.
    if value.isalpha() and (value.islower() or value.isupper()):
        return match.group(0)
    return f"{scheme} {MASK}"


def _auth_header(match: re.Match[str]) -> str:
    key, sep, value = match.groups()
    first = value.split()[0]
    if key.lower() in ("cookie", "set-cookie"):
        return f"{key}{sep}{MASK}" if "=" in value else match.group(0)
    if first.lower() in _AUTH_SCHEMES:
        return f"{key}{sep}{first} {MASK}"
    # "Authorization: 1 finding(s)" is a check title, not a header.
    return f"{key}{sep}{MASK}" if _credential_like(first) else match.group(0)


def _bare_key_is_a_field(match: re.Match[str], key: str) -> bool:
    """Is ``key`` in ``key: value`` a field name rather than the end of an object name?

    Finding lines read ``Secret payments/api-token: secret-based token ...``: names use
    dashes and follow a slash, field names (``password:``, ``client_secret:``, ``apiKey:``)
    do not, except a few well-known dashed ones.
    """
    start = match.start(2)
    if start and match.string[start - 1] == "/":
        return False
    return not re.search(r"[-.]", key) or key.lower() in _DASHED_FIELDS


def _key_value(match: re.Match[str]) -> str:
    quote, key, sep, value = match.groups()
    if _harmless(value):
        return match.group(0)
    # ``key=value`` and ``"key": "value"`` are assignments; a bare ``key: value`` may be
    # prose ("cannot load credentials: Invalid ...") or a finding about an object named
    # like a credential, so it needs a field-like key and a credential-like value.
    assignment = "=" in sep or (quote and sep[:1] in "\"'")
    if not assignment and not (_bare_key_is_a_field(match, key) and _credential_like(value)):
        return match.group(0)
    return f"{quote}{key}{sep}{MASK}"


def redact(text: str) -> str:
    """Replace every credential-looking part of ``text`` with ``[REDACTED]``."""
    if not text:
        return text
    if len(text) >= _LONG_TEXT and not json_text_may_need_redaction(
        json.dumps(text, ensure_ascii=False)
    ):
        return text  # a long text (an evidence extra) looked at whole: nothing to hide
    for secret in _KNOWN_LONGEST_FIRST:
        if secret in text:
            text = text.replace(secret, MASK)
    if not _TRIGGER.search(text):
        return text
    text = _PEM_PRIVATE.sub("-----BEGIN PRIVATE KEY----- " + MASK, text)
    text = _PEM_BASE64.sub(_pem_base64, text)
    text = _AUTH_HEADER.sub(_auth_header, text)
    text = _SCHEME_TOKEN.sub(_scheme_token, text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)
    text = _JWT.sub(MASK, text)
    return _KEY_VALUE.sub(_key_value, text)


# ---------------------------------------------------------------- whole documents
# A large cluster's exports hold hundreds of thousands of strings, and walking them one by
# one costs most of a run's reporting time although almost none holds a credential. So a
# document is first looked at whole, as the JSON text it is written as: every rule above
# needs something it can find there (a marker, or a credential word followed by ":" or
# "=" inside a string, or a credential word ending a key whose value is a string). A text
# with none of them is one the walk would return unchanged. The checks are necessary
# conditions, not the rules themselves, so they may flag a harmless text (which is then
# walked), never the reverse; tests/unit/test_redact_gate.py holds them to that.

# Whitespace as it reaches JSON text: raw, or escaped (\n, \t, \u001c, ...); broad.
_J_SPACE = r"(?:\s|\\[nrtfb]|\\u00[01][0-9a-f])"
# Exactly what a decoded \s becomes in ASCII JSON text, for the value that follows.
_J_WS = r"(?: |\\[nrtf]|\\u000[9a-d]|\\u001[c-f])"
# What may stand between a credential word and its ":" or "=": quotes (a double quote
# inside a string is always escaped, so a bare one ends a key) and whitespace.
_J_BEFORE = rf"(?:'|\\\"|{_J_SPACE})*"
# The rules leave a credential word's value alone when it is true/false/yes/no/null/
# none/nil ending right there ("automountServiceAccountToken: true"), or, unless the word
# ends a header name, when it is a path ("--kubelet-client-key=/etc/..."); so does the
# gate. The possessive quantifiers take the whitespace and quotes the rules' separators
# take, no fewer, so the value is looked at where the rules look at it.
_J_WORDY = rf"(?:true|false|yes|no|null|none|nil)(?:{_J_WS}|\\?\"|'|$)"


def _word_rule(word: str, paths_harmless: bool) -> re.Pattern[str]:
    harmless = _J_WORDY + ("|[/~.]" if paths_harmless else "")
    separator = rf"(?:[:=]{_J_WS}*+(?:\\\")?+'?+(?!{harmless})" + r'|"\s*:\s*")'
    return re.compile(word + _J_BEFORE + separator)


def _ending(word: str, *spellings: str) -> str:
    """``word`` as a literal (so the scan is fast), then the spellings it must end."""
    return word + "(?:" + "|".join(f"(?<={re.escape(s)})" for s in spellings) + ")"


def _joined(*parts: str) -> list[str]:
    """Every spelling of parts joined by nothing, "_" or "-" (the rules' ``[_-]?``)."""
    spellings = [parts[0]]
    for part in parts[1:]:
        spellings = [f"{s}{sep}{part}" for s in spellings for sep in ("", "_", "-")]
    return spellings


_KEY_WORDS = [s for w in ("api", "private", "access", "secret", "auth") for s in _joined(w, "key")]
# One scan per word, each starting with a literal, and run only when a text holding the
# literals it needs (the first element) has them. Words a header name ends with (x-api-key,
# x-auth-token, private-token, authorization) get their own rule, without the path case.
_J_KEY_DATA = tuple(_joined("key", "data"))
_J_RULES: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (("token",), _word_rule(r"token(?<!x-auth-token)(?<!private-token)s?", paths_harmless=True)),
    (
        ("token",),
        _word_rule(_ending("token", "x-auth-token", "private-token") + "s?", paths_harmless=False),
    ),
    (("pass",), _word_rule(r"pass(?:w(?:or)?d|phrase)s?", paths_harmless=True)),
    (("pwd",), _word_rule(r"pwds?", paths_harmless=True)),
    (("secret",), _word_rule(r"secrets?", paths_harmless=True)),
    (("credential",), _word_rule(r"credentials?", paths_harmless=True)),
    (("key",), _word_rule(_ending("key", *_KEY_WORDS) + "(?<!x-api-key)s?", paths_harmless=True)),
    (("key",), _word_rule(_ending("key", "x-api-key") + "s?", paths_harmless=False)),
    (
        _J_KEY_DATA,
        _word_rule(_ending("data", *_joined("client", "key", "data")) + "s?", paths_harmless=True),
    ),
    (("authorization",), _word_rule(r"authorizations?", paths_harmless=False)),
    # A cookie is redacted whenever its value holds "=", "true" or not.
    (("cookie",), re.compile(r"cookies?" + _J_BEFORE + r'(?:[:=]|"\s*:\s*")')),
    (("eyj",), re.compile(r"eyj[a-z0-9_-]{8}")),  # JWT
    (("bearer",), re.compile(rf"bearer{_J_SPACE}")),
    (("basic",), re.compile(rf"basic{_J_SPACE}")),
    (("@",), re.compile(r'://[^/\s@"]*@')),  # user:password@ in a URL
)
_J_MARKERS = ("-----begin", "ls0tls1crudjti")  # PEM and base64 PEM, lowercased
# The only non-ASCII letters re.IGNORECASE matches to ASCII ones (dotted and dotless i,
# long s, Kelvin sign); any other character outside ASCII passes no rule for a letter.
_J_FOLDS = re.compile("[\u0130\u0131\u017f\u212a]")
# A \u escape of anything but a control character may hide a letter the rules would
# match case-insensitively (the Kelvin sign is a "k"), and "\/" hides a slash; such text
# is always walked. Python's encoder, which writes the store, writes neither for ASCII.
_J_WIDE_ESCAPE = re.compile(r"\\(?:u(?!00[01])|/)")


def json_text_may_need_redaction(text: str) -> bool:
    """Could :func:`redact_obj` change the document this JSON text encodes?

    False means certainly not; True means the document has to be walked. ``text`` is
    JSON written with either ``ensure_ascii`` setting.
    """
    # Substring tests first: they cost a fraction of a regular-expression scan.
    if not text.isascii() and _J_FOLDS.search(text):
        return True
    if ("\\u" in text or "\\/" in text) and _J_WIDE_ESCAPE.search(text):
        return True
    if any(fragment in text for fragment in _KNOWN_IN_JSON):
        return True
    low = text.lower()  # with no folding letters, case-insensitive rules become exact
    if any(marker in low for marker in _J_MARKERS):
        return True
    return any(rule.search(low) for needs, rule in _J_RULES if any(part in low for part in needs))


# Elements of a list at least this long are each looked at whole before being walked:
# one credential in a 10,000-pod list then costs a walk of one pod, not of all of them.
_GATED_LIST = 64


def _walk(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        if key and is_secret_key(key) and not _harmless(value):
            return MASK
        return redact(value)
    if isinstance(value, dict):
        return {k: _walk(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if len(value) >= _GATED_LIST:
            return [redact_obj(v) for v in value]
        return [_walk(v) for v in value]
    return value


def redact_obj(value: Any, key: str = "") -> Any:
    """Redact a JSON-like structure: every string, and every value under a credential key.

    A dict, list or text with nothing to redact is returned as it is, not copied. A text
    is gated too: a long list of finding lines (one per pod of a large cluster) is
    mostly lines the patterns would scan in vain, at tens of microseconds each.
    """
    # A text under a key is not gated: the key alone may make it a credential.
    gated = isinstance(value, dict | list) or (isinstance(value, str) and not key)
    if gated and value:
        try:
            text = jsonio.dumps(value, sort_keys=False)
        except TypeError:
            return _walk(value, key)  # not JSON (a set, an object, an int key): walk it
        if not json_text_may_need_redaction(text):
            return value
    return _walk(value, key)


_HTML_TAG = re.compile(r"(<[^>]*>)")


def redact_html(markup: str) -> str:
    """Redact HTML as a reader sees it: each text between tags unescaped, and each tag.

    Patterns run over raw markup would read across tags ("...Token: true</li><li>Pod"
    looks like a credential up to the next space, and hiding it breaks the list) and miss
    what escaping hides (``&quot;password&quot;: &quot;x&quot;``).
    """
    parts = _HTML_TAG.split(markup)
    plain = [html.unescape(part) if i % 2 == 0 else part for i, part in enumerate(parts)]
    clean = redact_obj(plain)
    if clean is plain:
        return markup
    return "".join(
        part if after == before else (html.escape(after) if i % 2 == 0 else after)
        for i, (part, before, after) in enumerate(zip(parts, plain, clean, strict=True))
    )


def redact_argv(argv: Iterable[str]) -> list[str]:
    """The command line with option values that are credentials hidden.

    Handles ``--token=X``, ``--token X`` and ``--metadata password X`` (the value follows
    an argument that names a credential), then applies :func:`redact` to each argument.
    """
    out: list[str] = []
    hide_next = False
    previous = ""
    for arg in argv:
        if hide_next:
            out.append(MASK)
            hide_next = False
        else:
            name, eq, value = arg.partition("=")
            if eq and is_secret_key(name) and not _harmless(value):
                out.append(f"{name}={MASK}")
            else:
                # An option, or a pytest-metadata key, naming a credential: hide its value.
                named = arg.startswith("-") or previous == "--metadata"
                hide_next = not eq and named and is_secret_key(arg)
                out.append(redact(arg))
        previous = arg
    return out


_KUBECONFIG_SECRET_FIELDS = ("token", "password", "client-key-data", "client-key")


def secrets_in_kubeconfig(path: Path) -> list[str]:
    """The credential values a kubeconfig holds, to redact them literally everywhere.

    Walks every user (not only the audited context's): token, password, client key data,
    auth-provider tokens and secrets, exec env values named like credentials, and the
    content of a tokenFile. Unreadable or malformed files yield nothing: resolving the
    targets reports those problems.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    found: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            if "name" in node and "value" in node and is_secret_key(str(node["name"])):
                found.append(str(node["value"]))  # exec plugin env entry
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key:
            if key == "tokenFile":
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    found.append(Path(node).expanduser().read_text(encoding="utf-8").strip())
            elif key == "client-key":
                return  # a path; the key file itself never reaches an output
            elif key in _KUBECONFIG_SECRET_FIELDS or is_secret_key(key):
                found.append(node)
                if key == "client-key-data":
                    with contextlib.suppress(binascii.Error, ValueError):
                        found.append(base64.b64decode(node).decode("utf-8", "replace"))

    if isinstance(document, dict):
        walk(document.get("users") or [])
    return [s for s in found if len(s.strip()) >= MIN_LITERAL]
