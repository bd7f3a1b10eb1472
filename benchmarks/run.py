"""Side-by-side benchmarks of the engine, in one process and one run.

    python benchmarks/run.py              # the full run (a few minutes)
    python benchmarks/run.py --quick      # a smoke run (seconds)
    python benchmarks/run.py --repeat 9   # more runs per measurement

Sections:

a. karpathy's demo workload: ``MLP(2, [16, 16, 1])``, 100 two-moons points, hinge loss + L2,
   full-batch SGD; with micrograd, replayed from a tape (``micrograd.record``: interpreted and
   as generated code), with the same scalar graph of PyTorch 0-d float64 tensors, and as a
   plain-float forward pass (the floor). Losses are checked to agree to 1e-12, the tapes'
   weights to be micrograd's bit for bit.
b. long graphs: a 1,000,000-node chain, a 1,000,000-term sum and the chain ``y = y * c + d``;
   time, tracemalloc peak and peak RSS per node.
c. verification throughput: examples per second per oracle of ``micrograd.testing``.
d. the nn forward path, ``Neuron.__call__``, on its own.
e. ``Value.dot``: its accuracy against the left-to-right sum, and what it saves.

Each figure is the median of ``--repeat`` runs, the spread [min-max] and the mean beside it. The
garbage collector stays on, as in any program using the library (it is not frozen); the time it
takes is shown apart, and a full collection, rare but slow (tens of ms with PyTorch's objects
alive), shows in the mean where the median hides it.
Sections b, d and e run before PyTorch is imported: its ~160,000 objects would make every full
collection of the cycle collector slower.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import math
import os
import platform
import random
import re
import statistics
import struct
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import micrograd
from micrograd import Neuron, Value
from micrograd.tape import Mode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_workload as moons  # next to this file

clock = time.perf_counter


# --- measurement helpers ---------------------------------------------------------------------


@dataclass
class Sample:
    """Repeated measurements of one quantity."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    def show(self, scale: float = 1.0, digits: int = 2) -> str:
        """``median [min-max] mean``: a rare slow run (a full collection) shows in the mean."""
        lo, hi = min(self.values) * scale, max(self.values) * scale
        middle = f"{self.median * scale:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"
        return f"{middle} mean {self.mean * scale:.{digits}f}"


class GCTimer:
    """Time spent in the cycle collector, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = clock()
        else:
            self.total += clock() - self._start

    @contextmanager
    def counting(self) -> Iterator[None]:
        gc.callbacks.append(self)
        try:
            yield
        finally:
            gc.callbacks.remove(self)


def timed(fn: Callable[[], object]) -> float:
    t0 = clock()
    fn()
    return clock() - t0


def _proc_status(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            m = re.search(rf"^{key}:\s+(\d+) kB", f.read(), re.M)
    except OSError:
        return None
    return int(m.group(1)) * 1024 if m else None


def peak_rss(case: str, size: int) -> int | None:
    """Growth of the peak resident set while a fresh Python builds and walks one graph (Linux)."""
    code = (
        f"import sys, gc; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
        f"import run; run.rss_child({case!r}, {size})"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return int(out.stdout) if out.returncode == 0 and out.stdout.strip().isdigit() else None


def rss_child(case: str, size: int) -> None:
    build = _long_cases(size)[case].build
    args = [Value(1.0) for _ in range(size)] if case == "sum" else None  # built before the base
    gc.collect()
    base = _proc_status("VmRSS")
    out = sum(args, Value(0.0)) if args is not None else build()
    out.backward()
    peak = _proc_status("VmHWM")
    print(peak - base if base is not None and peak is not None else "")


def traced_peak(fn: Callable[[], object]) -> int:
    """tracemalloc's peak of the bytes allocated while ``fn`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    mem = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
            cpu = m.group(1).strip() if m else cpu
        with open("/proc/meminfo", encoding="ascii") as f:
            m = re.search(r"^MemTotal:\s+(\d+) kB", f.read(), re.M)
            mem = f", {int(m.group(1)) / 2**20:.0f} GiB RAM" if m else ""
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = "; load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.release()} {platform.machine()}",
        f"{cpu}, {os.cpu_count()} logical CPUs{mem}{load}",
        f"micrograd {micrograd.__version__} from {os.path.dirname(micrograd.__file__)}",
    ]


def header(title: str) -> None:
    print(f"\n{title}\n{'-' * len(title)}")


def table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(cells))
        if k == 0:
            print("  " + "  ".join("-" * w for w in widths))


