"""A tiny process supervisor standing in for systemd, which is not PID 1 on this host.

`start()` launches `python -m harness.supervise NAME -- ARGV...` in its own session; that
supervisor runs ARGV, restarts it when it exits (like `Restart=always`) and stops it on
SIGTERM. Pid files and logs live in the cache so `cluster-down` can find and end exactly the
processes the harness started, never anything else on the machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.layout import LOGS, REPO, RUN

RESTART_DELAY_S = 2.0
STOP_GRACE_S = 15.0


def pid_file(name: str) -> Path:
    return RUN / f"{name}.pid"


def log_file(name: str) -> Path:
    return LOGS / f"{name}.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def running_pid(name: str) -> int | None:
    """Pid of the supervisor for NAME if it is alive, else None."""
    try:
        pid = int(pid_file(name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def start(name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    """Start ARGV under supervision unless already running; return the supervisor pid."""
    pid = running_pid(name)
    if pid is not None:
        return pid
    RUN.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ if env is None else env)
    full_env["PYTHONPATH"] = str(REPO)
    with open(log_file(name), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness.supervise", name, "--", *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(REPO),
            env=full_env,
            start_new_session=True,  # outlive `make` and the calling shell
        )
    pid_file(name).write_text(f"{proc.pid}\n")
    return proc.pid


def stop(name: str, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the supervisor (which stops its child); SIGKILL its session if it lingers."""
    pid = running_pid(name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            # The supervisor leads its own session, so its pgid is its pid.
            os.killpg(pid, signal.SIGKILL)
    _kill_child(name)
    pid_file(name).unlink(missing_ok=True)


def _kill_child(name: str) -> None:
    child_pid_file = RUN / f"{name}.child.pid"
    try:
        child = int(child_pid_file.read_text())
    except (OSError, ValueError):
        return
    if _alive(child):
        os.kill(child, signal.SIGKILL)
    child_pid_file.unlink(missing_ok=True)


def _supervise(name: str, argv: list[str]) -> int:
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def on_term(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.terminate()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    child_pid_file = RUN / f"{name}.child.pid"
    while not stopping:
        started = time.monotonic()
        print(f"[supervise] starting {name}: {' '.join(argv)}", flush=True)
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        child_pid_file.write_text(f"{child.pid}\n")
        kill_at: float | None = None
        while child.poll() is None:
            # Poll rather than block so a SIGTERM that arrives mid-wait gets its grace period.
            if stopping and kill_at is None:
                kill_at = time.monotonic() + STOP_GRACE_S
            if kill_at is not None and time.monotonic() > kill_at:
                child.kill()
            time.sleep(0.2)
        print(f"[supervise] {name} exited with {child.returncode}", flush=True)
        if not stopping and time.monotonic() - started < RESTART_DELAY_S:
            time.sleep(RESTART_DELAY_S)
    child_pid_file.unlink(missing_ok=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name")
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    return _supervise(args.name, argv)


if __name__ == "__main__":
    sys.exit(main())
