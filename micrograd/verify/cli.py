"""``micrograd verify [--engine TARGET]``: one command line for micrograd and for other engines.

Exit status: 0 when every check holds, 1 when one fails, 2 for bad arguments, 3 when Hypothesis
or a requested oracle is not installed, 4 when the engine could not be loaded; 130 after Ctrl-C
and 141 when the reader of the output has gone (``micrograd.cli``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, TextIO

from .process import MEMORY

if TYPE_CHECKING:
    from .pipeline import Progress
    from .report import Report, Table

__all__ = [
    "CI_SEED",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_MISSING",
    "EXIT_NOT_LOADED",
    "EXIT_OK",
    "EXIT_USAGE",
    "default_seed",
    "in_ci",
    "main",
    "seed_argument",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISSING, EXIT_NOT_LOADED = 0, 1, 2, 3, 4
#: After Ctrl-C: 128 + SIGINT, as a shell reports it.
EXIT_INTERRUPTED = 130
#: The seed of a run under CI (``CI`` set) when none is given: a gate must give the same verdict
#: on every run of the same code. ``--seed random`` opts in to a fresh one.
CI_SEED = 0
_ENGINE_ONLY = "[--engine only] "
_MICROGRAD_ONLY = "[not with --engine] "


def in_ci() -> bool:
    """Whether the ``CI`` environment variable says this is a CI job."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def seed_argument(text: str) -> int | Literal["random"]:
    """``--seed``: an integer, or ``random`` for a fresh seed."""
    if text == "random":
        return "random"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seed takes an integer or 'random', got {text!r}"
        ) from None


def default_seed(given: int | Literal["random"] | None) -> int:
    """The seed a run uses: the one given; a fresh one for ``random``; when none is given,
    ``CI_SEED`` under CI (derandomised) and a fresh one elsewhere."""
    if isinstance(given, int):
        return given
    if given is None and in_ci():
        return CI_SEED
    return random.randrange(2**32)


def _parser() -> argparse.ArgumentParser:
    from ..testing.opinfo import OPERATIONS
    from .pipeline import PROFILES
    from .subjects import REFERENCES

    p = argparse.ArgumentParser(
        prog="micrograd verify",
        description="Check micrograd against finite differences, PyTorch, JAX and an exact "
        "symbolic oracle, or (--engine) another scalar autograd engine against micrograd: "
        "every operation, the laws of differentiation, and (--engine) IEEE edge cases; and "
        "how deep a graph backward() handles.",
        epilog="Exit status: 0 every check holds, 1 a check failed, 2 bad arguments, 3 "
        "Hypothesis or a requested oracle is missing, 4 the engine could not be loaded, "
        "130 interrupted.",
    )
    from .. import __version__

    p.add_argument("--version", action="version", version=f"micrograd-verified {__version__}")
    p.add_argument(
        "--engine",
        metavar="TARGET",
        help="check this engine instead of micrograd: a module (pkg.engine), a .py file or a "
        "package directory, optionally :Name for the value class or an Adapter subclass",
    )
    p.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="default",
        help="random examples per check (quick 10, default 40, thorough 400)",
    )
    p.add_argument(
        "--seed",
        type=seed_argument,
        help="replay a run: the seed it printed; 'random' for a fresh one (the "
        f"default, except under CI, where it is {CI_SEED})",
    )
    p.add_argument(
        "--ops", help=f"comma-separated operations to check (default: all): {', '.join(OPERATIONS)}"
    )
    p.add_argument(
        "--oracles",
        help=f"comma-separated references to check micrograd against (default: "
        f"{','.join(REFERENCES)}); with --engine, the oracles shown next to each "
        f"failure (default: those installed; 'none' for none)",
    )
    p.add_argument("--require", help="comma-separated operations that must be supported")
    p.add_argument(
        "--strict",
        action="store_true",
        help="conventions, edges and the depth limit fail the run too",
    )
    p.add_argument(
        "--min-depth",
        type=int,
        default=0,
        help="fail unless backward() works on a chain this long (100 to 100000)",
    )
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failing check")
    p.add_argument(
        "--jobs",
        type=_jobs_argument,
        metavar="N",
        help=_MICROGRAD_ONLY + "processes to check in: 1, or 2 to check the rows by turns in a "
        "second process, the same table sooner (default: 2 with two CPUs or more, except with "
        "--fail-fast)",
    )
    p.add_argument(
        "--json",
        metavar="PATH",
        help="write machine-readable results here ('-': standard output, instead of the table)",
    )
    p.add_argument("--markdown", metavar="PATH", help="write a Markdown summary here (for CI)")
    p.add_argument(
        "--junit",
        metavar="PATH",
        help="write JUnit XML here: one test case per check (for CI test reports)",
    )
    p.add_argument(
        "--annotations",
        choices=["github"],
        help="also print the failures as GitHub Actions annotations",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help=_ENGINE_ONLY
        + "seconds one program may take before the engine counts as hung (default 5)",
    )
    p.add_argument(
        "--import-timeout",
        type=float,
        default=120.0,
        help=_ENGINE_ONLY + "seconds importing the engine may take (default 120)",
    )
    p.add_argument(
        "--memory",
        type=int,
        default=MEMORY,
        metavar="MIB",
        help=_ENGINE_ONLY
        + f"memory the engine's process may allocate, in MiB (default {MEMORY:,}); beyond, its "
        "allocations fail with MemoryError",
    )
    return p


