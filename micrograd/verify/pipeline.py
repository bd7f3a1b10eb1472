"""One verification pipeline: a subject checked row by row against references.

The subject is micrograd itself (in this process), or another engine (in a child process the
kit can time out, kill and restart); see :mod:`micrograd.verify.subjects`. Either way the same
rows are checked, the same way:

- **each operation** (``a + b``, ``c - a``, ``a.tanh()``, ...): fixed cases first
  (:mod:`micrograd.verify.cases`), then random trees over that operation alone, so a row fails
  only for that operation's own rules. An operation the engine lacks is *not supported*.
- **mixed trees** over every operation that passed: the chain rule across operations.
- **reuse and shared subexpressions**: an input used twice accumulates; a subexpression used
  twice is backpropagated once, after all its consumers (fixed cases, then random DAGs).
- **the laws** (:mod:`micrograd.testing.laws`), with the subject's own gradients on both sides;
  for another engine, ``backward()`` twice and after zeroing are conventions (*differs*).
- **edges** (another engine): IEEE results where Python's ``math`` raises; **deep graphs**.

Each comparison row is checked against every reference: finite differences, PyTorch, JAX and
the exact oracle for micrograd; micrograd for another engine (whose failures also show the
oracles' values). The tolerance policy is :mod:`micrograd.testing.tolerances`: ``ORACLE_ULPS``
for micrograd against an oracle, ``ENGINE`` for another engine.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from .. import _interrupt
from ..testing.compare import reusing_scales, ulps
from ..testing.expr import Expr, Node
from ..testing.laws import LAWS, Law
from ..testing.opinfo import OPERATIONS
from ..testing.oracles import ORACLES, Evaluation, micrograd_evaluation
from . import _worker
from .cases import EDGES, operation_cases, reuse_cases, shared_cases
from .report import DIFFERS, FAIL, LIMITED, PASS, SKIPPED, UNSUPPORTED, Cell, Report
from .subjects import AGAINST_MICROGRAD, Broken, Reference, Subject

if TYPE_CHECKING:
    from .split import Share

__all__ = ["DEPTHS", "PROFILES", "Progress", "check"]

#: Random examples per check, for each effort level.
PROFILES: Final[dict[str, int]] = {"quick": 10, "default": 40, "thorough": 400}
#: Chain lengths tried by the deep-graph check.
DEPTHS: Final[tuple[int, ...]] = (100, 1_000, 10_000, 100_000)
#: Relative errors are reported where the reference value is at least this large.
REL_FLOOR: Final = 1e-6


@dataclass(frozen=True)
class Progress:
    """A step of a run, as passed to its ``progress`` callback: a check starts, or a row ends.

    Attributes:
        report: The report being filled in, with the cells so far.
        checking: The check that starts now (its row's label and reference), or ``""``.
        finished: The key of the row that has just ended (its cells are final), or ``""``.
        planned: How many checks the run will make (``--fail-fast`` can stop it sooner); 0
            until known, when the operations have been probed.
        labels: The labels of the rows the run will check, in order; empty until known. (The
            mixed row's label counts the operations supported; its final one, those that
            passed.)
    """

    report: Report
    checking: str = ""
    finished: str = ""
    planned: int = 0
    labels: tuple[str, ...] = ()
    #: How many checks have ended.
    done: int = 0


class _Mismatch(AssertionError):
    """A failure at ``expr``: of the cells ``cells`` (all the check's cells, if empty)."""

    def __init__(self, expr: Expr, message: str, cells: Sequence[Cell] = ()) -> None:
        super().__init__(message)
        self.expr, self.message, self.cells = expr, message, list(cells)


_TWICE = (
    "(PyTorch's semantics: each backward() adds to the inputs' gradients; intermediate results "
    "start from zero every time. An engine that keeps intermediate gradients between calls "
    "counts the first call's again. Harmless if gradients are zeroed and the graph rebuilt "
    "before each backward(), as in the usual training loop.)\n"
)


class _Run:
    """One run: the subject, its references, and the report being filled in."""

    def __init__(
        self,
        subject: Subject,
        references: Sequence[Reference],
        report: Report,
        shown: Sequence[str],
        progress: Callable[[Progress], None] | None,
        fail_fast: bool,
        share: Share | None = None,
    ) -> None:
        self.subject, self.references, self.report = subject, list(references), report
        self.shown, self.progress, self.fail_fast = list(shown), progress, fail_fast
        self.share = share
        self.owed: list[str] = []  # (the helper of a split run) rows the other one checks
        self.planned = 0
        self.labels: tuple[str, ...] = ()
        self.running = 0  # how many of the report's last cells are being checked

    def tell(self, checking: str = "", finished: str = "") -> None:
        if self.progress:
            done = len(self.report.cells) - self.running
            step = Progress(self.report, checking, finished, self.planned, self.labels, done)
            self.progress(step)

    def cell(self, key: str, label: str, kind: str, against: str = "") -> Cell:
        cells = self.report.cells
        if cells and cells[-1].key != key:  # rows are checked one after the other
            self.tell(finished=cells[-1].key)
        cell = Cell(key, label, kind, against)
        cells.append(cell)
        return cell

    @property
    def stop(self) -> bool:
        return self.fail_fast and any(c.status == FAIL for c in self.report.cells)

    # --- a run split between two processes (micrograd.verify.split) ------------------------------

    def mine(self, key: str, label: str) -> bool:
        """Whether this process checks row ``key`` (it does unless the run is split); if not,
        its cells, from the other process, are added in its place (or owed, in the helper)."""
        share = self.share
        if share is None or share.mine():
            return True
        if share.side == 1:  # the helper waits only where a row needs all the rows before it
            self.owed.append(key)
            return False
        self.tell(checking=label)
        cells = share.get(key)
        if cells is None:  # the helper is gone: check the row here
            return True
        for theirs in cells:
            cell = self.cell(theirs.key, theirs.label, theirs.kind, theirs.against)
            vars(cell).update(vars(theirs))
        return False

    def checked(self, key: str, cells: Sequence[Cell]) -> None:
        """Row ``key`` was checked here: the other process of a split run gets its cells."""
        if self.share is not None:
            self.share.put(key, cells)

    def settle(self) -> None:
        """Every row so far, before one that depends on them (the helper of a split run)."""
        assert self.share is not None or not self.owed
        for key in self.owed:
            cells = self.share.get(key) if self.share is not None else None
            if cells is None:
                raise SystemExit(0)  # the process showing the report is gone: so is the run
            self.report.cells += cells
        self.owed.clear()

    # --- rows ------------------------------------------------------------------------------------

    def compared(
        self, key: str, label: str, kind: str, cases: Sequence[Expr], strategy: Any, failing: str
    ) -> None:
        """A row checked against every reference, on the same examples: each is drawn once and
        evaluated by the subject once, and every reference compares it (a cell per reference)."""
        if not self.mine(key, label):
            return
        cells = [self.cell(key, label, kind, ref.name) for ref in self.references]
        self.run(cells, cases, strategy, partial(self.against, cells, self.references), failing)
        self.checked(key, cells)

    def against(self, cells: Sequence[Cell], refs: Sequence[Reference], expr: Expr) -> None:
        """Compare the subject's result at ``expr`` with each reference's (``cells[i]`` is
        ``refs[i]``'s); raise at the first point where any of them disagrees, naming those."""
        ours = self.subject.evaluate(expr)
        found: list[tuple[Cell, Any]] = []
        with reusing_scales():  # the same tolerances for every reference
            for cell, ref in zip(cells, refs, strict=True):
                theirs = ref.evaluate(expr)
                if theirs is not None:  # the reference does not apply here: not an example
                    cell.examples += 1
                    _figures(cell, ours, theirs, ref.exact)
                    found += [(cell, p) for p in ref.judge(expr, ours, theirs)[:1]]
        if not found:
            return
        point = min(p.point for _, p in found)  # the first point where one disagrees
        failing = [(cell, p) for cell, p in found if p.point == point]
        message = str(failing[0][1])
        again = self.subject.evaluate(expr)
        if repr(again) != repr(ours):  # repr: nan equals nan
            message = f"{_nondeterministic(ours, again)}; the first time, {message}"
        raise _Mismatch(expr.with_points([point]), message, [cell for cell, _ in failing])

    def law(
        self,
        key: str,
        label: str,
        kind: str,
        law: Law,
        cases: Sequence[Expr],
        strategy: Any,
        failing: str,
    ) -> None:
        if not self.mine(key, label):
            return
        cell = self.cell(key, label, kind)

        def check(expr: Expr) -> None:
            cell.examples += 1
            problem = law(expr, evaluate=self.subject.evaluate, policy=self.subject.policy)
            if problem is not None:
                raise _Mismatch(expr.with_points(expr.points[:1]), problem)

        mode = {"backward_twice": "twice", "zero_grad": "zeroed"}.get(law.__name__, "")
        self.run([cell], cases, strategy, check, failing, mode)
        if cell.counterexample and mode == "twice" and failing == DIFFERS:
            cell.counterexample = _TWICE + cell.counterexample
        self.checked(key, [cell])

    def run(
        self,
        cells: Sequence[Cell],
        cases: Iterable[Expr],
        strategy: Any,
        check: Callable[[Expr], None],
        failing: str,
        mode: str = "",
    ) -> None:
        """Fixed cases, then (if they pass) random examples, for the cells of one row (``check``
        counts each cell's examples); the first failure is recorded, in the cells it fails."""
        cell = cells[0]
        self.running = len(cells)
        self.tell(checking=cell.label + (f" / {cell.against}" if len(cells) == 1 else ""))
        start = time.perf_counter()
        try:
            for expr in cases:
                self.attempt(cells, expr, check)
            if strategy is not None and self.report.examples:
                self.random(cells, strategy, check)
        except _Mismatch as exc:
            for c in exc.cells or cells:
                self.fail(c, exc.expr, exc.message, failing, mode)
        except Broken as exc:  # hung or crashed: no shrinking through timeouts
            for c in cells:
                self.hung(c, exc, failing, mode)
        finally:
            self.running = 0
            for c in cells:  # the row's time, shared: its examples are drawn and run together
                c.seconds = (time.perf_counter() - start) / len(cells)

    def attempt(self, cells: Sequence[Cell], expr: Expr, check: Callable[[Expr], None]) -> None:
        _interrupt.check()
        try:
            check(expr)
        except Broken as exc:
            for cell in cells:
                cell.examples += 1
            exc.expr = expr.with_points([expr.points[exc.index]])
            if exc.fatal:
                raise
            raise _Mismatch(exc.expr, exc.message) from None

    def random(self, cells: Sequence[Cell], strategy: Any, check: Callable[[Expr], None]) -> None:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hypothesis_seed
        from hypothesis.errors import Flaky

        fatal: list[Broken] = []
        failed: list[_Mismatch] = []

        @hypothesis_seed(self.report.seed)
        @settings(
            max_examples=self.report.examples,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
            report_multiple_bugs=False,
        )
        @given(expr=strategy)
        def prop(expr: Expr) -> None:
            if fatal:
                return
            try:
                self.attempt(cells, expr, check)
            except Broken as exc:
                fatal.append(exc)
            except _Mismatch as exc:
                failed.append(exc)
                raise

        try:
            with _seed_alone():
                prop()
        except Flaky:  # a failure that did not happen again on the same example
            first = failed[0]
            raise _Mismatch(
                first.expr,
                f"nondeterministic: failed once, then passed on the same program ({first.message})",
                first.cells,
            ) from None
        if fatal:
            raise fatal[0]

    def hung(self, cell: Cell, exc: Broken, failing: str, mode: str) -> None:
        assert exc.expr is not None  # attempt() sets it
        self.fail(cell, exc.expr, exc.message, failing, mode, hung=True)

    def fail(
        self, cell: Cell, expr: Expr, message: str, failing: str, mode: str, *, hung: bool = False
    ) -> None:
        cell.status = failing
        cell.detail = message.splitlines()[0][:160]
        cell.counterexample = self.explain(expr, message, mode, hung)

    def explain(self, expr: Expr, message: str, mode: str, hung: bool) -> str:
        """The failure with the subject's and every reference's results, and a snippet."""
        point = expr.points[0]
        lines = [f"{expr.source()} at {list(point)}: {message}"]
        if not hung:  # not for an engine that hung or crashed on it
            try:
                got = _result_text(self.subject.evaluate(expr, mode))
            except Broken as exc:
                got = exc.message
            if got not in message:
                name = "micrograd" if self.report.ours else "engine"
                lines.append(f"  {name}:{' ' * max(1, 10 - len(name))}{got}")
        names = [r.name for r in self.references] + self.shown
        evaluators = {r.name: r.evaluate for r in self.references}
        if mode:  # a law run again: micrograd's own result in the same mode (no oracle has one)
            names = [] if self.report.ours else ["micrograd"]
            evaluators = {"micrograd": partial(micrograd_evaluation, mode=mode)}
        for name in dict.fromkeys(names):
            evaluate = evaluators.get(name) or ORACLES[name].evaluate
            pad = " " * max(1, 10 - len(name))
            try:
                theirs = evaluate(expr)
                text = "does not apply here" if theirs is None else _result_text(theirs)
            except Exception as exc:  # a reference's failure must not hide ours
                text = f"no value here ({type(exc).__name__})"
            lines.append(f"  {name}:{pad}{text}")
        snippet = self.subject.snippet(expr, mode).splitlines()
        lines += ["Reproduce with:", "", *("    " + s if s else "" for s in snippet), ""]
        return "\n".join(lines)


@contextlib.contextmanager
def _seed_alone() -> Iterator[None]:
    """Examples that depend on the seed alone. Hypothesis mixes into its draws numbers found in
    the source of every loaded module outside site-packages (its "local constants"): which
    modules those are depends on how micrograd is installed (editable or not), on what else the
    process has imported, and on which oracles run in this process, so the same seed would draw
    other examples elsewhere. Within a run, none are used. (There is no public switch: if
    Hypothesis changes this, runs still work, only less reproducibly across installs.)"""
    try:
        from hypothesis.internal.conjecture import providers

        found = providers._get_local_constants
        clear = providers.CONSTANTS_CACHE.cache.clear  # the allowed constants of each draw
        none = providers.Constants()  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        yield
        return
    providers._get_local_constants = lambda: none
    clear()  # (made with the old constants)
    try:
        yield
    finally:
        providers._get_local_constants = found
        clear()


def _nondeterministic(first: Evaluation, second: Evaluation) -> str:
    p = next(p for p in range(len(first.values)) if repr(first.at(p)) != repr(second.at(p)))
    return (
        f"nondeterministic: the same program gave {_result_text(first.at(p))}, then "
        f"{_result_text(second.at(p))} (does backward() visit nodes in set or dict order?)"
    )


def _result_text(ev: Evaluation) -> str:
    return f"value {ev.values[0]!r}, gradient {list(ev.grads[0])}"


def _figures(cell: Cell, ours: Evaluation, theirs: Evaluation, exact: bool) -> None:
    for p in range(len(ours.values)):
        pairs = zip(
            (ours.values[p], *ours.grads[p]), (theirs.values[p], *theirs.grads[p]), strict=True
        )
        for a, b in pairs:
            if not (math.isfinite(a) and math.isfinite(b)):
                continue
            diff = abs(a - b)
            cell.max_abs = max(cell.max_abs, diff)
            if abs(b) < REL_FLOOR:  # relative to rounding residue: meaningless
                continue
            cell.max_rel = max(cell.max_rel, diff / abs(b))
            if exact:
                cell.max_ulps = max(cell.max_ulps or 0.0, ulps(a, b))


# --- the rows, in order --------------------------------------------------------------------------

#: The laws' rows: key, the operations the law's composite needs, and whether for another
#: engine it is a convention (``differs``: PyTorch's semantics) rather than a law.
_LAW_ROWS: Final = tuple(
    (key, name, law, needs, convention)
    for (name, law), (key, needs, convention) in zip(
        LAWS,
        (
            ("twice", (), True),
            ("zero_grad", (), True),
            ("used_3_times", ("add",), False),
            ("sum_rule", ("add",), False),
            ("product_rule", ("mul",), False),
        ),
        strict=True,
    )
)


def check(
    subject: Subject,
    references: Sequence[Reference],
    report: Report,
    *,
    ops: Sequence[str] | None = None,
    require: Sequence[str] = (),
    min_depth: int = 0,
    shown: Sequence[str] = (),
    fail_fast: bool = False,
    progress: Callable[[Progress], None] | None = None,
    share: Share | None = None,
) -> None:
    """Check ``subject`` row by row (see the module docstring), filling in ``report``; tell
    ``progress`` as each check starts and each row ends. With ``share``, the rows are checked
    by turns here and in another process (:mod:`micrograd.verify.split`)."""
    run = _Run(subject, references, report, shown, progress, fail_fast, share)
    _rows(run, ops, require, min_depth)
    if report.cells:
        run.tell(finished=report.cells[-1].key)


def _rows(run: _Run, ops: Sequence[str] | None, require: Sequence[str], min_depth: int) -> None:
    from ..testing import expressions

    subject, report = run.subject, run.report
    points = subject.points
    names = list(ops or subject.operations())
    missing: dict[str, str | Broken | None] = {}
    for name in names:
        try:
            missing[name] = subject.probe(name)
        except Broken as exc:  # hung or crashed on the probe
            missing[name] = exc
    supported = [name for name in names if missing[name] is None]
    _plan(run, names, supported)
    for name in names:
        if run.stop:
            return
        op = OPERATIONS[name]
        detail = missing[name]
        if isinstance(detail, Broken):
            n = 1 if op.arity == 1 else 2
            c = _worker.PROBE_C if op.has_const else None
            probe = Expr(
                n, (Node(name, tuple(range(n)), c),), ((_worker.PROBE_A, _worker.PROBE_B)[:n],)
            )
            run.fail(
                run.cell(name, op.label, "operation"), probe, detail.message, FAIL, "", hung=True
            )
            continue
        if detail is not None:
            cell = run.cell(name, op.label, "operation")
            cell.status, cell.detail = (FAIL if name in require else UNSUPPORTED), detail
            continue
        strategy = expressions(ops=[name], require=name, max_nodes=3, shared=False, points=points)
        run.compared(name, op.label, "operation", operation_cases(name), strategy, FAIL)
    run.settle()
    ok = [n for n in supported if all(c.status == PASS for c in report.cells if c.key == n)]

    def draw(**options: Any) -> Any:
        return expressions(ops=ok, **options) if ok else None

    rows = [
        (
            "mixed",
            _mixed(len(ok)),
            [],
            draw(max_nodes=8, max_inputs=4, shared=False, points=points),
        ),
        (
            "reuse",
            _REUSE,
            reuse_cases(ok),
            draw(max_nodes=6, max_inputs=1, shared=False, points=points),
        ),
        (
            "shared",
            _SHARED,
            shared_cases(ok),
            draw(max_nodes=6, max_inputs=2, shared=True, points=points),
        ),
    ]
    for key, label, cases, strategy in rows:
        if run.stop:
            return
        if not cases and strategy is None:
            run.cell(key, label, "law").status = SKIPPED
            report.cells[-1].detail = "no operation passed"
            continue
        run.compared(key, label, "mixed" if key == "mixed" else "law", cases, strategy, FAIL)
    law_cases = [e.with_points(e.points[:1]) for e in shared_cases(ok)]
    for key, name, law, needs, convention in _LAW_ROWS:
        if run.stop:
            return
        kind = _kind(convention, subject.edges)
        failing, label = (DIFFERS if kind == "semantics" else FAIL), f"{kind}: {name}"
        if not set(needs) <= set(ok) or not ok:
            run.cell(key, label, kind).status = SKIPPED
            report.cells[-1].detail = _needs(needs, ok, supported) if ok else "no operation passed"
            continue
        run.law(key, label, kind, law, law_cases, draw(max_nodes=6, points=1), failing)
    if subject.edges:
        for key, label, expr in EDGES:
            needed = {n.op for n in expr.nodes}
            if not needed <= set(supported):
                run.cell(key, label, "edge").status = SKIPPED
                report.cells[-1].detail = _needs(sorted(needed), supported, supported)
                continue
            cell = run.cell(key, label, "edge", AGAINST_MICROGRAD.name)
            check = partial(run.against, [cell], [AGAINST_MICROGRAD])
            run.run([cell], [expr], None, check, DIFFERS)
    _deep(run, ok, min_depth)


_REUSE, _SHARED = "law: an input used twice accumulates", "law: shared subexpressions (DAGs)"
_DEEP = "limit: deep graphs"


def _mixed(n: int) -> str:
    return f"mixed: random trees over {n} operations"


def _kind(convention: bool, edges: bool) -> str:
    """A law's kind: for another engine, a convention is *semantics* (it can only differ)."""
    return "semantics" if convention and edges else "law"


def _plan(run: _Run, names: Sequence[str], supported: Sequence[str]) -> None:
    """The rows a run will check and how many checks that makes (each reference of a row is
    one; a row that is skipped or not supported, one)."""
    edges = EDGES if run.subject.edges else ()
    laws = [f"{_kind(conv, run.subject.edges)}: {name}" for _, name, _, _, conv in _LAW_ROWS]
    run.labels = (
        *(OPERATIONS[n].label for n in names),
        *(_mixed(len(supported)), _REUSE, _SHARED),
        *laws,
        *(label for _, label, _ in edges),
        _DEEP,
    )
    refs = len(run.references)
    run.planned = sum(refs if n in supported else 1 for n in names) + 3 * refs
    run.planned += len(laws) + len(edges) + 1


def _needs(needs: Sequence[str], ok: Sequence[str], supported: Sequence[str]) -> str:
    """Why a row cannot be checked: the operations it is built from that are missing or failed."""
    why = [
        f"{OPERATIONS[n].label} ({'its row failed' if n in supported else 'not supported'})"
        for n in needs
        if n not in ok
    ]
    return f"needs {', '.join(why)}"


def _deep(run: _Run, ok: Sequence[str], min_depth: int) -> None:
    op = next((n for n in ("add", "add_const", "radd_const") if n in ok), None)
    if op is None:
        cell = run.cell("deep", _DEEP, "limit")
        cell.status, cell.detail = SKIPPED, "needs a + b or a + c, passing its row"
        return
    if not run.mine("deep", _DEEP):
        return
    cell = run.cell("deep", _DEEP, "limit")
    run.tell(checking=cell.label)
    reached = 0
    for depth in DEPTHS:
        problem = run.subject.deep(OPERATIONS[op].method or op, depth)
        cell.examples += 1
        if problem is not None:
            cell.status = FAIL if reached < min_depth else LIMITED
            cell.detail = f"backward() works to depth {reached:,}; at {depth:,}: {problem}"[:200]
            break
        reached = depth
    else:
        cell.detail = f"backward() works to depth {reached:,}"
    run.checked("deep", [cell])
