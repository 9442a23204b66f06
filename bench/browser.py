"""How long headless Chromium takes to open the HTML report and dump its DOM."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass(frozen=True)
class Opened:
    seconds: float | None  # None: no browser, or it failed
    dom_bytes: int
    note: str = ""


def open_report(html: Path, timeout: float = 120) -> Opened:
    binary = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not binary:
        return Opened(None, 0, "chromium not installed (make deps)")
    if not html.is_file():
        return Opened(None, 0, "no HTML report")
    with tempfile.TemporaryDirectory(prefix="kubepci-bench-chromium-") as profile:
        command = [binary, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", html.as_uri()]
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