def _jobs_argument(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(
            f"--jobs takes a whole number of processes >= 1, got {text!r}"
        )
    return jobs


def _cpus() -> int:
    """How many CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _names(parser: argparse.ArgumentParser, option: str, text: str | None) -> list[str]:
    """A comma-separated list of operations (older kit names accepted), without repeats."""
    from ..testing.opinfo import ALIASES, OPERATIONS

    if text is None:
        return []
    names = [ALIASES.get(n.strip(), n.strip()) for n in text.split(",")]
    unknown = [n for n in names if n not in OPERATIONS]
    if unknown:
        parser.error(
            f"{option}: unknown operation(s) {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(OPERATIONS)})"
        )
    return list(dict.fromkeys(names))


def _writable(path: str) -> bool:
    """Whether ``path`` can be written: an existing file that is writable, or a new one in a
    directory that is."""
    if os.path.isdir(path):
        return False
    if os.path.exists(path):
        return os.access(path, os.W_OK)
    return os.access(os.path.dirname(os.path.abspath(path)), os.W_OK)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    from ..testing.oracles import ORACLES
    from .pipeline import DEPTHS, PROFILES
    from .subjects import REFERENCES

    stream = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    outputs = (("--json", args.json), ("--markdown", args.markdown), ("--junit", args.junit))
    for option, path in outputs:
        if path is not None and path != "-" and not _writable(path):
            parser.error(f"{option}: cannot write {path!r} (no such directory, or not writable)")
    for option, path in outputs[1:]:
        if path == "-":
            parser.error(f"{option}: give a file; '-' (standard output) is for --json")
    as_json = args.json == "-"
    if as_json:  # the table goes to standard error, the document alone to standard output
        stream, json_out = (sys.stderr if out is None else out), stream
    ops = _names(parser, "--ops", args.ops) or None
    require = _names(parser, "--require", args.require)
    for option, seconds in (("--timeout", args.timeout), ("--import-timeout", args.import_timeout)):
        if not (math.isfinite(seconds) and seconds > 0):
            parser.error(f"{option} takes a finite number of seconds above 0, got {seconds!r}")
    if args.jobs is not None and args.engine:
        parser.error("--jobs: the engine is checked in one process of its own; drop --jobs")
    if args.memory < 64:
        parser.error(f"--memory takes a whole number of MiB, at least 64, got {args.memory}")
    if not 0 <= args.min_depth <= DEPTHS[-1]:
        parser.error(
            f"--min-depth: the depth check goes from 0 to {DEPTHS[-1]:,}, got {args.min_depth}"
        )
    known = list(ORACLES) if args.engine else list(REFERENCES)
    oracles: list[str] | None = None if args.engine else known
    if args.oracles is not None:
        oracles = [] if args.oracles == "none" else [o.strip() for o in args.oracles.split(",")]
        bad = [o for o in oracles if o not in known]
        if bad or (not oracles and not args.engine):
            parser.error(
                f"--oracles: unknown {', '.join(map(repr, bad)) or 'none'} "
                f"(known: {', '.join(known)})"
            )

    from importlib.util import find_spec

    from .. import _install
    from .._install import install_command

    for problem in _install.report():  # first: it can make every verdict wrong
        print(f"warning: {problem}", file=sys.stderr)

    if find_spec("hypothesis") is None:
        print(
            f"micrograd verify needs Hypothesis: {install_command('testing')}",
            file=sys.stderr,
        )
        return EXIT_MISSING
    missing = [ORACLES[o] for o in oracles or () if o in ORACLES and not ORACLES[o].available()]
    if missing:
        for o in missing:
            print(f"oracle {o.name} is not installed: {o.install}", file=sys.stderr)
        print("(choose the oracles with --oracles)", file=sys.stderr)
        return EXIT_MISSING

    from . import check_engine, run
    from .report import Report, header

    seed = default_seed(args.seed)
    subject = args.engine or "micrograd"
    # the seed first: a job killed by its timeout still shows how to replay it
    first = Report(subject, args.profile, PROFILES[args.profile], seed, [], ours=not args.engine)
    stream.write(header(first) + "\n\n")
    stream.flush()
    live = _Live(stream, interactive=stream.isatty() and not in_ci(), colour=colour(stream))
    common = {
        "profile": args.profile,
        "seed": seed,
        "strict": args.strict,
        "require": require,
        "min_depth": args.min_depth,
        "fail_fast": args.fail_fast,
        "ops": ops,
        "progress": live,
    }
    # Hypothesis keeps a cache in .hypothesis/ of the working directory: not in the user's
    try:
        with tempfile.TemporaryDirectory(prefix="micrograd-verify-") as scratch:
            os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", scratch)
            if args.engine:
                report = check_engine(
                    args.engine,
                    timeout=args.timeout,
                    import_timeout=args.import_timeout,
                    memory=args.memory,
                    oracles=oracles,
                    **common,
                )
            else:
                assert oracles is not None
                jobs = args.jobs if args.jobs is not None else min(2, _cpus())
                report = run(oracles=oracles, jobs=jobs, **common)
    except KeyboardInterrupt:
        live.interrupted(seed)
        return EXIT_INTERRUPTED
    live.finish(report)
    if as_json:
        json_out.write(json.dumps(report.to_json(), indent=2, allow_nan=False) + "\n")
    elif args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report.to_json(), fh, indent=2, allow_nan=False)
    if args.markdown:
        from .report import format_report

        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(
                f"## {header(report)}\n\n" + format_report(report, markdown=True, first_line=False)
            )
    if args.junit:
        from .report import junit

        with open(args.junit, "w", encoding="utf-8") as fh:
            fh.write(junit(report))
    if args.annotations == "github":
        from .report import github_annotations

        stream.write("".join(line + "\n" for line in github_annotations(report)))
    if report.load_error is not None:
        return EXIT_NOT_LOADED
    return EXIT_OK if report.passed else EXIT_FAILED


class _Live:
    """What the command line shows while a run goes on: each row of the table as it ends and,
    on a terminal, a progress line (checks done and planned, seconds so far and left)."""

    def __init__(self, stream: TextIO, *, interactive: bool, colour: bool) -> None:
        self.stream, self.interactive, self.colour = stream, interactive, colour
        self.started = time.monotonic()
        self.report: Report | None = None
        self.table: Table | None = None
        self.shown: set[str] = set()  # the keys of the rows printed
        self.planned = self.done = 0
        self.preamble = False  # whether the lines before the table are printed
        self.status = False  # whether a progress line is on the screen

    def __call__(self, step: Progress) -> None:
        from .report import Table, preamble

        self.report, self.planned, self.done = step.report, step.planned or self.planned, step.done
        if not self.preamble and step.report.engine:
            self.preamble = True
            self.write(preamble(step.report))
        if self.table is None and step.labels:
            self.preamble = True
            self.table = Table(step.report, step.labels)
            self.write(self.table.head())
        if step.finished and self.table is not None:
            self.shown.add(step.finished)
            self.write([self.table.line(step.finished)])
        if self.interactive and step.checking:
            self.progress(step.checking)

    def write(self, lines: Sequence[str]) -> None:
        text = "".join(line + "\n" for line in lines)
        self.stream.write(
            ("\r\033[K" if self.status else "") + (coloured(text) if self.colour else text)
        )
        self.stream.flush()
        self.status = False

    def progress(self, checking: str) -> None:
        done = self.done
        elapsed = time.monotonic() - self.started
        counts = f"{done} of {self.planned} checks" if self.planned else f"{done} checks"
        left = ""
        if done and self.planned > done:
            left = f", about {elapsed / done * (self.planned - done):.0f} s left"
        line = f"  [{counts}, {elapsed:.0f} s{left}] checking {checking} ..."
        width = shutil.get_terminal_size().columns - 1
        self.stream.write("\r\033[K" + (line if len(line) <= width else line[: width - 3] + "..."))
        self.stream.flush()
        self.status = True

    def finish(self, report: Report) -> None:
        """Print the rest: the rows not printed yet, the findings, failures and verdict."""
        from .report import Table, conclusion, preamble, verdict

        lines = [] if self.preamble else preamble(report)
        if report.load_error:
            lines += [report.load_error, "", verdict(report)]
        else:
            rows = list(dict.fromkeys(c.key for c in report.cells))
            if self.table is None:
                self.table = Table(report)
                lines += self.table.head()
            lines += [self.table.line(key) for key in rows if key not in self.shown]
            lines += conclusion(report)
        self.write(lines)

    def interrupted(self, seed: int) -> None:
        """After Ctrl-C: what was checked, to standard error (the table so far is printed)."""
        cells = self.report.cells if self.report else []
        done = [c for c in cells if c.key in self.shown]
        failed = sum(c.failed(self.report.strict) for c in done) if self.report else 0
        if self.status:
            self.stream.write("\r\033[K")
            self.stream.flush()
        of = f" of {self.planned}" if self.planned else ""
        seconds = time.monotonic() - self.started
        sys.stdout.flush()
        print(
            f"\ninterrupted after {len(done)}{of} checks ({failed} failed), {seconds:.1f} s: "
            f"no verdict (replay with --seed {seed})",
            file=sys.stderr,
        )


def colour(stream: TextIO) -> bool:
    """Whether to colour what goes to ``stream``: a terminal, unless ``NO_COLOR`` is set (any
    value but empty, as https://no-color.org asks) or ``TERM`` is ``dumb``; ``FORCE_COLOR``
    colours anything."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"


_RED, _GREEN, _YELLOW, _RESET = "\033[31m", "\033[32m", "\033[33m", "\033[0m"
_VERDICT = re.compile(r"^(VERIFIED|CONFORMS|FAILED|DOES NOT CONFORM|NOT CHECKED)(:)", re.M)
_STATUS = re.compile(r"(?<=  )(FAIL|differs|limited)(?= \(| {2}|$)", re.M)


def coloured(text: str) -> str:
    """The report with failing cells and the verdict in red, a passing verdict in green."""

    def verdict(m: re.Match[str]) -> str:
        ok = m.group(1) in ("VERIFIED", "CONFORMS")
        return f"{_GREEN if ok else _RED}{m.group(1)}{_RESET}{m.group(2)}"

    def status(m: re.Match[str]) -> str:
        return f"{_RED if m.group(1) == 'FAIL' else _YELLOW}{m.group(1)}{_RESET}"

    return _VERDICT.sub(verdict, _STATUS.sub(status, text))
