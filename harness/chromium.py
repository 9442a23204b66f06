"""Headless Chromium as the project's own tests and benchmark run it (Debian's package).

The background-networking flags matter here: without them Chromium keeps dialling hosts
this machine cannot reach. Root needs --no-sandbox.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CANDIDATES = ("chromium", "/usr/bin/chromium", "chromium-browser")
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def binary() -> str | None:
    """The Chromium executable, or None when it is not installed (`make deps`)."""
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def command(profile_dir: Path, *args: str) -> list[str]:
    """A headless Chromium command line with a throw-away profile directory."""
    found = binary()
    if found is None:
        raise FileNotFoundError("chromium is not installed: apt-get install -y chromium")
    return [found, *HEADLESS_FLAGS, f"--user-data-dir={profile_dir}", *args]
