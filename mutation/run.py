"""Mutation testing of the engine and nn modules, and its report (docs/mutation.md).

    python mutation/run.py            # both runs, then the report
    python mutation/run.py --parallel # the two passes below side by side (two cores)
    python mutation/run.py --report   # only rewrite the report from the last runs' results

1. ``mutmut run --max-children 1`` mutates every function and method body of the files in
   ``[tool.mutmut] only_mutate`` (pyproject.toml) and runs, against each mutant, the tests that
   reach the mutated function (``-x``, Hypothesis profile ``mutation``: derandomised).
2. ``mutation/extra.py`` mutates, with mutmut's own operators, what mutmut leaves alone (the
   operator registry entries, module constants and aliases, class attributes, decorated
   functions) and runs the same tests against each mutant.
3. The report counts, per file, the mutants generated, killed, survived, timed out, and lists
   every survivor with the reason it is equivalent, from ``mutation/equivalent.toml``.

One worker process per pass; `--parallel` runs the two passes side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
WORK = ROOT / "mutation" / ".work"
TIMES = ROOT / "mutation" / ".work-times.json"
EXTRA_LOG = ROOT / "mutation" / ".work-extra.log"
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"
REPORT = ROOT / "docs" / "mutation.md"
FILES = ("micrograd/_math.py", "micrograd/engine.py", "micrograd/nn.py", "micrograd/ops.py")
COMMAND = "python mutation/run.py --parallel  # or without --parallel: one pass after the other"

# mutmut's exit-code meanings (mutmut/stats.py), folded into the report's columns
_STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests"}
_NOT_CHECKED = "not checked"
_TIMEOUT = {-24, 24, 152, 255, 36}


@dataclass(frozen=True)
class Result:
    """One mutant's outcome."""

    id: str
    file: str
    status: str  # killed, survived, timeout, no tests, suspicious
    change: str


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["MICROGRAD_REQUIRE_ORACLES"] = "1"  # a missing oracle fails instead of skipping
    env["OMP_NUM_THREADS"] = "1"
    env["HYPOTHESIS_PROFILE"] = "mutation"
    env.pop("CI", None)
    return env


def run_mutmut() -> float:
    shutil.rmtree(MUTANTS, ignore_errors=True)
    start = time.monotonic()
    mutmut = shutil.which("mutmut") or "mutmut"
    subprocess.run([mutmut, "run", "--max-children", "1"], cwd=ROOT, env=_env(), check=True)
    return time.monotonic() - start


def run_extra() -> float:
    start = time.monotonic()
    script = str(ROOT / "mutation" / "extra.py")
    subprocess.run([sys.executable, script], cwd=ROOT, env=_env(), check=True)
    return time.monotonic() - start