# --- a. karpathy's demo ----------------------------------------------------------------------


class TapeStep:
    """The demo step with the graph recorded once: zero the gradients, replay the forward and
    backward passes, SGD. ``mode`` is the tape's ("interpret" or "generate")."""

    def __init__(
        self, seed: int, xs: Sequence[Sequence[float]], ys: Sequence[float], mode: Mode
    ) -> None:
        self.mg = moons.MicrogradStep(seed)
        self.tape = micrograd.record(lambda: self.mg.loss(xs, ys), self.mg.params, mode=mode)

    def step(self, k: int) -> float:
        self.mg.model.zero_grad()
        loss = self.tape.run()
        lr = moons.learning_rate(k)
        for p in self.mg.params:
            p.data -= lr * p.grad
        return loss


class BatchStep:
    """The demo step from the graph of one point, recorded once and replayed for all the points
    at once (``Tape.batch``, NumPy): the hinge losses and their gradients at every point, with
    the seed ``1/n`` (the mean's); then the L2 term and the sums over the points in NumPy
    (pairwise sums, not the graph's left-to-right ones: the path stays within rounding of the
    dynamic engine's, not bit for bit); SGD."""

    def __init__(self, seed: int, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> None:
        import numpy as np

        self.np = np
        self.mg = moons.MicrogradStep(seed)
        model, self.n = self.mg.model, len(xs)
        x0, x1, y = Value(0.0), Value(0.0), Value(1.0)
        self.tape = micrograd.record(
            lambda: (1 + -y * model.forward([x0, x1])[0]).relu(), [*self.mg.params, x0, x1, y]
        )
        columns = np.array([[x[0] for x in xs], [x[1] for x in xs], list(ys)])
        self.points = dict(zip((x0, x1, y), columns, strict=True))

    def step(self, k: int) -> float:
        np, params = self.np, self.mg.params
        batch = self.tape.batch(self.points, 1.0 / self.n)
        w = np.array([p.data for p in params])
        grads = batch.grads[: len(params)].sum(axis=1) + (2.0 * moons.ALPHA) * w
        lr = moons.learning_rate(k)
        for p, g in zip(params, grads.tolist(), strict=True):
            p.data -= lr * g
        return float(batch.values.sum() / self.n + moons.ALPHA * (w * w).sum())

    def identical_per_point(self) -> bool:
        """Whether each point's loss and gradients are those of ``tape.run()`` for it alone."""
        np = self.np
        batch = self.tape.batch(self.points, 1.0 / self.n)
        leaves, (x0, x1, y) = self.tape.leaves, list(self.points)
        saved = [(v.data, v.grad) for v in leaves]
        same = True
        for i in range(self.n):
            x0.data, x1.data, y.data = (float(self.points[v][i]) for v in (x0, x1, y))
            for v in leaves:
                v.grad = 0.0
            value = self.tape.run(1.0 / self.n)
            same &= _bits([value, *[v.grad for v in leaves]]) == _bits(
                [float(batch.values[i]), *batch.grads[:, i].tolist()]
            )
        for v, (data, grad) in zip(leaves, saved, strict=True):
            v.data, v.grad = data, grad
        return same and bool(np.isfinite(batch.values).all())


def _bits(values: Sequence[float]) -> list[bytes]:
    return [struct.pack("<d", v) for v in values]


def section_a(repeat: int, quick: bool) -> None:
    header("a. karpathy's demo: MLP(2, [16, 16, 1]), 100 two-moons points, hinge loss + L2, SGD")
    torch: Any = None
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        print("  (PyTorch is not installed: its column is left out)")
    xs, ys = moons.make_moons(100, noise=0.1, seed=0)
    seed = 1337
    ours = moons.MicrogradStep(seed)
    weights = ours.weights()
    n_ops = moons.scalar_op_count(len(xs))
    n_nodes = moons.graph_size(ours.loss(xs, ys))
    print(f"  one step's graph: {n_nodes:,} micrograd nodes (leaves included); written one scalar")
    print(f"  operation at a time, as the PyTorch 0-d graph is: {n_ops:,} operations")

    if torch is not None:  # the same steps from the same weights
        steps = 3 if quick else 5
        mg, th = moons.MicrogradStep(seed), moons.TorchScalarStep(torch, weights)
        worst = 0.0
        for k in range(steps):
            a, b = mg.step(xs, ys, k), th.step(xs, ys, k)
            worst = max(worst, abs(a - b) / abs(b))
        verdict = "ok" if worst <= 1e-12 else "NOT WITHIN 1e-12"
        print(f"  losses of {steps} SGD steps, micrograd vs PyTorch 0-d: largest relative")
        print(f"  difference {worst:.1e} ({verdict})")

    floor = moons.FloatForward(weights)
    th_model = moons.TorchScalarStep(torch, weights) if torch is not None else None
    # the same step from tapes (the same weights: the same seed), recorded now
    t0 = clock()
    interp = TapeStep(seed, xs, ys, "interpret")
    record_s = clock() - t0
    gen = TapeStep(seed, xs, ys, "generate")
    codegen_s = gen.tape.codegen_seconds or 0.0
    tapes = (interp, gen)
    batched: BatchStep | None = None
    try:
        batched = BatchStep(seed, xs, ys)
    except ImportError:
        print("  (NumPy is not installed: the batched replay is left out)")
    # CPython specializes a function's bytecode after its first 8 calls: the generated code runs
    # about 25% slower until then. Every model takes the same 10 steps first, untimed.
    warm_up = 10
    for i in range(warm_up):
        ours.step(xs, ys, i)
        for tape in tapes:
            tape.step(i)
        if batched is not None:
            batched.step(i)
    per_round = 2 if quick else 5
    mg_t: list[float] = []
    fl_t: list[float] = []
    th_t: list[float] = []
    tape_t: tuple[list[float], list[float]] = ([], [])
    batch_t: list[float] = []
    gc_timer = GCTimer()
    k = warm_up
    identical = True
    with gc_timer.counting():
        for _ in range(repeat):
            gc.collect()
            for i in range(per_round):
                gc_before = gc_timer.total
                t0 = clock()
                ours.step(xs, ys, (k + i) % 100)
                mg_t.append(clock() - t0)
                gc_ours = gc_timer.total - gc_before
                fl_t.append(timed(lambda: floor.loss(xs, ys)))
            for tape, times in zip(tapes, tape_t, strict=True):  # each its steps in a row
                for i in range(per_round):
                    t0 = clock()
                    tape.step((k + i) % 100)
                    times.append(clock() - t0)
            if batched is not None:
                for i in range(per_round):
                    t0 = clock()
                    batched.step((k + i) % 100)
                    batch_t.append(clock() - t0)
            k += per_round
            mine = _bits(ours.weights())
            identical &= all(_bits(tape.mg.weights()) == mine for tape in tapes)
            if th_model is not None:
                t0 = clock()
                th_model.step(xs, ys, k % 100)
                th_t.append(clock() - t0)
    mg_s, fl_s = Sample(mg_t), Sample(fl_t)
    in_s, gen_s = Sample(tape_t[0]), Sample(tape_t[1])
    rows = [
        ["", "time per step (ms): median [range] mean", "per scalar op (ns)", "per own node (ns)"]
    ]
    rows.append(
        [
            "micrograd: forward, backward, SGD",
            mg_s.show(1e3),
            f"{mg_s.median / n_ops * 1e9:.0f}",
            f"{mg_s.median / n_nodes * 1e9:.0f}",
        ]
    )
    for label, sample in (("tape, interpreted: the same", in_s), ("tape, generated code", gen_s)):
        rows.append(
            [
                label,
                sample.show(1e3),
                f"{sample.median / n_ops * 1e9:.0f}",
                f"{sample.median / n_nodes * 1e9:.0f}",
            ]
        )
    if batch_t:
        batch_s = Sample(batch_t)
        per_op = f"{batch_s.median / n_ops * 1e9:.1f}"
        rows.append(["tape, batched (NumPy): the same", batch_s.show(1e3), per_op, "-"])
    if th_t:
        th_s = Sample(th_t)
        per = f"{th_s.median / n_ops * 1e9:.0f}"
        rows.append(["PyTorch 0-d tensors: the same", th_s.show(1e3, 0), per, per])
    rows.append(
        ["plain floats: forward and loss", fl_s.show(1e3), f"{fl_s.median / n_ops * 1e9:.0f}", "-"]
    )
    table(rows)
    print(
        f"  (of micrograd's step, the cycle collector took {gc_ours * 1e3:.1f} ms in the last one)"
    )
    verdict = "identical bit for bit (ok)" if identical else "NOT IDENTICAL"
    print(f"  weights after every {per_round} of {k} steps, tapes vs micrograd: {verdict}")
    if batched is not None:
        assert batch_t
        verdict = "identical bit for bit (ok)" if batched.identical_per_point() else "NOT IDENTICAL"
        print(f"  each point's loss and gradients, batched vs the tape alone: {verdict}")
        worst = max(
            abs(a - b) / max(abs(b), 1e-300)
            for a, b in zip(batched.mg.weights(), ours.weights(), strict=True)
        )
        verdict = "ok" if worst <= 1e-9 else "NOT WITHIN 1e-9"
        print(
            f"  weights after {k} steps, batched vs micrograd: largest relative difference "
            f"{worst:.1e} ({verdict}; its sums over the points are NumPy's)"
        )
    print(
        f"  recording the tape: {record_s * 1e3:.0f} ms ({record_s / mg_s.median:.1f} micrograd "
        f"steps); generating its code: {codegen_s:.2f} s, repaid after "
        f"{codegen_s / (in_s.median - gen_s.median):.0f} replays"
    )
    print()
    if th_t:
        ratio = th_s.median / mg_s.median
        print(f"  PyTorch 0-d / micrograd:               {ratio:5.1f}x  (target: >= 40x)")
        ratio = th_s.median / in_s.median
        print(f"  PyTorch 0-d / tape, interpreted:       {ratio:5.1f}x  (target: >= 60x)")
        ratio = th_s.median / gen_s.median
        print(f"  PyTorch 0-d / tape, generated code:    {ratio:5.1f}x  (target: >= 150x)")
        if batch_t:
            ratio = th_s.median / batch_s.median
            print(f"  PyTorch 0-d / tape, batched:           {ratio:5.1f}x  (target: >= 500x)")
    print(f"  micrograd / tape, interpreted:         {mg_s.median / in_s.median:5.1f}x")
    print(f"  micrograd / tape, generated code:      {mg_s.median / gen_s.median:5.1f}x")
    ratio = mg_s.median / fl_s.median
    print(f"  micrograd step / plain-float forward:  {ratio:5.1f}x  (target: <= 10x)")


# --- b. long graphs --------------------------------------------------------------------------


@dataclass
class Long:
    name: str
    unit: str  # what a "per" figure is per
    units: int
    build: Callable[[], Value]  # builds the graph: the forward pass


def _chain(n: int) -> Value:
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * x
    return y


def _affine_chain(steps: int) -> Value:
    c, d = 0.999, 0.001
    y = Value(1.0)
    for _ in range(steps):
        y = y * c + d
    return y


def _long_cases(n: int, leaves: list[Value] | None = None) -> dict[str, Long]:
    steps = n // 2
    terms = leaves or []
    return {
        "chain": Long(f"chain y = y * x, {n:,} nodes", "node", n, lambda: _chain(n)),
        "sum": Long(
            f"sum of {n:,} leaves (builtin sum)", "term", n, lambda: sum(terms, Value(0.0))
        ),
        "affine": Long(
            f"chain y = y * c + d, {steps:,} steps", "step", steps, lambda: _affine_chain(steps)
        ),
    }


def section_b(repeat: int, quick: bool) -> None:
    header("b. long graphs: forward + backward, time and peak memory")
    n = 100_000 if quick else 1_000_000
    leaves = [Value(1.0) for _ in range(n)]
    cases = _long_cases(n, leaves)
    rows = [["graph", "forward (s)", "backward (s)", "total (s)", "GC (s)", "per unit (us)"]]
    mem_rows = [["graph", "tracemalloc peak", "peak RSS growth"]]
    gc_timer = GCTimer()
    for key, case in cases.items():
        fwd: list[float] = []
        bwd: list[float] = []
        in_gc: list[float] = []
        for _ in range(repeat):
            gc.collect()
            with gc_timer.counting():
                gc_before = gc_timer.total
                t0 = clock()
                out = case.build()
                t1 = clock()
                out.backward()
                t2 = clock()
                in_gc.append(gc_timer.total - gc_before)
            del out
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
        total = Sample([f + b for f, b in zip(fwd, bwd, strict=True)])
        rows.append(
            [
                case.name,
                Sample(fwd).show(),
                Sample(bwd).show(),
                total.show(),
                Sample(in_gc).show(),
                f"{total.median / case.units * 1e6:.2f}",
            ]
        )

        def both(case: Long = case) -> None:
            case.build().backward()

        traced = traced_peak(both)
        rss = peak_rss(key, n)
        mem_rows.append(
            [
                case.name,
                f"{traced / case.units:.0f} B/{case.unit}",
                f"{rss / case.units:.0f} B/{case.unit}" if rss is not None else "n/a",
            ]
        )
    table(rows)
    print()
    table(mem_rows)
    print("  tracemalloc: the peak of the bytes Python asked for while building and walking the")
    print(
        "  graph (the sum's leaves were made before). Peak RSS growth: the same in a fresh Python,"
    )
    print("  as the operating system sees it (pymalloc rounds objects up to 16 bytes).")
    print("  Targets: the y * c + d chain of 500,000 steps in < 3 s and < 350 B/step at peak.")


# --- c. verification throughput --------------------------------------------------------------


def section_c(repeat: int, quick: bool) -> None:
    header("c. verification throughput: examples per second per oracle")
    try:
        from micrograd.testing import Expr, Node, check_expr
    except ImportError as e:
        print(f"  n/a (micrograd.testing not available: {e})")
        return
    try:
        from micrograd.testing.oracles import ORACLES
    except ImportError:
        ORACLES = {}
    exprs = [e.with_points([p]) for e in _examples(Expr, Node) for p in e.points]
    if quick:
        exprs = exprs[:6]
    print(f"  {len(exprs)} examples: small expressions over every operator, one point each")

    def rate(fn: Callable[[Any], object]) -> str:
        try:
            fn(exprs[0])  # warm up: imports, tracing, caches
            times = []
            for _ in range(repeat):
                t0 = clock()
                for e in exprs:
                    fn(e)
                times.append(clock() - t0)
        except Exception as e:  # an oracle of micrograd.testing that cannot do this yet
            return f"n/a ({type(e).__name__}: {str(e)[:60]})"
        return Sample([len(exprs) / t for t in times]).show(1.0, 0)

    rows = [["oracle", "examples/s"]]
    rows.append(["micrograd backward() alone", rate(lambda e: e.value_and_grad(e.points[0]))])
    rows.append(["finite differences (check_expr)", rate(check_expr)])
    for name in ("torch", "jax", "sympy"):
        oracle = ORACLES.get(name)
        if oracle is None:
            rows.append([name, "n/a (no such oracle in micrograd.testing)"])
        elif not oracle.available():
            rows.append([name, "n/a (backend not installed)"])
        else:
            rows.append([f"{name}: {oracle.title}", rate(oracle.evaluate)])
    table(rows)


def _examples(expr_type: Any, node_type: Any) -> list[Any]:
    """A fixed set of small expressions over the registry, each at three points in its domain."""
    nd = node_type
    specs = [
        (2, [nd("mul", (0, 1)), nd("tanh", (2,)), nd("exp", (0,)), nd("div", (4, 1))]),
        (2, [nd("add", (0, 1)), nd("mul", (2, 2)), nd("sigmoid", (3,)), nd("log", (1,))]),
        (1, [nd("pow_const", (0,), 2.0), nd("add_const", (1,), 1.0), nd("pow_const", (2,), 0.5)]),
        (1, [nd("rdiv_const", (0,), 1.0), nd("neg", (1,)), nd("relu", (2,)), nd("abs", (0,))]),
        (2, [nd("pow", (0, 1)), nd("div_const", (2,), 2.0), nd("rpow_const", (1,), 2.0)]),
        (2, [nd("mul_const", (0,), 3.0), nd("dot", (0, 1, 2, 1))]),
    ]
    points = [(1.5, 0.5), (0.7, 2.0), (2.5, 1.25)]
    out = []
    for n, nodes in specs:
        if all(node.op in micrograd.OPS for node in nodes):
            out.append(expr_type(n, tuple(nodes), tuple(p[:n] for p in points)))
    return out


# --- d. Neuron.__call__ ----------------------------------------------------------------------


def section_d(repeat: int, quick: bool) -> None:
    header("d. the nn forward path: Neuron.__call__ on its own (building the graph)")
    calls = 2_000 if quick else 20_000
    rows = [["call", "micrograd (us)", "plain floats (us)", "ratio"]]
    for nin, as_values in ((2, False), (16, False), (16, True)):
        neuron = Neuron(nin, rng=0)
        xf = [0.1 * (i + 1) for i in range(nin)]
        x: list[Any] = [Value(v) for v in xf] if as_values else xf
        w = [p.data for p in neuron.w]
        b = neuron.b.data

        def ours(neuron: Neuron = neuron, x: list[Any] = x) -> None:
            for _ in range(calls):
                neuron(x)

        def floats(w: list[float] = w, xf: list[float] = xf, b: float = b) -> None:
            for _ in range(calls):
                act = sum((wi * xi for wi, xi in zip(w, xf, strict=True)), b)
                max(act, 0.0)

        ts, tf = [], []
        for _ in range(repeat):
            gc.collect()
            ts.append(timed(ours) / calls)
            tf.append(timed(floats) / calls)
        s, f = Sample(ts), Sample(tf)
        kind = "Values" if as_values else "floats"
        rows.append(
            [
                f"Neuron({nin}) on {nin} {kind}",
                s.show(1e6),
                f.show(1e6),
                f"{s.median / f.median:.1f}x",
            ]
        )
    table(rows)
    print("  plain floats: the same neuron as sum(w[i] * x[i], b) and max(., 0)")


# --- e. Value.dot ----------------------------------------------------------------------------


def section_e(repeat: int, quick: bool) -> None:
    header("e. Value.dot: one node, rounded once, against the left-to-right sum")
    if not hasattr(Value, "dot"):
        print("  n/a (this engine has no Value.dot)")
        return
    r = random.Random(0)
    trials = 300 if quick else 3000
    rows = [["inputs", "dot: max / mean error (ulp)", "left to right: max / mean error (ulp)"]]
    for label, cancel in (("16 terms, uniform in [-1, 1]", False), ("16 terms, cancelling", True)):
        errs: dict[str, list[float]] = {"dot": [], "naive": []}
        for _ in range(trials):
            u = [r.uniform(-1, 1) for _ in range(16)]
            v = [r.uniform(-1, 1) for _ in range(16)]
            if cancel:  # the terms again with the opposite sign, shuffled: large partial sums
                big = [x * 2.0 ** r.randint(0, 30) for x in u]
                u, v = [*big, *[-x for x in big], *u], [*v, *v, *v]
                order = list(range(len(u)))
                r.shuffle(order)
                u, v = [u[i] for i in order], [v[i] for i in order]
            exact = sum((Fraction(a * b) for a, b in zip(u, v, strict=True)), Fraction(0))
            ref = float(exact)
            ulp = math.ulp(ref) if ref else 5e-324
            ours = Value.dot(u, v).data
            naive = sum((a * b for a, b in zip(u, v, strict=True)), 0.0)
            errs["dot"].append(float(abs(Fraction(ours) - exact) / Fraction(ulp)))
            errs["naive"].append(float(abs(Fraction(naive) - exact) / Fraction(ulp)))
        cells = [f"{max(e):.2f} / {statistics.fmean(e):.2f}" for e in errs.values()]
        rows.append([label, *cells])
    table(rows)
    print("  error: against the exact sum of the rounded products, in units in the last place")

    n, calls = 16, (500 if quick else 5_000)
    w = [Value(r.uniform(-1, 1)) for _ in range(n)]
    x = [Value(r.uniform(-1, 1)) for _ in range(n)]

    def fused() -> None:
        for _ in range(calls):
            Value.dot(w, x).backward()

    def composite() -> None:
        for _ in range(calls):
            sum((wi * xi for wi, xi in zip(w, x, strict=True)), Value(0.0)).backward()

    tf, tc = [], []
    for _ in range(repeat):
        gc.collect()
        tf.append(timed(fused) / calls)
        tc.append(timed(composite) / calls)
    f, c = Sample(tf), Sample(tc)
    rows = [["16-term dot product, forward + backward", "time (us)", "nodes"]]
    rows.append(["Value.dot(w, x)", f.show(1e6), "1"])
    rows.append(["sum(w[i] * x[i]) (one node per operation)", c.show(1e6), f"{2 * n}"])
    print()
    table(rows)
    print(f"  the fused node is {c.median / f.median:.1f}x faster")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Side-by-side benchmarks of micrograd.")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and few runs: a smoke run"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per measurement (default 5; 2 with --quick)"
    )
    parser.add_argument("--only", default="abcde", help="sections to run, e.g. 'ab' (default all)")
    args = parser.parse_args(argv)
    repeat = args.repeat if args.repeat is not None else (2 if args.quick else 5)
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    print("micrograd benchmarks" + (" (--quick: small sizes, few runs)" if args.quick else ""))
    for line in machine():
        print("  " + line)
    print(
        f"  median of {repeat} runs, [min-max] and mean beside it; wall-clock time; "
        "GC on, not frozen"
    )
    sections = {"b": section_b, "d": section_d, "e": section_e, "a": section_a, "c": section_c}
    for key, run in sections.items():  # b, d and e before anything imports PyTorch
        if key in args.only:
            run(repeat, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
