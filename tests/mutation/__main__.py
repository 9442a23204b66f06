"""``make mutation``: mutation testing of the judging code, and its results file.

mutmut 3 (configured in pyproject.toml, ``[tool.mutmut]``) copies ``kubepci`` into
``./mutants``, gives every function of the selected modules its mutants behind a
trampoline, and runs only the unit tests that reach a function against each of its
mutants. This driver picks the mutants (the analysis modules and the verdict mapping),
runs mutmut on them with at most ``--jobs`` workers, then writes ``tests/mutation/RESULTS.md``:
per-module killed / survived / timeout counts, the score, and every survivor with the
argument, from ``tests/mutation/equivalent.yaml``, why no test can tell it from the original.

A run resumes: a mutant whose module source is unchanged and that a test already killed is
not run again; survivors and mutants never run are (a new test may kill them).
``--rerun`` runs everything. ``--report`` only rewrites the results file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MUTANTS = ROOT / "mutants"
RESULTS = HERE / "RESULTS.md"
EQUIVALENT = HERE / "equivalent.yaml"
ANALYSIS = "kubepci/analysis"

# The verdict mapping outside analysis/: the verdict records and the functions that turn
# a judgement into a pytest outcome. pytest_runtest_makereport is a decorated hook, and
# mutmut 3 leaves decorated functions unmutated (RESULTS.md says so).
VERDICT_MAPPING = {
    "kubepci/verdict.py": ["*"],
    "kubepci/plugin.py": ["x_pytest_report_teststatus", "x__record"],
    "kubepci/facade.py": ["xǁClusterǁjudge", "xǁClusterǁconclude"],
}
# mutmut's exit codes (mutmut/stats.py), folded into the columns of the results file.
STATUS: dict[int | None, str] = {1: "killed", 3: "killed", 0: "survived"}
STATUS |= {5: "no tests", 33: "no tests"}
STATUS |= {36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}
STATUS |= {None: "not run", 34: "skipped", 37: "type check"}
COLUMNS = ("killed", "timeout", "survived", "no tests", "suspicious", "not run")
# Mutants worth running again on a resumed run: a new test may have killed them.
OPEN = {"survived", "no tests", "suspicious", "not run"}


@dataclass(frozen=True)
class Module:
    """One source file of the selection and the functions of it that are counted."""

    path: str
    functions: tuple[str, ...] = ("*",)

    @property
    def dotted(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    def selects(self, mutant: str) -> bool:
        function = re.sub(r"__mutmut_\d+$", "", mutant).removeprefix(self.dotted + ".")
        return "*" in self.functions or function in self.functions

    def patterns(self) -> list[str]:
        return [
            f"{self.dotted}.{'*' if function == '*' else function + '__mutmut_*'}"
            for function in self.functions
        ]


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)

    @property
    def judged(self) -> int:
        return sum(self.counts[c] for c in COLUMNS if c != "not run")

    @property
    def score(self) -> float | None:
        """Killed (a timeout is a kill: the mutant hangs the tests) over mutants run."""
        judged = self.judged
        return (self.counts["killed"] + self.counts["timeout"]) / judged if judged else None


def settings() -> dict[str, Any]:
    import tomllib

    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"])


def selection(names: list[str]) -> list[Module]:
    """The analysis modules mutmut mutates (less its exclusions), then the verdict mapping."""
    from fnmatch import fnmatch

    excluded = settings().get("do_not_mutate", [])
    modules = [
        Module(str(path.relative_to(ROOT)))
        for path in sorted((ROOT / ANALYSIS).rglob("*.py"))
        if path.name != "__init__.py"
        and not any(fnmatch(str(path.relative_to(ROOT)), p) for p in excluded)
    ]
    modules += [Module(path, tuple(fns)) for path, fns in VERDICT_MAPPING.items()]
    if names:
        wanted = set(names)
        modules = [m for m in modules if Path(m.path).stem in wanted or m.path in wanted]
        missing = wanted - {Path(m.path).stem for m in modules} - {m.path for m in modules}
        if missing:
            sys.exit(f"mutation: no such module in the selection: {', '.join(sorted(missing))}")
    return modules


def meta(module: Module) -> dict[str, Any] | None:
    path = MUTANTS / (module.path + ".meta")
    for _ in range(5):  # a run in progress rewrites the file after every mutant
        if not path.exists():
            return None
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            return data
        except json.JSONDecodeError:
            time.sleep(0.2)
    raise SystemExit(f"mutation: {path} stays unreadable")


def results(module: Module) -> dict[str, int | None]:
    data = meta(module) or {}
    return {k: v for k, v in data.get("exit_code_by_key", {}).items() if module.selects(k)}


def up_to_date(module: Module) -> bool:
    """mutmut's own test (mutmut/__main__.py): the mutated copy is newer than the source."""
    mutated = MUTANTS / module.path
    return (
        mutated.exists()
        and meta(module) is not None
        and (ROOT / module.path).stat().st_mtime < mutated.stat().st_mtime
    )


