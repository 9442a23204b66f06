"""How long headless Chromium takes to open the HTML report and dump its DOM."""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import chromium


@dataclass(frozen=True)
class Opened:
    seconds: float | None  # None: no browser, or it failed
    dom_bytes: int
    note: str = ""


def open_report(html: Path, timeout: float = 120) -> Opened:
    if chromium.binary() is None:
        return Opened(None, 0, "chromium not installed (make deps)")
    if not html.is_file():
        return Opened(None, 0, "no HTML report")
    with tempfile.TemporaryDirectory(prefix="kubepci-bench-chromium-") as profile:
        command = chromium.command(Path(profile), "--dump-dom", html.as_uri())
        started = time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return Opened(None, 0, f"timed out after {timeout:.0f}s")
        seconds = time.monotonic() - started
    if done.returncode != 0 or not done.stdout:
        tail = done.stderr.decode("utf-8", "replace").strip()[-200:]
        return Opened(None, 0, f"chromium exit {done.returncode}: {tail}")
    return Opened(seconds, len(done.stdout))
