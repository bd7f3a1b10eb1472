"""The verification report: every operator against every oracle, and the laws of differentiation.

``python -m micrograd verify`` (or ``micrograd verify``) draws random expressions with
Hypothesis — per operator and mixed — and checks micrograd's values and gradients against
finite differences, PyTorch, JAX and the exact symbolic oracle, then checks the gradient laws.
It prints a table (operator by oracle: examples, largest error, pass/fail), the seed that
replays the run, the minimal counterexample of each failure as a runnable snippet, and a
verdict. Exit status: 0 when everything holds, 1 when a check fails, 3 when a requested oracle
is not installed, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TextIO

from . import _interrupt
from .ops import OPS

__all__ = [
    "EXIT_FAILED",
    "EXIT_MISSING_ORACLE",
    "EXIT_OK",
    "EXIT_USAGE",
    "ORACLE_NAMES",
    "PROFILES",
    "main",
    "run",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_MISSING_ORACLE = 3

#: Examples per (operator, oracle) cell and per law, for each effort level.
PROFILES: dict[str, int] = {"quick": 10, "default": 40, "thorough": 400}

ORACLE_NAMES: tuple[str, ...] = ("fd", "torch", "jax", "sympy")
#: The seed of a run under CI (``CI`` set) when none is given: a gate must give the same verdict
#: on every run of the same code. ``--seed random`` opts in to a fresh one.
CI_SEED = 0
#: Relative errors are reported where the reference value is at least this large.
REL_FLOOR = 1e-6
MIXED = "mixed"


class _Mismatch(AssertionError):
    """Raised inside a check with the details of a disagreement."""

    def __init__(self, expr: Any, message: str) -> None:
        super().__init__(message)
        self.expr = expr
        self.message = message


@dataclass
class Cell:
    """One operator checked against one oracle."""

    row: str
    oracle: str
    examples: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ulps: float | None = None
    seconds: float = 0.0
    passed: bool = True
    counterexample: str | None = None

    def status(self) -> str:
        return "pass" if self.passed else "FAIL"


@dataclass
class Report:
    seed: int
    profile: str
    examples: int
    oracles: list[str]
    ops: list[str]
    cells: list[Cell] = field(default_factory=list)
    laws: list[Cell] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.cells) and all(c.passed for c in self.laws)


def _errors(cell: Cell, ours: Sequence[float], theirs: Sequence[float], exact: bool) -> None:
    from .testing.compare import ulps

    for a, b in zip(ours, theirs, strict=True):
        if not (math.isfinite(a) and math.isfinite(b)):
            continue
        diff = abs(a - b)
        cell.max_abs = max(cell.max_abs, diff)
        if abs(b) >= REL_FLOOR:  # relative to a reference that is rounding residue means nothing
            cell.max_rel = max(cell.max_rel, diff / abs(b))
        if exact:
            cell.max_ulps = max(cell.max_ulps or 0.0, ulps(a, b))


def _check_oracle(cell: Cell, oracle_name: str) -> Callable[[Any], None]:
    from .testing.compare import compare
    from .testing.oracles import ORACLES, micrograd_evaluation

    oracle = ORACLES[oracle_name]

    def check(expr: Any) -> None:
        ours = micrograd_evaluation(expr)
        theirs = oracle.evaluate(expr)
        for p in range(len(expr.points)):
            mine = [ours.values[p], *ours.grads[p]]
            _errors(cell, mine, [theirs.values[p], *theirs.grads[p]], oracle.exact)
        problems = compare(expr, ours, theirs, absolute=oracle.absolute)
        if problems:
            point = problems[0].point
            p = expr.points.index(point)
            lines = [f"micrograd and {oracle_name} disagree on {expr.source()}:"]
            lines += [f"  {d}" for d in problems]
            lines += [
                f"  micrograd: value {ours.values[p]!r}, gradient {list(ours.grads[p])}",
                f"  {oracle_name}: value {theirs.values[p]!r}, gradient {list(theirs.grads[p])}",
            ]
            raise _Mismatch(expr.with_points([point]), "\n".join(lines))

    return check


def _check_fd(cell: Cell) -> Callable[[Any], None]:
    from .testing import check_expr, numerical_grad

    def check(expr: Any) -> None:
        for point in expr.points:
            _, grads = expr.value_and_grad(point)
            numeric = [fd.value for fd in numerical_grad(expr.evaluate, point)]
            _errors(cell, grads, numeric, exact=False)
        try:
            check_expr(expr)
        except AssertionError as exc:
            raise _Mismatch(expr, str(exc).split("\nReproduce with:")[0]) from None

    return check


def _run_cell(cell: Cell, strategy: Any, check: Callable[[Any], None], cfg: Report) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    @hypothesis_seed(cfg.seed)
    @settings(
        max_examples=cfg.examples,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        phases=[Phase.generate, Phase.shrink],
        report_multiple_bugs=False,
    )
    @given(expr=strategy)
    def prop(expr: Any) -> None:
        _interrupt.check()
        cell.examples += 1
        check(expr)

    start = time.perf_counter()
    try:
        prop()
    except _Mismatch as exc:
        cell.passed = False
        cell.counterexample = f"{exc.message}\nReproduce with:\n\n{exc.expr.snippet()}\n"
    cell.seconds = time.perf_counter() - start


def _law_check(law: Callable[[Any], str | None]) -> Callable[[Any], None]:
    def check(expr: Any) -> None:
        problem = law(expr)
        if problem is not None:
            raise _Mismatch(expr.with_points(expr.points[:1]), problem)

    return check


def run(
    *,
    ops: Sequence[str] | None = None,
    oracles: Sequence[str] = ORACLE_NAMES,
    profile: str = "default",
    seed: int | None = None,
    fail_fast: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run the verification; see the module docstring."""
    from .testing import expressions

    names = list(ops) if ops else list(OPS)
    cfg = Report(
        seed=seed if seed is not None else random.randrange(2**32),
        profile=profile,
        examples=PROFILES[profile],
        oracles=list(oracles),
        ops=names,
    )
    start = time.perf_counter()
    rows = [(name, expressions(ops=[name], require=name, max_nodes=3, points=8)) for name in names]
    rows.append((MIXED, expressions(ops=names, max_nodes=8, max_inputs=4, points=8)))
    for row, strategy in rows:
        for oracle in cfg.oracles:
            cell = Cell(row, oracle)
            check = _check_fd(cell) if oracle == "fd" else _check_oracle(cell, oracle)
            if progress:
                progress(f"{row} / {oracle}")
            _run_cell(cell, strategy, check, cfg)
            cfg.cells.append(cell)
            if fail_fast and not cell.passed:
                cfg.seconds = time.perf_counter() - start
                return cfg
    from .testing.laws import LAWS

    for law, rule in LAWS:
        cell = Cell(law, "laws")
        if progress:
            progress(law)
        _run_cell(cell, expressions(ops=names, max_nodes=6, points=1), _law_check(rule), cfg)
        cfg.laws.append(cell)
        if fail_fast and not cell.passed:
            break
    cfg.seconds = time.perf_counter() - start
    return cfg


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if x == 0.0:
        return "0"
    return f"{x:.1e}" if x < 1e-2 or x >= 1e4 else f"{x:.3g}"