def to_run(modules: list[Module], rerun: bool) -> list[str]:
    """mutmut arguments: a module's patterns when it must be run whole, else the names
    of its open mutants."""
    arguments: list[str] = []
    for module in modules:
        if rerun or not up_to_date(module):
            arguments += module.patterns()
        else:
            arguments += [
                name
                for name, code in results(module).items()
                if STATUS.get(code, "suspicious") in OPEN
            ]
    return arguments


def forget_stale_test_map() -> None:
    """Delete mutmut's map of which tests reach which function when a test changed since.

    mutmut 3 collects the map again only for functions whose source changed: a test that
    was edited to reach a function it did not reach before stays out of that function's
    mutant runs, and its kills go unseen (found in session 7: a refusal assertion added to
    an existing test killed a mutant that the run still listed as a survivor).
    """
    stats = MUTANTS / "mutmut-stats.json"
    if not stats.exists():
        return
    newest = max(p.stat().st_mtime for p in (ROOT / "tests").rglob("*.py"))
    if newest > stats.stat().st_mtime:
        print("mutation: tests changed since mutmut's test map was made: collecting it again")
        stats.unlink()


def run_mutmut(arguments: list[str], jobs: int) -> int:
    forget_stale_test_map()
    command = [str(Path(sys.executable).parent / "mutmut"), "run", f"--max-children={jobs}"]
    print(f"mutation: mutmut run on {len(arguments)} pattern(s)/mutant(s), {jobs} worker(s)")
    return subprocess.call([*command, *arguments], cwd=ROOT)


def tally(module: Module) -> Tally:
    out = Tally()
    for name, code in sorted(results(module).items(), key=lambda kv: _natural(kv[0])):
        status = STATUS.get(code, "suspicious")
        out.counts[status] += 1
        if status in {"survived", "no tests", "suspicious"}:
            out.survivors.append(name)
        elif status == "timeout":
            out.timeouts.append(name)
    return out


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def diff(module: Module, mutant: str) -> str:
    os.chdir(ROOT)  # mutmut reads its configuration from the working directory
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    text = get_diff_for_mutant(mutant, path=module.path)
    return "\n".join(line for line in text.splitlines()[2:] if not line.startswith("@@"))


def changed_line(text: str) -> str:
    """The mutated line(s), stripped: what an argument in equivalent.yaml is matched on.
    A mutant that only deletes (an argument left out of a call) is named by the deleted
    line(s), marked ``deleted:``."""

    def side(mark: str) -> list[str]:
        return [
            line[1:].strip()
            for line in text.splitlines()
            if line.startswith(mark) and not line.startswith(mark * 3) and line[1:].strip()
        ]

    added = side("+")
    return " / ".join(added) if added else " / ".join(f"deleted: {x}" for x in side("-"))


