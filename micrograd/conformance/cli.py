"""``micrograd verify --engine TARGET``: the conformance kit's command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from ..verify import CI_SEED, default_seed, in_ci, seed_argument
from .kit import PROFILES, check_engine, format_report
from .program import OPERATIONS

__all__ = ["EXIT_FAILED", "EXIT_MISSING", "EXIT_NOT_LOADED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_MISSING = 3
EXIT_NOT_LOADED = 4


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="micrograd verify --engine",
        description="Check another scalar autograd engine (karpathy/micrograd style) against "
        "micrograd and the oracles: every operation, the laws of backpropagation, IEEE edge "
        "cases and deep graphs. Exit status: 0 conforms, 1 a check failed, 2 bad arguments, "
        "3 a requested oracle or Hypothesis is missing, 4 the engine could not be loaded.",
    )
    p.add_argument(
        "--engine",
        required=True,
        metavar="TARGET",
        help="a module (pkg.engine), a .py file or a package directory, optionally followed "
        "by :Name for the value class or an Adapter subclass (default: Value, or the one "
        "Adapter subclass)",
    )
    p.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="default",
        help="random programs per check (quick 10, default 40, thorough 400)",
    )
    p.add_argument(
        "--seed",
        type=seed_argument,
        help=f"replay a run: the seed it printed; 'random' for a fresh one (the default, "
        f"except under CI, where it is {CI_SEED})",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="seconds one program may take before the engine counts as hung (default 5)",
    )
    p.add_argument(
        "--import-timeout",
        type=float,
        default=120.0,
        help="seconds importing the engine may take (default 120)",
    )
    p.add_argument(
        "--require",
        help="comma-separated operations that must be supported (else they fail); "
        f"names: {', '.join(OPERATIONS)}",
    )
    p.add_argument(
        "--min-depth",
        type=int,
        default=0,
        help="fail unless backward() works on a chain this long (100, 1000, 10000, 100000)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="the semantics, edge and depth rows fail the run too",
    )
    p.add_argument(
        "--oracles",
        help="comma-separated oracles shown next to failures (default: those installed; "
        "'none' for none)",
    )
    p.add_argument("--json", metavar="PATH", help="write machine-readable results here")
    p.add_argument("--markdown", metavar="PATH", help="write a Markdown summary here (for CI)")
    return p


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    require = [r.strip() for r in args.require.split(",")] if args.require else []
    unknown = [r for r in require if r not in OPERATIONS]
    if unknown:
        parser.error(f"unknown operation(s): {', '.join(unknown)} (known: {', '.join(OPERATIONS)})")
    if args.timeout <= 0 or args.import_timeout <= 0:
        parser.error("timeouts must be positive")

    from importlib.util import find_spec

    from ..testing.oracles import ORACLES

    if find_spec("hypothesis") is None:
        print(
            'the conformance kit needs Hypothesis: pip install "micrograd-verified[testing]"',
            file=sys.stderr,
        )
        return EXIT_MISSING
    oracles: list[str] | None = None
    if args.oracles:
        oracles = [] if args.oracles == "none" else [o.strip() for o in args.oracles.split(",")]
        bad = [o for o in oracles if o not in ORACLES]
        if bad:
            parser.error(f"unknown oracle(s): {', '.join(bad)} (known: {', '.join(ORACLES)})")
        missing = [ORACLES[o] for o in oracles if not ORACLES[o].available()]
        if missing:
            for o in missing:
                print(f"oracle {o.name} is not installed: {o.install}", file=sys.stderr)
            return EXIT_MISSING

    interactive = stream.isatty() and not in_ci()

    def progress(what: str) -> None:
        stream.write(f"\r\033[K  checking {what} ...")
        stream.flush()

    report = check_engine(
        args.engine,
        profile=args.profile,
        seed=default_seed(args.seed),
        timeout=args.timeout,
        import_timeout=args.import_timeout,
        strict=args.strict,
        require=require,
        min_depth=args.min_depth,
        oracles=oracles,
        progress=progress if interactive else None,
    )
    if interactive:
        stream.write("\r\033[K")
    stream.write(format_report(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report.to_json(), fh, indent=2)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write("## micrograd verify --engine\n\n" + format_report(report, markdown=True))
    if report.load_error is not None:
        return EXIT_NOT_LOADED
    return EXIT_OK if report.passed else EXIT_FAILED
