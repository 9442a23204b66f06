"""The loopback copy of the suite's kubeconfig (bench.route)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bench import route


def test_server_moves_to_loopback_keeping_port_and_path() -> None:
    assert route.loopback_server("https://192.0.2.2:6443") == "https://127.0.0.1:6443"
    assert route.loopback_server("https://api.example:443/k8s") == "https://127.0.0.1:443/k8s"
    assert route.loopback_server("https://api.example") == "https://127.0.0.1"


def test_copy_keeps_credentials_and_resolves_relative_files(tmp_path: Path) -> None:
    source = tmp_path / "conf" / "kubeconfig"
    source.parent.mkdir()
    source.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": "https://192.0.2.2:6443",
                            "certificate-authority": "ca.crt",
                        },
                    }
                ],
                "users": [{"name": "u", "user": {"exec": {"command": "/bin/true"}}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    dest = route.loopback_kubeconfig(str(source), tmp_path / "out" / "suite.kubeconfig")
    copy = yaml.safe_load(dest.read_text())
    cluster = copy["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert cluster["certificate-authority"] == str(source.parent / "ca.crt")
    assert copy["users"][0]["user"]["exec"]["command"] == "/bin/true"
    assert copy["current-context"] == "x"
    assert dest.stat().st_mode & 0o077 == 0