def arguments() -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """(function, mutated line) -> why it is equivalent; excluded path -> why."""
    data = yaml.safe_load(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    argued = {
        (entry["function"], " ".join(line.split())): " ".join(entry["why"].split())
        for entry in data.get("equivalent") or []
        for line in (entry["mutated"] if isinstance(entry["mutated"], list) else [entry["mutated"]])
    }
    return argued, {k: v.strip() for k, v in (data.get("excluded") or {}).items()}


def _percent(score: float | None) -> str:
    return "n/a" if score is None else f"{100 * score:.1f} %"


def _row(name: str, t: Tally) -> str:
    cells = [str(sum(t.counts.values())), *(str(t.counts[c]) for c in COLUMNS), _percent(t.score)]
    return f"| {name} | " + " | ".join(cells) + " |"


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def report(
    modules: list[Module], seconds: float | None, jobs: int, started_at: str | None = None
) -> int:
    """Write RESULTS.md from mutmut's records; the number of survivors left unargued.

    ``started_at``: the commit the run started on (mutmut copies the tests then, so later
    commits' tests are not in its results); None when only the report is rewritten."""
    argued, excluded = arguments()
    tallies = {m.path: tally(m) for m in modules}
    analysis, mapping = Tally(), Tally()
    for module in modules:
        total = analysis if module.path.startswith(ANALYSIS) else mapping
        total.counts.update(tallies[module.path].counts)
    head = "| module | mutants | " + " | ".join(COLUMNS) + " | score |"
    rule = "|---" * (len(COLUMNS) + 3) + "|"
    lines = [
        "# Mutation testing: results",
        "",
        "Written by `make mutation` (`python -m tests.mutation`); do not edit by hand. The",
        "arguments for survivors live in `tests/mutation/equivalent.yaml`.",
        "",
        f"- mutmut {version('mutmut')}, tests: `tests/unit` less the whole-suite replays "
        "and the plumbing tests (`LEFT_OUT` in tests/unit/conftest.py), "
        f"{jobs} worker(s), "
        f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        + (
            f"the run started on commit {started_at or '?'} (its tests and work tree, "
            "copied then, are what it judged)."
            if seconds is not None
            else f"rewritten on commit {_head() or '?'} from the records of earlier runs "
            "(each judged the tests of the commit it started on)."
        ),
        f"- wall time of this run: {_duration(seconds)}."
        if seconds is not None
        else "- report rewritten from earlier runs (`--report`).",
        "- score = (killed + timeout) / mutants run; a timeout is a mutant whose tests ran "
        "past mutmut's CPU limit ((recorded test time + constant) x `timeout_multiplier`): "
        "a hang, or a failing test that comes late in a slow selection. Each is listed "
        "under Timeouts.",
        "",
        "## Totals",
        "",
        head,
        rule,
        _row("**kubepci/analysis/**", analysis),
        _row("**verdict mapping**", mapping),
        "",
        "## Per module",
        "",
        head,
        rule,
        *(_row(f"`{m.path}`", tallies[m.path]) for m in modules),
        "",
        "## Left out, and why",
        "",
        *(f"- `{path}`: {why}" for path, why in excluded.items()),
        "",
        "## Timeouts",
        "",
        *(f"- `{t}`" for m in modules for t in tallies[m.path].timeouts),
        "",
        "## Survivors, each argued",
        "",
    ]
    unargued = 0
    for module in modules:
        for mutant in tallies[module.path].survivors:
            text = diff(module, mutant)
            function = re.sub(r"__mutmut_\d+$", "", mutant)
            why = argued.get((function, " ".join(changed_line(text).split()))) or argued.get(
                (function, "*")
            )
            if why is None:
                unargued += 1
            status = STATUS.get(results(module)[mutant], "suspicious")
            lines += [
                f"### `{mutant}` ({status})",
                "",
                "```diff",
                text,
                "```",
                "",
                why or "**Not argued yet: a test should kill it, or an argument be added.**",
                "",
            ]
    if not any(t.survivors for t in tallies.values()):
        lines += ["None.", ""]
    RESULTS.write_text("\n".join(lines))
    print(f"mutation: wrote {RESULTS.relative_to(ROOT)}")
    print("\n".join(lines[12:17]))
    return unargued


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    minutes, secs = divmod(round(seconds), 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes} min {secs} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("modules", nargs="*", help="module stems (authorizer, flags, ...)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")))
    parser.add_argument("--rerun", action="store_true", help="run every mutant again")
    parser.add_argument("--report", action="store_true", help="only rewrite RESULTS.md")
    options = parser.parse_args(argv)
    modules = selection(options.modules)
    seconds = None
    code = 0
    started_at = _head()
    if not options.report:
        start = time.monotonic()
        work = to_run(modules, options.rerun)
        if work:
            code = run_mutmut(work, options.jobs)
        else:
            print("mutation: nothing to run, every selected mutant has a result")
        seconds = time.monotonic() - start
    unargued = report(selection([]), seconds, options.jobs, started_at)
    print(f"mutation: {unargued} survivor(s) not argued in {EQUIVALENT.relative_to(ROOT)}")
    if code:
        print(f"mutation: mutmut exited {code}: its results are partial", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
