"""Record what the components' own flag parsers make of many command lines.

    .venv/bin/python tests/data/control_plane/oracle/record.py

Builds the two Go programs next to this file inside copies of the wrapper modules
harness/build-k8s.sh leaves in ``~/.cache/kubepci/src`` (the pinned Kubernetes v1.35.4 and
etcd v3.6.16), runs one process per case (each parses with a fresh
``NewAPIServerCommand().Flags()`` and friends, or etcd's flag set) and writes
``../parse_oracle.json``: every case with pflag's / Go flag's answer, plus
time.ParseDuration and encoding/csv answers. tests/unit/test_cmdline_oracle.py replays it
against kubepci.analysis.cmdline. The cases are hand-written edge cases plus a seeded
random mix of the same tokens.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "parse_oracle.json"
CACHE = Path(os.environ.get("KUBEPCI_CACHE", Path.home() / ".cache" / "kubepci"))
MODULES = {"k8s": CACHE / "src" / "k8s-v1.35.4", "etcd": CACHE / "src" / "etcd-v3.6.16"}

APISERVER = [
    ["--anonymous-auth"],
    ["--anonymous-auth=false"],
    ["--anonymous-auth", "false"],
    ["--anonymous-auth=0"],
    ["--anonymous-auth=F"],
    ["--anonymous-auth=no"],
    ["--anonymous_auth=false"],
    ["-anonymous-auth=false"],
    ["--anonymous-auth=false", "--anonymous-auth=true"],
    ["--token-auth-file", "/etc/tokens.csv"],
    ["--token-auth-file=/etc/tokens.csv"],
    ["--token-auth-file", "--anonymous-auth=false"],
    ["--token-auth-file"],
    ["--token-auth-file="],
    ["--token-auth-file=/a", "--token-auth-file=/b"],
    ["--token-auth-file=/a", "--token-auth-file="],
    ["--authorization-mode=Node,RBAC"],
    ["--authorization-mode=Node", "--authorization-mode", "RBAC"],
    ["--authorization-mode="],
    ["--authorization-mode=", "--authorization-mode=RBAC"],
    ['--authorization-mode="Node,RBAC"'],
    ['--authorization-mode=No"de'],
    ['--authorization-mode="Node"x'],
    ["--authorization-mode=Node,,RBAC"],
    ["--authorization-mode=Node, RBAC"],
    ["--authorization-mode=AlwaysAllow,"],
    ["--service-account-issuer=https://a", "--service-account-issuer", "b,c"],
    ["--authentication-config=/etc/kubernetes/authn.yaml"],
    ["--authentication_config", "/x"],
    ["-v=2"],
    ["-v2"],
    ["-v", "2"],
    ["-v"],
    ["-h"],
    ["--help"],
    ["--version"],
    ["--version=false"],
    ["--", "--anonymous-auth=false"],
    ["serve"],
    ["", "--anonymous-auth=false"],
    ["-"],
    ["--no-such-flag"],
    ["--no-such-flag=1"],
    ["---anonymous-auth"],
    ["--=x"],
    ["--anonymous-auth=true", "extra", "--token-auth-file=/x"],
    ["--tls-cipher-suites=TLS_AES_128_GCM_SHA256", "--tls-cipher-suites=TLS_AES_256_GCM_SHA384"],
    ["--oidc-issuer-url", "https://issuer", "--oidc-client-id=kube"],
    ["--enable-admission-plugins", "NodeRestriction,PodSecurity"],
]
CONTROLLER_MANAGER = [
    ["--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics"],
    [
        "--authorization-always-allow-paths",
        "/metrics",
        "--authorization-always-allow-paths=/configz",
    ],
    ["--authorization-always-allow-paths="],
    ["--secure-port=0"],
    ["--secure-port", "10257", "--bind-address", "127.0.0.1"],
    ["--bind-address=0.0.0.0", "--bind-address=127.0.0.1"],
    ["--profiling", "false"],
    ["--config=/x"],
]
SCHEDULER = [
    ["--config", "/etc/kubernetes/scheduler.yaml"],
    ["--authorization-always-allow-paths=/debug/pprof/*"],
    ["--authorization-always-allow-paths", "--secure-port=0"],
    ["--bind-address"],
    ["--leader-elect", "--secure-port=0"],
]
ETCD = [
    ["--client-cert-auth", "false"],
    ["--client-cert-auth=false"],
    ["-client-cert-auth=false"],
    ["-client-cert-auth"],
    ["--client-cert-auth=no"],
    ["--trusted-ca-file="],
    ["-trusted-ca-file", "/etc/ca.crt"],
    ["--trusted-ca-file", "--client-cert-auth=false"],
    ["--listen-client-urls", "http://127.0.0.1:2379", "--listen-client-urls=https://10.0.0.1:2379"],
    ["--listen-client-urls=https://a:2379,http://b:2379"],
    ["--no-such-flag"],
    ["--help"],
    ["-h"],
    ["--version"],
    ["-"],
    ["--", "--client-cert-auth=false"],
    ["serve", "--client-cert-auth=false"],
    ["--v"],
    ["--config-file", "/etc/etcd/etcd.yaml"],
    ["---client-cert-auth"],
    ["--=x"],
    ["--auto-tls", "--peer-auto-tls=true"],
    ["--peer-client-cert-auth=true", "--peer-trusted-ca-file="],
    ["--cert-file"],
    ["--client_cert_auth=true"],
]
DURATIONS = [
    "0", "+0", "-0", "1h", "90m", "1h30m", "1h30m0s", "1.5h", ".5h", "1.h", "500ms", "1m500ms",
    "10us", "10\u00b5s", "10\u03bcs", "100ns", "-1h", "+1h", "1d", "10", "", "h", "1e3s",
    "1H", " 1h", "1h ", "2562047h47m16.854775807s", "2562047h47m16.854775808s", "9223372036s",
    "9223372037s", "0.000000001s", "0.0000000001s", "1.0000000001h", "3607s", "8760h",
    "4294967296s", "4294967297s", "5m0s", "1h-1m", "..5s", "1.5.5s", "00001s", "01h",
    # The overflow edges of time.ParseDuration, and characters just past "9".
    "9223372036854775807ns", "9223372036854775808ns", "-9223372036854775808ns",
    "-9223372036854775809ns", "922337203685477580ns", "9223372036854775800ns",
    "2562047h", "2562048h", "153722867m", "153722868m", "1.00000000000000000001s",
    "9223372036.854775807s", "9223372036.854775808s", "0.99999999999999999999h",
    "1:h", "1Ah", "1@s", "9.s", "1.5:s", "1s:", "1.9s", "19s",
]  # fmt: skip
CSV = [
    "", "a", "a,b", "a,,b", ",a", "a,", '"a,b"', '"a""b"', 'a"b', '"a"b', '"a', " a", "a ,b",
    "a\nb", "a\r\nb", '"a\nb",c', "\n", "\na", "a\"", '""', '"",""',
]  # fmt: skip

POOLS = {
    "kube-apiserver": [
        "--anonymous-auth", "--anonymous-auth=false", "--anonymous-auth=true", "false", "true",
        "--token-auth-file", "/etc/t.csv", "--token-auth-file=", "--authorization-mode",
        "Node,RBAC", "--authorization-mode=AlwaysAllow", "--authentication-config", "/a.yaml",
        "-v", "3", "--", "--service-account-issuer", "https://x", "--profiling",
    ],
    "kube-controller-manager": [
        "--authorization-always-allow-paths", "/metrics", "/healthz,/livez",
        "--authorization-always-allow-paths=", "--secure-port", "0", "--secure-port=10257",
        "--bind-address", "127.0.0.1", "--profiling", "false", "--", "-v=1",
    ],
    "kube-scheduler": [
        "--config", "/s.yaml", "--authorization-always-allow-paths=/configz", "--secure-port=0",
        "--bind-address=0.0.0.0", "--leader-elect", "--leader-elect=false", "x",
    ],
    "etcd": [
        "--client-cert-auth", "--client-cert-auth=false", "false", "--trusted-ca-file",
        "/ca.crt", "--trusted-ca-file=", "--listen-client-urls", "https://1.2.3.4:2379",
        "-listen-client-urls=http://0.0.0.0:2379", "--auto-tls", "--", "-", "--config-file=/e",
    ],
}  # fmt: skip


def generated(seed: int = 1535, per_component: int = 40) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for component, pool in POOLS.items():
        for _ in range(per_component):
            cases.append(
                {
                    "component": component,
                    "args": [rng.choice(pool) for _ in range(rng.randint(1, 6))],
                }
            )
    return cases


def cases() -> list[dict[str, Any]]:
    hand = (
        [{"component": "kube-apiserver", "args": a} for a in APISERVER]
        + [{"component": "kube-controller-manager", "args": a} for a in CONTROLLER_MANAGER]
        + [{"component": "kube-scheduler", "args": a} for a in SCHEDULER]
        + [{"component": "etcd", "args": a} for a in ETCD]
    )
    return hand + generated()


def build(name: str, work: Path) -> Path:
    folder = work / name
    folder.mkdir()
    for file in ("go.mod", "go.sum"):
        shutil.copy(MODULES[name] / file, folder / file)
    shutil.copy(HERE / name / "main.go", folder / "main.go")
    binary = work / f"{name}-oracle"
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false"}
    subprocess.run(
        ["go", "build", "-mod=mod", "-o", str(binary), "."], cwd=folder, env=env, check=True
    )
    return binary


def ask(binary: Path, query: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [str(binary)], input=json.dumps(query), capture_output=True, text=True, check=True
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        binaries = {name: build(name, Path(tmp)) for name in ("k8s", "etcd")}
        parses = []
        for case in cases():
            binary = binaries["etcd" if case["component"] == "etcd" else "k8s"]
            query = case if case["component"] != "etcd" else {"args": case["args"]}
            parses.append({**case, "go": ask(binary, query)})
        durations = [{"text": d, "go": ask(binaries["k8s"], {"duration": d})} for d in DURATIONS]
        fields = [{"text": c, "go": ask(binaries["k8s"], {"csv": c})} for c in CSV]
    OUT.write_text(
        json.dumps({"parses": parses, "durations": durations, "csv": fields}, indent=1) + "\n"
    )
    print(
        f"wrote {OUT}: {len(parses)} command lines, {len(durations)} durations, {len(fields)} CSV"
    )


if __name__ == "__main__":
    main()
