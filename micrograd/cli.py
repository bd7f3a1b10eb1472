"""Command line: ``python -m micrograd`` (or ``micrograd``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

try:
    from . import MLP, OPS, Value, _interrupt
except ImportError as exc:  # another distribution's micrograd/__init__.py replaced this one's
    from ._install import broken

    print(broken(exc), file=sys.stderr)
    raise SystemExit(3) from None  # as for a missing dependency

__all__ = ["main", "operator_table"]


def operator_table() -> str:
    """The registry as a Markdown table: one row per primitive operator."""
    rows = [
        "| operator | Python | value | derivative | domain and special points |",
        "|---|---|---|---|---|",
    ]
    for op in OPS.values():
        names = ("x",) if op.arity == 1 else ("a", "b")
        syntax = op.syntax.format(*names, c="c")
        if op.arity == 1:
            derivative = f"d/dx: {op.derivatives[0]}"
        else:
            derivative = "; ".join(
                f"d/d{n}: {d}" for n, d in zip(names, op.derivatives, strict=True)
            )
        rows.append(f"| `{op.name}` | `{syntax}` | {op.formula} | {derivative} | {op.domain} |")
    return "\n".join(rows) + "\n"


def _demo() -> int:
    a, b = Value(2.0), Value(-3.0)
    c = a * b + 10
    c.backward()
    print(f"c = a*b + 10 = {c.data}; dc/da = {a.grad}, dc/db = {b.grad}")

    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    model = MLP(3, [4, 4, 1], nonlin="tanh", rng=0)
    print(f"training {model} on 4 samples, squared error, learning rate 0.05")
    for step in range(20):
        preds = [model.forward(x)[0] for x in xs]
        loss = sum(((p - y) ** 2 for p, y in zip(preds, ys, strict=True)), Value(0.0))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
        print(f"step {step:2d}  loss {loss.data:.6f}")
    return 0


#: Exit status after Ctrl-C (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130
#: Exit status when the reader of the output has gone (``| head``): 128 + SIGPIPE.
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; Ctrl-C stops it with status 130, a closed pipe with 141, quietly."""
    try:
        with _interrupt.interruptible():
            return _main(argv)
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("\ninterrupted: no verdict", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # nothing more can reach the reader; keep the interpreter's final flush from failing too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["verify"]:
        from .verify import main as verify

        return verify(args_list[1:])
    from . import __version__

    if "--version" in args_list:  # where one looks after installing: say what is wrong with it
        from . import _install

        for problem in _install.report():
            print(f"warning: {problem}", file=sys.stderr)
    parser = argparse.ArgumentParser(prog="micrograd", description=__doc__)
    parser.add_argument("--version", action="version", version=f"micrograd-verified {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "verify",
        help="the verification report: every operator against every oracle "
        "(see: micrograd verify --help)",
    )
    sub.add_parser("demo", help="the classic examples: a*b+10 and a tiny MLP learning 4 samples")
    sub.add_parser("ops", help="print the operator registry as a Markdown table")
    acc = sub.add_parser(
        "accuracy",
        help="per-operator error in ulps of micrograd, PyTorch and JAX against the exact oracle",
    )
    acc.add_argument("--points", type=int, default=1000, help="inputs per operator (default 1000)")
    acc.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    acc.add_argument("--output", metavar="PATH", help="write the Markdown table here")
    args = parser.parse_args(args_list)
    if args.command == "accuracy" and args.points < 1:
        acc.error(f"--points must be at least 1, got {args.points}")
    if args.command == "ops":
        sys.stdout.write(operator_table())
        return 0
    if args.command == "accuracy":
        return _accuracy(args.points, args.seed, args.output)
    return _demo()


def _accuracy(points: int, seed: int, output: str | None) -> int:
    from .testing.accuracy import measure, table
    from .testing.oracles import ORACLES

    missing = [o.install for o in ORACLES.values() if not o.available()]
    if missing:
        print("the accuracy table needs every oracle:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 3
    text = table(measure(points=points, seed=seed), points=points, seed=seed)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write("# Accuracy against the exact oracle\n\n" + text)
    sys.stdout.write(text)
    return 0
