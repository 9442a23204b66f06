"""etcd's settings where they do not come from its command line, and what its listeners
accept. Pure. Follows go.etcd.io/etcd v3.6.16:

- **Environment** (etcdmain/config.go configFromCmdLine, pkg/flags/flag.go
  SetFlagsFromEnv): a flag not given on the command line is read from ``ETCD_<NAME>``
  (upper case, ``-`` → ``_``) when that variable is non-empty; a variable that shadows a
  flag given on the command line makes etcd exit (verifyEnv). ``ETCD_VERSION`` is unset
  first, never read.
- **Configuration file** (etcdmain/config.go parse, embed/config.go configFromFile):
  ``--config-file`` (else ``ETCD_CONFIG_FILE``) replaces every other flag and variable.
  The YAML is decoded as JSON (sigs.k8s.io/yaml into encoding/json: key names match
  case-insensitively); TLS settings live under ``client-transport-security`` and
  ``peer-transport-security``; an absent key keeps etcd's default.
- **Listeners** (embed/etcd.go configureClientListeners, configurePeerListeners;
  client/pkg/transport/listener.go TLSInfo.ServerConfig, SelfCert): an ``http://`` or
  ``unix://`` URL serves without TLS, certificates or not; an ``https://``/``unixs://`` URL
  needs ``--cert-file``/``--key-file`` (else etcd refuses to start) or auto TLS; a TLS
  listener demands a client certificate only when ``--client-cert-auth`` is true or a
  ``--trusted-ca-file`` is given; auto TLS (no certificate files) generates a self-signed
  certificate and replaces the whole TLS configuration, so it never demands one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

Obj = dict[str, Any]

ENV_PREFIX = "ETCD"
# Flag → (section, key) of the configuration file; other flags are top-level keys.
FILE_KEYS: dict[str, tuple[str, str]] = {
    **{
        name: ("client-transport-security", name)
        for name in ("cert-file", "key-file", "client-cert-auth", "trusted-ca-file", "auto-tls")
    },
    **{
        f"peer-{name}": ("peer-transport-security", name)
        for name in ("cert-file", "key-file", "client-cert-auth", "trusted-ca-file", "auto-tls")
    },
}
PLAIN_SCHEMES = ("http", "unix")
TLS_SCHEMES = ("https", "unixs")


class EtcdRefuses(ValueError):
    """etcd would not start with these settings (so they do not describe a running one)."""


def env_name(flag: str) -> str:
    """flags.FlagToEnv: ``client-cert-auth`` → ``ETCD_CLIENT_CERT_AUTH``."""
    return f"{ENV_PREFIX}_{flag.upper().replace('-', '_')}"


def _lookup(mapping: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """encoding/json: an exact key, else a case-insensitive one; the last in document
    order wins, as each is decoded into the same field in turn."""
    found, value = False, None
    for k, v in mapping.items():
        if k == key or k.lower() == key.lower():
            found, value = True, v
    return found, value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def file_key(flag: str) -> str:
    """Where etcd's config file holds ``flag``: ``section.key`` for the TLS settings
    (etcd server/v3 embed/config.go, configYAML's ClientSecurityJSON and
    PeerSecurityJSON), else the flag's own name."""
    section, key = FILE_KEYS.get(flag, ("", flag))
    return f"{section}.{key}" if section else key


def file_setting(document: Obj, flag: str, kind: str) -> tuple[bool, str]:
    """(set in the file?, the value as flag text) of ``flag`` in an etcd config file."""
    section, key = FILE_KEYS.get(flag, ("", flag))
    container: Any = document
    if section:
        found, container = _lookup(document, section)
        if not found or container is None:
            return False, ""
        if not isinstance(container, dict):
            raise EtcdRefuses(f"{section} is not a mapping (etcd: invalid {section})")
    found, value = _lookup(container, key)
    if not found or value is None:
        return False, ""
    if kind == "bool" and not isinstance(value, bool):
        raise EtcdRefuses(f"{file_key(flag)}: {value!r} is not a boolean")
    if flag.endswith("-urls") and value == "":
        return False, ""  # configFromFile keeps the default for an empty URL list
    return True, _text(value)


# ----------------------------------------------------------------------- listeners


def _urls(text: str) -> list[str]:
    return [u.strip() for u in text.split(",") if u.strip()]


def listener_gaps(get: Callable[[str], str], peer: bool) -> list[str]:
    """Why each client (or peer) listener would accept a caller without a certificate.

    ``get`` returns etcd's effective setting for a flag name. Raises :class:`EtcdRefuses`
    when etcd would not start with these settings.
    """
    prefix = "peer-" if peer else ""
    side = "peer" if peer else "client"
    names = ["listen-peer-urls"] if peer else ["listen-client-urls", "listen-client-http-urls"]
    urls = [u for name in names for u in _urls(get(name))]
    has_certs = bool(get(f"{prefix}cert-file") or get(f"{prefix}key-file"))
    auto_tls = get(f"{prefix}auto-tls") == "true"
    verifies = get(f"{prefix}client-cert-auth") == "true" or bool(get(f"{prefix}trusted-ca-file"))
    gaps = []
    for url in urls:
        scheme = urlsplit(url).scheme
        if scheme in PLAIN_SCHEMES:
            gaps.append(
                f"plain-HTTP {side} listener {url}: no TLS, so no client certificate is "
                f"asked for (etcd ignores any certificate settings on {scheme}:// URLs)"
            )
        elif scheme not in TLS_SCHEMES:
            raise EtcdRefuses(f"{side} URL {url}: scheme must be http, https, unix or unixs")
        elif not has_certs and not auto_tls:
            raise EtcdRefuses(
                f"{side} URL {url} is TLS but no --{prefix}cert-file/--{prefix}key-file is "
                "set (etcd: TLS key/cert must be provided)"
            )
        elif not has_certs:
            gaps.append(
                f"{side} listener {url} uses --{prefix}auto-tls: a self-signed certificate "
                f"and no client certificate required (auto TLS drops --{prefix}client-cert-auth "
                f"and --{prefix}trusted-ca-file)"
            )
        elif not verifies:
            gaps.append(
                f"{side} listener {url}: no client certificate is required "
                f"(--{prefix}client-cert-auth is not true and no --{prefix}trusted-ca-file)"
            )
    return gaps
