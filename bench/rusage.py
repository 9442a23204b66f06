"""Run the suite exactly as the ``kubepci`` command does, then record this process's own
peak RSS (``getrusage(RUSAGE_SELF)``), which sampling from outside could miss when the
peak comes while the reports are written, just before exit.

``python -m bench.rusage OUT.json ARGS...``
"""

from __future__ import annotations

import json
import resource
import sys

from kubepci import cli


def main() -> int:
    out, args = sys.argv[1], sys.argv[2:]
    try:
        code = cli.main(args)
    finally:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open(out, "w", encoding="utf-8") as handle:
            json.dump({"maxrss_kib": usage.ru_maxrss}, handle)
    return code


if __name__ == "__main__":
    sys.exit(main())