def run_both() -> dict[str, float]:
    """The two passes side by side (they share nothing: ``mutants/`` and ``mutation/.work``).

    extra.py's progress goes to ``mutation/.work-extra.log``.
    """
    start = time.monotonic()
    script = str(ROOT / "mutation" / "extra.py")
    with EXTRA_LOG.open("w", encoding="utf-8") as log:
        extra = subprocess.Popen(
            [sys.executable, script], cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            mutmut_seconds = run_mutmut()
        except BaseException:
            extra.kill()
            raise
        if extra.wait() != 0:
            raise SystemExit(f"mutation/extra.py failed: see {EXTRA_LOG}")
    data = json.loads((WORK / "extra.json").read_text(encoding="utf-8"))
    return {
        "mutmut": mutmut_seconds,
        "extra": float(data["seconds"]),
        "wall": time.monotonic() - start,
    }


def _mutmut_results() -> list[Result]:
    results: list[Result] = []
    for file in FILES:
        meta = MUTANTS / f"{file}.meta"
        if not meta.exists():
            continue
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, code in sorted(data["exit_code_by_key"].items(), key=lambda kv: _natural(kv[0])):
            if code is None:
                status = _NOT_CHECKED
            else:
                status = "timeout" if code in _TIMEOUT else _STATUS.get(code, "suspicious")
            change = _mutmut_change(name) if status not in ("killed", _NOT_CHECKED) else ""
            results.append(Result(name, file, status, change))
    return results


def _natural(name: str) -> tuple[str, int]:
    head, _, n = name.rpartition("_")
    return (head, int(n) if n.isdigit() else 0)


def _mutmut_change(name: str) -> str:
    """The changed lines of a mutmut mutant, from ``mutmut show``."""
    out = subprocess.run(
        [shutil.which("mutmut") or "mutmut", "show", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    lines = [
        line
        for line in out.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return "\n".join(lines)


def _extra_results() -> tuple[list[Result], float]:
    path = WORK / "extra.json"
    if not path.exists():  # not run yet: every mutant is listed as not checked
        listing = subprocess.run(
            [sys.executable, str(ROOT / "mutation" / "extra.py"), "--list"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        ids = re.findall(r"^(\S+):(\d+) line", listing, re.MULTILINE)
        return [Result(f"{f}:{i}", f, _NOT_CHECKED, "") for f, i in ids], 0.0
    data = json.loads(path.read_text(encoding="utf-8"))
    results = []
    for m in data["mutants"]:
        status = m["status"]
        if status not in ("killed", "survived", "timeout", _NOT_CHECKED):
            status = "suspicious"
        change = f"- {m['before']}\n+ {m['after']}"
        results.append(Result(f"{m['file']}:{m['index']}", m["file"], status, change))
    return results, float(data["seconds"])


def _equivalents() -> dict[str, str]:
    """Mutant id -> why it is equivalent (mutation/equivalent.toml: ``"id" = "reason"``)."""
    if not EQUIVALENT.exists():
        return {}
    text = EQUIVALENT.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for key, value in re.findall(r'^"([^"]+)"\s*=\s*"((?:[^"\\]|\\.)*)"', text, re.MULTILINE):
        found[key] = value.replace('\\"', '"')
    return found


def write_report(times: dict[str, float]) -> int:
    mutmut_results = _mutmut_results()
    extra_results, _ = _extra_results()
    results = mutmut_results + extra_results
    equivalent = _equivalents()
    lines = [
        "# Mutation testing",
        "",
        "How many bugs can the suite see? Mutation testing plants one small bug (a *mutant*) at a",
        "time in the engine and nn modules and runs the property and reference suites against it;",
        "a mutant is *killed* when a test fails. A surviving mutant is a change no test notices:",
        "either a gap in the suite (closed by a new test) or an *equivalent* mutant, one that no",
        "test can notice because it changes nothing observable (each is listed below, with why).",
        "",
        "## Command",
        "",
        "```bash",
        'pip install -e ".[mutation]"',
        COMMAND,
        "```",
        "",
        f"Tools: mutmut {version('mutmut')} (functions and methods) and `mutation/extra.py`",
        "(everything mutmut leaves alone, with mutmut's own mutation operators). Configuration:",
        "`[tool.mutmut]` in `pyproject.toml`. One worker process per pass; every test run is",
        "`pytest -x` with the Hypothesis profile `mutation` (derandomised, 100 examples per test,",
        "no example database), so each kill is reproducible. It is not part of the per-commit CI",
        "run: it takes longer than the suite itself (times below).",
        "",
    ]
    lines += _table(results, equivalent)
    mutmut_time = _duration(times.get("mutmut", 0.0))
    extra_time = _duration(times.get("extra", 0.0))
    if "wall" in times:
        when = (
            f"Run time: {_duration(times['wall'])} with `--parallel` on 2 CPU cores — mutmut "
            f"{mutmut_time} and `mutation/extra.py` {extra_time} side by side, one worker each."
        )
    else:
        total = _duration(times.get("mutmut", 0.0) + times.get("extra", 0.0))
        when = (
            f"Run time: {total} in all — mutmut {mutmut_time}, `mutation/extra.py` "
            f"{extra_time} — one after the other, one worker."
        )
    lines += ["", when, ""]
    lines += _SCOPE
    survivors = [r for r in results if r.status not in ("killed", _NOT_CHECKED)]
    unexplained = [r for r in survivors if r.id not in equivalent]
    lines += ["", "## Survivors: equivalent mutants", ""]
    if not survivors:
        lines.append("None: every mutant was killed.")
    for r in survivors:
        reason = equivalent.get(r.id, "**not yet explained**")
        lines += [f"### `{r.id}` ({r.status})", "", "```diff", r.change, "```", "", reason, ""]
    REPORT.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    killed = sum(r.status == "killed" for r in results)
    print(f"{killed}/{len(results)} killed; {len(unexplained)} survivors not explained")
    for r in unexplained:
        print(f"  {r.id} ({r.status})\n    " + r.change.replace("\n", "\n    "))
    stale = sorted(set(equivalent) - {r.id for r in survivors})
    if stale:  # a reason for a mutant that no longer survives (or no longer exists) misleads
        print(f"{len(stale)} entries of {EQUIVALENT.name} match no survivor: " + ", ".join(stale))
    return 1 if unexplained or stale else 0


def _table(results: list[Result], equivalent: dict[str, str]) -> list[str]:
    lines = [
        "## Results",
        "",
        "| file | generated | killed | survived | timed out | no tests | not checked | equivalent "
        "| score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [*FILES, "total"]
    for file in rows:
        rs = results if file == "total" else [r for r in results if r.file == file]
        c = Counter(r.status for r in rs)
        eq = sum(r.status not in ("killed", _NOT_CHECKED) and r.id in equivalent for r in rs)
        score = f"{100.0 * c['killed'] / len(rs):.1f}%" if rs else "-"
        name = "**total**" if file == "total" else f"`{file}`"
        lines.append(
            f"| {name} | {len(rs)} | {c['killed']} | {c['survived']} | {c['timeout']} "
            f"| {c['no tests']} | {c[_NOT_CHECKED]} | {eq} | {score} |"
        )
    lines += [
        "",
        "Score = killed / generated: equivalent mutants are *not* subtracted. *Equivalent* counts",
        "the survivors (and timeouts) shown below to be unobservable. *No tests*: mutmut found no",
        "test reaching the mutated function.",
    ]
    return lines


_SCOPE = [
    "## What is mutated",
    "",
    "mutmut 3 copies the package to `mutants/` and replaces each function and method with a",
    "trampoline that dispatches to the original or to one mutant; it runs only the tests that",
    "reached the function. It does **not** mutate: code at module level (the `Op(...)` registry",
    "entries of `ops.py`, with their `smooth=lambda ...` rules, module constants and aliases such",
    "as `_UNSET` and `_copysign = math.copysign`), class attributes (`__slots__`,",
    "`__radd__ = __add__`), and decorated functions other than `@staticmethod`/`@classmethod`",
    "(`@property` bodies, `detect_anomaly`). `mutation/extra.py` applies mutmut's own operators",
    "to exactly those nodes and runs each mutant against all the selected tests.",
    "",
    "Not mutated at all: imports, type annotations, docstrings, `__all__`, and the documentation",
    "text of the registry (`formula=`, `derivatives=`, `domain=`: the README's operator table).",
    "",
    "Tests run against each mutant: `tests/unit`, `tests/property`, `tests/reference` (torch, jax,",
    "sympy oracles; a missing oracle is a failure). None is deselected.",
]


def _duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mutation testing; writes docs/mutation.md.")
    parser.add_argument("--report", action="store_true", help="only rewrite the report")
    parser.add_argument("--extra-only", action="store_true", help="rerun only mutation/extra.py")
    parser.add_argument(
        "--parallel",
        action="store_true",
        help="run mutmut and extra.py at the same time (one worker each: two cores)",
    )
    args = parser.parse_args(argv)
    times: dict[str, float] = {}
    if TIMES.exists():
        times = json.loads(TIMES.read_text(encoding="utf-8"))
    if not args.report:
        if args.extra_only:
            times["extra"] = run_extra()
            times.pop("wall", None)
        elif args.parallel:
            times = run_both()
        else:
            times = {"mutmut": run_mutmut(), "extra": run_extra()}
        TIMES.write_text(json.dumps(times), encoding="utf-8")
    return write_report(times)


if __name__ == "__main__":
    raise SystemExit(main())
