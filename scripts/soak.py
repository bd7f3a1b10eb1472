"""Run the verification report on micrograd for many seeds: a correct engine must never fail.

    python scripts/soak.py --profile default --seeds 500 --jobs 2
    python scripts/soak.py --profile thorough --seeds 20
    python scripts/soak.py --oracles none --seeds 500     # the laws alone, in a few minutes

Each seed is one full ``micrograd.verify.run`` (every operator against every requested oracle,
then the laws), in worker processes started fresh (JAX does not survive ``fork``). It prints
each failing seed with its counterexample and a summary, and exits 1 if any seed failed. This is
a soak test of the verdict, not a timed test: run it before changing a tolerance or a law.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from micrograd.verify import ORACLE_NAMES, PROFILES, run


def _one(seed: int, profile: str, oracles: tuple[str, ...]) -> tuple[int, bool, float, str]:
    report = run(profile=profile, seed=seed, oracles=oracles)
    failed = [c for c in report.cells if c.failed(strict=False)]
    text = "\n".join(f"  {c.label} / {c.against or 'law'}: {c.counterexample}" for c in failed)
    return seed, report.passed, report.seconds, text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", choices=list(PROFILES), default="default")
    p.add_argument("--seeds", type=int, default=500, help="how many seeds (default 500)")
    p.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument(
        "--oracles", default=",".join(ORACLE_NAMES), help="comma-separated, or 'none' (laws only)"
    )
    args = p.parse_args(argv)
    oracles = () if args.oracles == "none" else tuple(args.oracles.split(","))
    seeds = range(args.start, args.start + args.seeds)
    start = time.perf_counter()
    failures: list[int] = []
    done = 0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
        futures = [pool.submit(_one, s, args.profile, oracles) for s in seeds]
        for future in as_completed(futures):
            seed, passed, seconds, text = future.result()
            done += 1
            if not passed:
                failures.append(seed)
                print(f"seed {seed}: FAILED ({seconds:.1f} s)\n{text}", flush=True)
            elif done % 10 == 0 or done == len(seeds):
                elapsed = time.perf_counter() - start
                print(
                    f"{done}/{len(seeds)} seeds, {len(failures)} failed, {elapsed:.0f} s",
                    flush=True,
                )
    elapsed = time.perf_counter() - start
    print(
        f"profile {args.profile}, oracles {','.join(oracles) or 'none'}, seeds "
        f"{seeds.start}..{seeds.stop - 1}: {len(failures)} of {len(seeds)} failed "
        f"({elapsed:.0f} s){': ' + ', '.join(map(str, sorted(failures))) if failures else ''}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
