"""Two versions of the engine side by side, in one process: the ratio of their times.

    python benchmarks/compare.py --before /path/to/other/checkout [--rounds 100]

The other checkout's ``micrograd`` package is imported under another name (it uses relative
imports only), and the same workloads run on both, alternating, with the cycle collector on:

- karpathy's demo step (``MLP(2, [16, 16, 1])``, 100 two-moons points, hinge loss + L2,
  forward, zero_grad, backward, SGD), and its forward and backward on their own;
- ``backward()`` of long graphs built fresh each round: the chain ``y = y * c + d``
  (100,000 steps), the chain ``y = y * x`` (200,000 nodes), a sum of 200,000 leaves.

Each figure is the median over the rounds; the ratio is after / before.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import demo_workload as moons  # next to this file


def load(checkout: Path, name: str) -> ModuleType:
    """The ``micrograd`` package of ``checkout``, imported as ``name``."""
    init = checkout / "micrograd" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(init.parent)]
    )
    if spec is None or spec.loader is None:
        raise SystemExit(f"compare.py: no micrograd package in {checkout}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def demo(pkg: Any, xs: list[list[float]], ys: list[float]) -> Callable[[int], tuple[float, ...]]:
    """One demo step a call: (forward, backward, step) seconds."""
    model = pkg.MLP(2, [16, 16, 1], rng=1337)
    params = model.parameters()
    value = pkg.Value

    def step(k: int) -> tuple[float, ...]:
        t0 = time.perf_counter()
        scores = [model.forward(x)[0] for x in xs]
        losses = [(1 + -y * s).relu() for y, s in zip(ys, scores, strict=True)]
        data_loss = sum(losses, value(0.0)) * (1.0 / len(losses))
        total = data_loss + moons.ALPHA * sum((p * p for p in params), value(0.0))
        t1 = time.perf_counter()
        model.zero_grad()
        total.backward()
        t2 = time.perf_counter()
        lr = moons.learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t0

    return step


def long_graphs(pkg: Any) -> dict[str, Callable[[], Any]]:
    value = pkg.Value
    leaves = [value(1.0) for _ in range(200_000)]

    def affine() -> Any:
        y = value(1.0)
        for _ in range(100_000):
            y = y * 0.999 + 0.001
        return y

    def chain() -> Any:
        x = value(1.0)
        y = x
        for _ in range(200_000):
            y = y * x
        return y

    return {
        "backward, y = y * c + d, 100,000 steps": affine,
        "backward, y = y * x, 200,000 nodes": chain,
        "backward, sum of 200,000 leaves": lambda: sum(leaves, value(0.0)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=100, help="demo steps per version")
    args = parser.parse_args(argv)
    after = load(Path(__file__).resolve().parent.parent, "micrograd_after")
    before = load(args.before.resolve(), "micrograd_before")
    xs, ys = moons.make_moons(100, noise=0.1, seed=0)
    pkgs = {"before": before, "after": after}
    steps = {n: demo(p, xs, ys) for n, p in pkgs.items()}
    times: dict[str, dict[str, list[float]]] = {n: {} for n in pkgs}
    for k in range(args.rounds):
        for n, step in steps.items():
            labels = ("demo forward", "demo backward", "demo step")
            for label, t in zip(labels, step(k % 100), strict=True):
                times[n].setdefault(label, []).append(t)
    graphs = {n: long_graphs(p) for n, p in pkgs.items()}
    for _ in range(max(3, args.rounds // 20)):
        for n, cases in graphs.items():
            for label, build in cases.items():
                out = build()
                t0 = time.perf_counter()
                out.backward()
                times[n].setdefault(label, []).append(time.perf_counter() - t0)
                del out
    print(f"before: {args.before}\nafter:  {Path(str(after.__file__)).parent.parent}")
    print(f"{'':42s} {'before (ms)':>12s} {'after (ms)':>11s} {'after/before':>13s}")
    for label in times["after"]:
        b = statistics.median(times["before"][label])
        a = statistics.median(times["after"][label])
        print(f"{label:42s} {b * 1e3:12.2f} {a * 1e3:11.2f} {a / b:12.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
