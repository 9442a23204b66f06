"""Record the evidence pack of the local cluster that is up, for the offline tests.

    python -m tests.support.record_packs

Runs the shipped suite on the current local cluster (the profile in the harness's state
file) as ``make cluster-tests`` does, with ``--node-root /``, and replaces
``tests/data/packs/<profile>/`` with the pack it writes. Re-record both profiles when a
record's shape changes: a pack is judged by the code that reads it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import cluster_state
from tests.support.replay import PACKS, PROFILES, REPO


def main() -> int:
    values = cluster_state.read()
    profile = values.get("PROFILE", "")
    if profile not in PROFILES or not values.get("KUBECONFIG"):
        print(f"no local {' or '.join(PROFILES)} cluster is up (state: {profile or 'none'})")
        return 1
    with tempfile.TemporaryDirectory(prefix="kubepci-record-") as work:
        out = Path(work) / "pack"
        command = [
            sys.executable, "-m", "pytest", "--pyargs", "tests_pci", "-p", "no:cacheprovider",
            "-q", f"--kubeconfig={values['KUBECONFIG']}", "--node-root", "/",
            f"--evidence-dir={out}",
        ]  # fmt: skip
        done = subprocess.run(command, cwd=work, check=False)
        if done.returncode not in (0, 1) or not (out / "replay.json").is_file():
            print(f"the suite ended with exit {done.returncode}; nothing recorded")
            return 1
        target = PACKS / profile
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(out, target)
    print(f"recorded {target.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
