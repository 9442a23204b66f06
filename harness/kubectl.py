"""kubectl from the build cache, bound to one kubeconfig."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from harness.layout import tool


def _binary() -> str:
    """The kubectl build-k8s.sh built; on a machine that never ran `make k8s` (a kind user's
    CI with KIND_NODE_IMAGE), the kubectl on PATH."""
    built = tool("kubectl")
    return built if Path(built).is_file() else shutil.which("kubectl") or built


class Kubectl:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            [_binary(), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json"))

    def apply_objects(self, objects: list[dict[str, Any]]) -> None:
        if objects:
            self.run("apply", "-f", "-", stdin=yaml.safe_dump_all(objects, sort_keys=False))

    def exists(self, *args: str) -> bool:
        return bool(self.run("get", *args, "--ignore-not-found", "-o", "name").strip())

    def wait_until(self, what: str, ready: Any, timeout_s: float, interval_s: float = 1.0) -> None:
        """Poll READY (a callable returning truthy) until it holds or the timeout passes."""
        deadline = time.monotonic() + timeout_s
        last_error = ""
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except RuntimeError as err:  # API not answering yet
                last_error = str(err)
            time.sleep(interval_s)
        raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what} {last_error}")