def format_table(report: Report, *, markdown: bool = False) -> str:
    """The operator by oracle table (plain text, or Markdown for CI summaries)."""
    by = {(c.row, c.oracle): c for c in report.cells}
    rows = list(dict.fromkeys(c.row for c in report.cells))
    head = [
        "operator",
        *[
            f"{o} (examples, max abs / rel{', ulps' if o == 'sympy' else ''})"
            for o in report.oracles
        ],
    ]
    body = []
    for row in rows:
        line = [row]
        for o in report.oracles:
            c = by.get((row, o))
            if c is None:
                line.append("not run")
                continue
            ulps = f", {_fmt(c.max_ulps)} ulps" if c.max_ulps is not None else ""
            line.append(f"{c.status()} ({c.examples}, {_fmt(c.max_abs)} / {_fmt(c.max_rel)}{ulps})")
        body.append(line)
    for law in report.laws:
        body.append(
            [
                f"law: {law.row}",
                f"{law.status()} ({law.examples})",
                *[""] * (len(report.oracles) - 1),
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(lines) + "\n"
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [head, *body]) + "\n"


def verdict(report: Report) -> str:
    failed = [c for c in [*report.cells, *report.laws] if not c.passed]
    checks = len(report.cells) + len(report.laws)
    examples = sum(c.examples for c in [*report.cells, *report.laws])
    if not failed:
        return (
            f"VERIFIED: all {checks} checks hold ({examples} examples, {report.seconds:.1f} s, "
            f"seed {report.seed})."
        )
    return (
        f"FAILED: {len(failed)} of {checks} checks failed ({examples} examples, "
        f"{report.seconds:.1f} s, seed {report.seed})."
    )


def to_json(report: Report) -> dict[str, Any]:
    data = asdict(report)
    data["passed"] = report.passed
    data["verdict"] = verdict(report)
    return data


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
    p = argparse.ArgumentParser(
        prog="micrograd verify",
        description="Check micrograd against finite differences, PyTorch, JAX and an exact "
        "symbolic oracle, for every operator, and the laws of differentiation.",
    )
    p.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="default",
        help="effort: examples per check (quick 10, default 40, thorough 400)",
    )
    p.add_argument(
        "--seed",
        type=seed_argument,
        help=f"replay a run: the seed it printed; 'random' for a fresh one (the default, "
        f"except under CI, where it is {CI_SEED})",
    )
    p.add_argument("--ops", help="comma-separated operators to check (default: all)")
    p.add_argument("--oracles", help=f"comma-separated oracles (default: {','.join(ORACLE_NAMES)})")
    p.add_argument("--json", metavar="PATH", help="write machine-readable results here")
    p.add_argument("--markdown", metavar="PATH", help="write a Markdown summary here (for CI)")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failing check")
    p.add_argument(
        "--engine",
        metavar="TARGET",
        help="check another engine instead (the conformance kit; see "
        "micrograd verify --engine TARGET --help)",
    )
    return p


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a == "--engine" or a.startswith("--engine=") for a in argv):
        from .conformance.cli import main as conformance

        return conformance(argv, out=out)
    stream = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    ops = [o.strip() for o in args.ops.split(",")] if args.ops else None
    unknown = [o for o in ops or [] if o not in OPS]
    if unknown:
        parser.error(f"unknown operator(s): {', '.join(unknown)} (known: {', '.join(OPS)})")
    oracles = [o.strip() for o in args.oracles.split(",")] if args.oracles else list(ORACLE_NAMES)
    bad = [o for o in oracles if o not in ORACLE_NAMES]
    if bad:
        parser.error(f"unknown oracle(s): {', '.join(bad)} (known: {', '.join(ORACLE_NAMES)})")

    from importlib.util import find_spec

    from .testing.oracles import ORACLES

    missing = [ORACLES[o] for o in oracles if o != "fd" and not ORACLES[o].available()]
    if find_spec("hypothesis") is None:
        hint = 'pip install "micrograd-verified[verify]"'
        print(f"micrograd verify needs Hypothesis: {hint}", file=sys.stderr)
        return EXIT_MISSING_ORACLE
    if missing:
        for o in missing:
            print(f"oracle {o.name} is not installed: {o.install}", file=sys.stderr)
        print("(choose the oracles to run with --oracles)", file=sys.stderr)
        return EXIT_MISSING_ORACLE

    interactive = stream.isatty() and not in_ci()
    seed = default_seed(args.seed)
    # the seed first: a job killed by its timeout still shows how to replay it
    stream.write(
        f"micrograd verify: profile {args.profile} ({PROFILES[args.profile]} examples per check), "
        f"seed {seed} (replay with --seed {seed})\n\n"
    )
    stream.flush()

    def progress(what: str) -> None:
        stream.write(f"\r\033[K  checking {what} ...")
        stream.flush()

    report = run(
        ops=ops,
        oracles=oracles,
        profile=args.profile,
        seed=seed,
        fail_fast=args.fail_fast,
        progress=progress if interactive else None,
    )
    if interactive:
        stream.write("\r\033[K")
    stream.write(format_table(report))
    for cell in [*report.cells, *report.laws]:
        if cell.counterexample:
            stream.write(f"\n{cell.row} / {cell.oracle}: {cell.counterexample}")
    stream.write(f"\n{verdict(report)}\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(to_json(report), fh, indent=2)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(f"## micrograd verify\n\n{format_table(report, markdown=True)}\n")
            fh.write(f"{verdict(report)}\n")
            for cell in [*report.cells, *report.laws]:
                if cell.counterexample:
                    fh.write(f"\n### {cell.row} / {cell.oracle}\n\n```\n{cell.counterexample}```\n")
    return EXIT_OK if report.passed else EXIT_FAILED
