"""The conformance kit: check another scalar autograd engine against micrograd and the oracles.

``micrograd verify --engine TARGET`` runs the engine in a child process and checks, row by row:

- **each operation** (``a + b``, ``c - a``, ``a.tanh()``, ...): small fixed cases first
  (``op(x)``, ``x op x``, ``op(op(x))``, the kinks of ``relu`` and ``abs``), then random
  expression trees over that operation alone — so a row fails only for that operation's own
  rules. An operation the engine lacks is *not supported*, not failed.
- **mixed trees** over every operation that passed: the chain rule across operations.
- **laws**: an input used several times accumulates its gradient; a shared subexpression is
  backpropagated once, after all its consumers (topological order) — fixed cases, then random
  DAGs.
- **semantics** (reported, failing only with ``--strict``): ``backward()`` twice doubles the
  inputs' gradients, as in PyTorch; IEEE results at the edges (``exp`` overflow to ``inf``,
  saturating ``tanh``/``sigmoid``, division by zero, ``log(0)``, ``x ** 0.5`` at 0, a negative
  base to a fractional power); and the depth of graph ``backward()`` can handle.

Values and gradients are compared with micrograd's (verified against PyTorch, JAX and SymPy by
``micrograd verify``) within a tolerance made for another float64 engine (``KIT_ULPS``,
``KIT_ATOL``). A failure shows the minimal program (Hypothesis shrinks it) as a snippet that runs
against the engine, with the expected and actual results and each oracle's values.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from .. import _interrupt
from ..engine import Value
from ..ops import OPS
from ..testing.compare import _within
from ..testing.opinfo import RECORDS
from ..testing.tolerances import EPS
from . import _worker
from .adapter import Adapter
from .process import EngineCrashed, EngineProcess, EngineTimeout, LoadError
from .program import OPERATIONS, Program, Step, op_spec, programs

__all__ = [
    "DEPTHS",
    "KIT_ATOL",
    "KIT_ULPS",
    "PROFILES",
    "Report",
    "Row",
    "check_engine",
    "format_report",
]

#: Random examples per row, for each effort level.
PROFILES: Final[dict[str, int]] = {"quick": 10, "default": 40, "thorough": 400}
#: Rounding budget per operation for another float64 engine, in ulps of the rounding-error scale
#: (see ``micrograd.testing.compare.error_scales``): about 2e-10 relative. Engines differ in
#: their formulas (``tanh`` through ``exp``, ``a / b`` as ``a * b**-1``); a wrong rule is off by
#: O(1).
KIT_ULPS: Final = 2.0**20
#: Absolute floor: ``tanh(1e-300)`` computed as ``(exp(2x) - 1) / (exp(2x) + 1)`` is 0, which is
#: a loss of accuracy, not a wrong derivative.
KIT_ATOL: Final = 1e-12
#: Chain lengths tried by the deep-graph check.
DEPTHS: Final[tuple[int, ...]] = (100, 1_000, 10_000, 100_000)

PASS, FAIL, UNSUPPORTED, DIFFERS, LIMITED, SKIPPED = (
    "pass",
    "FAIL",
    "not supported",
    "differs",
    "limited",
    "skipped",
)
_OURS = Adapter(Value)
_ALL_OPS = frozenset(OPS)


@dataclass
class Row:
    """One check: an operation, a law, a semantic convention or a limit."""

    key: str
    label: str
    kind: str  # operation | mixed | law | semantics | edge | limit
    status: str = PASS
    examples: int = 0
    detail: str = ""
    counterexample: str | None = None

    def failed(self, strict: bool) -> bool:
        return self.status == FAIL or (strict and self.status in (DIFFERS, LIMITED))


@dataclass
class Report:
    """Everything a run found."""

    target: str
    profile: str
    examples: int
    seed: int
    strict: bool = False
    engine: dict[str, Any] = field(default_factory=dict)
    load_error: str | None = None
    rows: list[Row] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.load_error is None and not any(r.failed(self.strict) for r in self.rows)

    def row(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    def failures(self) -> list[str]:
        """Keys of the rows that fail this run."""
        return [r.key for r in self.rows if r.failed(self.strict)]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        data["verdict"] = verdict(self)
        return data


class _Mismatch(AssertionError):
    def __init__(self, program: Program, message: str) -> None:
        super().__init__(message)
        self.program = program
        self.message = message


class _Run:
    """State of one run: the engine's process, the settings, what was found."""

    def __init__(
        self,
        engine: EngineProcess,
        report: Report,
        *,
        timeout: float,
        oracles: Sequence[str],
        progress: Callable[[str], None] | None,
    ) -> None:
        self.engine = engine
        self.report = report
        self.timeout = timeout
        self.oracles = list(oracles)
        self.progress = progress
        self.notes: dict[str, None] = {}
        self.outputs = 0

    # --- talking to the engine ------------------------------------------------------------------

    def evaluate(self, program: Program, *, twice: bool = False) -> list[dict[str, Any]]:
        """The engine's results at every point (raises EngineTimeout / EngineCrashed)."""
        reply = self.engine.request(
            {
                "kind": "eval",
                "program": program.wire(),
                "points": [list(p) for p in program.points],
                "twice": twice,
            },
            self.timeout,
            f"computing {program}",
        )
        self._output(reply, f"while computing {program}")
        results: list[dict[str, Any]] = reply["results"]
        for r in results:
            for note in r.get("notes", ()):
                self.notes[note] = None
        return results

    def _output(self, reply: dict[str, Any], when: str) -> None:
        text = reply.get("output") or ""
        if text and self.outputs < 3:
            self.outputs += 1
            first = text.strip().splitlines()[0] if text.strip() else text
            self.notes[f"the engine printed {when}: {first[:100]!r}"] = None

    # --- one program ----------------------------------------------------------------------------

    def check(self, row: Row, program: Program, *, twice: bool = False) -> None:
        """Compare the engine with micrograd on ``program``; raise _Mismatch if they disagree."""
        _interrupt.check()
        expected = [
            _worker.run_program(_OURS, program.wire(), p, twice=twice) for p in program.points
        ]
        actual = self.evaluate(program, twice=twice)
        row.examples += 1
        for point, want, got in zip(program.points, expected, actual, strict=True):
            problem = self._judge(row, program, point, want, got)
            if problem is not None:
                raise _Mismatch(program.with_points([point]), problem)

    def _judge(
        self,
        row: Row,
        program: Program,
        point: Sequence[float],
        want: dict[str, Any],
        got: dict[str, Any],
    ) -> str | None:
        assert "error" not in want, f"micrograd failed on {program}: {want}"
        if "error" in got:
            return _error_text(got)
        scales = _scales(program, point)
        n_ops = len(program.steps)
        quantities = [("the value", want["value"], got["value"], scales[0])]
        quantities += [
            (f"d/dx{i}", w, g, s)
            for i, (w, g, s) in enumerate(zip(want["grads"], got["grads"], scales[1], strict=True))
        ]
        if "grads2" in want:
            quantities += [
                (f"d/dx{i} after backward() twice", 2.0 * w, g, 2.0 * s)
                for i, (w, g, s) in enumerate(
                    zip(want["grads"], got["grads2"], scales[1], strict=True)
                )
            ]
        for what, w, g, scale in quantities:
            tol = KIT_ULPS * EPS * n_ops * scale + KIT_ATOL
            if not _within(w, g, tol):
                return f"{what} is {g!r}, expected {w!r} (tolerance {tol:.2g})"
        return None

    # --- rows -----------------------------------------------------------------------------------

    def run_row(
        self,
        row: Row,
        cases: Iterable[Program],
        strategy: Any,
        *,
        twice: bool = False,
        failing: str = FAIL,
    ) -> None:
        """Fixed cases, then (if they pass) random programs; the first failure is recorded."""
        if self.progress:
            self.progress(row.label)
        for program in cases:
            if not self._attempt(row, program, twice, failing):
                return
        if strategy is None or self.report.examples == 0:
            return
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hypothesis_seed

        stopped = [False]

        @hypothesis_seed(self.report.seed)
        @settings(
            max_examples=self.report.examples,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
            report_multiple_bugs=False,
        )
        @given(program=strategy)
        def prop(program: Program) -> None:
            if stopped[0]:  # the engine hung or crashed: no shrinking through timeouts
                return
            try:
                self.check(row, program, twice=twice)
            except (EngineTimeout, EngineCrashed) as exc:
                stopped[0] = True
                self._fail(row, program, f"{exc}", failing, twice, hung=True)

        try:
            prop()
        except _Mismatch as exc:
            self._fail(row, exc.program, exc.message, failing, twice)

    def _attempt(self, row: Row, program: Program, twice: bool, failing: str) -> bool:
        try:
            self.check(row, program, twice=twice)
        except _Mismatch as exc:
            self._fail(row, exc.program, exc.message, failing, twice)
            return False
        except (EngineTimeout, EngineCrashed) as exc:
            self._fail(row, program, str(exc), failing, twice, hung=True)
            return False
        return True

    def _fail(
        self,
        row: Row,
        program: Program,
        message: str,
        failing: str,
        twice: bool,
        *,
        hung: bool = False,
    ) -> None:
        row.status = failing
        row.detail = message.splitlines()[0][:160]
        point = program.points[0]
        row.counterexample = self.explain(program, point, message, twice=twice, again=not hung)

    def explain(
        self,
        program: Program,
        point: Sequence[float],
        message: str,
        *,
        twice: bool = False,
        again: bool = True,
    ) -> str:
        """The failure with both engines' results, the oracles' and a runnable snippet."""
        program = program.with_points([point])
        lines = [f"{program.source()} at {list(point)}: {message}"]
        want = _worker.run_program(_OURS, program.wire(), point, twice=twice)
        lines.append(f"  micrograd: {_result_text(want)}")
        if again:  # not for an engine that hung or crashed on it
            try:
                got = _result_text(self.evaluate(program, twice=twice)[0])
            except (EngineTimeout, EngineCrashed) as exc:
                got = str(exc)
            if got not in message:
                lines.append(f"  engine:    {got}")
        lines += self._oracle_lines(program, point)
        snippet = self.snippet(program, point, twice=twice)
        lines += ["Reproduce with:", "", *("    " + s if s else "" for s in snippet), ""]
        return "\n".join(lines)

    def _oracle_lines(self, program: Program, point: Sequence[float]) -> list[str]:
        if not self.oracles:
            return []
        from ..testing.oracles import ORACLES

        expr = program.lower(point)
        lines = []
        for name in self.oracles:
            oracle = ORACLES[name]
            pad = " " * (9 - len(name))
            try:
                ev = oracle.evaluate(expr)
                lines.append(f"  {name}:{pad}value {ev.values[0]!r}, gradient {list(ev.grads[0])}")
            except Exception as exc:  # an oracle's failure must not hide ours
                lines.append(f"  {name}:{pad}no value here ({type(exc).__name__})")
        return lines

    def snippet(
        self, program: Program, point: Sequence[float], *, twice: bool = False
    ) -> list[str]:
        info = self.report.engine
        head: list[str] = []
        if info.get("path"):
            where = os.path.relpath(info["path"], self.engine.cwd)
            if where.startswith(".."):
                where = info["path"]
            if where != ".":  # run from the directory the kit was run from
                head += ["import sys", f"sys.path.insert(0, {where!r})"]
        module, attr = info.get("module", "engine"), info.get("attr", "Value")
        if info.get("adapter"):
            head += [f"from {module} import {attr}", "", f"A = {attr}()"]
            return head + program.lines(point, adapter="A", twice=twice)
        alias = "" if attr == "Value" else " as Value"
        head += [f"from {module} import {attr}{alias}", ""]
        return head + program.lines(point, twice=twice)


def _result_text(result: dict[str, Any]) -> str:
    if "error" in result:
        return _error_text(result)
    text = f"value {result['value']!r}, gradient {result['grads']}"
    if "grads2" in result:
        text += f", after backward() twice {result['grads2']}"
    return text


def _error_text(result: dict[str, Any]) -> str:
    err = result["error"]
    phase = result.get("phase", "")
    if err["type"] == "finding":
        return f"{err['message']} ({phase})" if phase else err["message"]
    where = f" at {err['where']}" if err.get("where") else ""
    return f"raised {err['type']}: {err['message']}{where} ({phase})"


def _scales(program: Program, point: Sequence[float]) -> tuple[float, tuple[float, ...]]:
    from ..testing.compare import error_scales

    expr = program.lower(point)
    return error_scales(expr, point, absolute=_ALL_OPS)


_TWICE = (
    "(PyTorch's semantics: each backward() adds to the inputs' gradients; intermediate results "
    "start from zero every time. An engine that keeps intermediate gradients between calls "
    "counts the first call's again. Harmless if gradients are zeroed and the graph rebuilt "
    "before each backward(), as in the usual training loop.)\n"
)


# --- fixed cases ----------------------------------------------------------------------------------

_POINTS: Final = ((0.75, 1.25), (0.0, 2.0), (-1.5, 2.5), (2.0, -0.5), (0.3, 3.0))
_CONSTANTS: Final = (2.0, -0.5, 3.0, 0.5)


def _valid(program: Program, point: Sequence[float]) -> bool:
    """Every step inside its operation's domain, as the strategies keep them, and the gradient
    finite."""
    from ..testing.strategies import _apply_everywhere

    values: list[tuple[float, ...]] = [(float(x),) for x in point]
    for step in program.steps:
        result = _apply_everywhere(op_spec(step.op), list(step.args), step.c, values)
        if result is None:
            return False
        values.append(result)
    whole = _worker.run_program(_OURS, program.wire(), point)
    return all(math.isfinite(g) for g in whole.get("grads", [math.nan]))


def _at_valid_points(steps: tuple[Step, ...], n_inputs: int, limit: int = 3) -> list[Program]:
    bare = Program(n_inputs, steps)
    pts = [p[:n_inputs] for p in _POINTS]
    good = [p for p in pts if _valid(bare, p)][:limit]
    return [bare.with_points(good)] if good else []


def operation_cases(name: str) -> list[Program]:
    """Fixed programs for one operation: once, on one input twice, composed with itself."""
    op = OPERATIONS[name]
    domain = RECORDS[op.registry].domain
    consts: Sequence[float | None] = (None,)
    if op.has_const:
        consts = [
            c for c in _CONSTANTS if any(lo <= c <= hi for lo, hi in domain.constants)
        ] or list(domain.favoured)
    out: list[Program] = []
    for c in consts[:2]:
        if op.values == 2:
            shapes = [
                ((Step(name, (0, 1), c),), 2),
                ((Step(name, (0, 0), c),), 1),
                ((Step(name, (0, 1), c), Step(name, (2, 0), c)), 2),
            ]
        else:
            shapes = [
                ((Step(name, (0,), c),), 1),
                ((Step(name, (0,), c), Step(name, (1,), c)), 1),
            ]
        for steps, n in shapes:
            out += _at_valid_points(steps, n)
    if domain.kinks:
        for kink in domain.kinks:
            out.append(Program(1, (Step(name, (0,), None),), ((kink,),)))
    if name == "pow_number":  # integer powers at 0, where c * x ** (c - 1) divides by zero
        for c in (0.0, 1.0, 2.0):
            out.append(Program(1, (Step(name, (0,), c),), ((0.0,),)))
    return out


def _first(ok: Sequence[str], *names: str) -> str | None:
    return next((n for n in names if n in ok), None)


def reuse_cases(ok: Sequence[str], supported: Sequence[str]) -> list[Program]:
    """An input used twice: ``x op x`` for every supported binary operation (the law's very
    subject, so even one whose own row failed), and ``(x op 2) op2 x`` over passing ones."""
    out = []
    for name in ("add", "mul", "sub", "truediv", "pow"):
        if name in supported:
            out += _at_valid_points((Step(name, (0, 0)),), 1)
    inner = _first(ok, "mul_number", "add_number", "rmul", "radd")
    outer = _first(ok, "add", "mul", "sub")
    if inner and outer:
        out += _at_valid_points((Step(inner, (0,), 2.0), Step(outer, (1, 0))), 1)
    return out


def shared_cases(ok: Sequence[str], supported: Sequence[str]) -> list[Program]:
    """A subexpression used twice: ``t = op(x); t + t`` — needs a topological order. ``op``
    is an operation that passed; ``+`` (or ``*``, ``-``) is used even if its row failed."""
    combine = _first(ok, "add", "mul", "sub") or _first(supported, "add", "mul", "sub")
    if combine is None:
        return []
    out = []
    firsts = [n for n in ("mul", "add", "tanh", "exp", "mul_number") if n in ok]
    for name in firsts:
        op = OPERATIONS[name]
        c = 2.0 if op.has_const else None
        first = Step(name, (0, 1) if op.values == 2 else (0,), c)
        n = op.values
        out += _at_valid_points((first, Step(combine, (n, n))), n)
        # a longer chain: t reaches the output along paths of different lengths
        out += _at_valid_points((first, Step(combine, (n, 0)), Step(combine, (n + 1, n))), n)
    return out


def twice_cases(ok: Sequence[str]) -> list[Program]:
    first = _first(ok, "mul", "add")
    second = _first(ok, "mul_number", "tanh", "exp", "add_number")
    if first is None or second is None:
        return []
    c = 3.0 if OPERATIONS[second].has_const else None
    return _at_valid_points((Step(first, (0, 1)), Step(second, (2,), c)), 2)


#: The edge cases: IEEE results where Python's ``math`` raises or returns ``complex``.
EDGES: Final[
    tuple[tuple[str, str, tuple[tuple[Step, ...], tuple[tuple[float, ...], ...]]], ...]
] = (
    ("edge_exp", "edge: exp(1000) overflows to inf", ((Step("exp", (0,)),), ((1000.0,),))),
    (
        "edge_tanh",
        "edge: tanh(±1000) is ±1, gradient 0",
        ((Step("tanh", (0,)),), ((1000.0,), (-1000.0,))),
    ),
    (
        "edge_sigmoid",
        "edge: sigmoid(±1000) is 1 or 0, gradient 0",
        ((Step("sigmoid", (0,)),), ((1000.0,), (-1000.0,))),
    ),
    ("edge_log", "edge: log(0) is -inf", ((Step("log", (0,)),), ((0.0,),))),
    (
        "edge_div_zero",
        "edge: division by zero gives inf",
        ((Step("truediv", (0, 1)),), ((1.0, 0.0),)),
    ),
    (
        "edge_sqrt",
        "edge: x ** 0.5 at 0 has gradient inf",
        ((Step("pow_number", (0,), 0.5),), ((0.0,),)),
    ),
    (
        "edge_complex",
        "edge: (-4) ** 0.5 is nan, not complex",
        ((Step("pow_number", (0,), 0.5),), ((-4.0,),)),
    ),
)


# --- the run --------------------------------------------------------------------------------------


def check_engine(
    target: str,
    *,
    profile: str = "default",
    seed: int | None = None,
    timeout: float = 5.0,
    import_timeout: float = 120.0,
    strict: bool = False,
    require: Sequence[str] = (),
    min_depth: int = 0,
    oracles: Sequence[str] | None = None,
    cwd: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Check the engine ``target`` (a module, a ``.py`` file or a package directory, optionally
    ``:Name`` for its value class or :class:`Adapter` subclass); see the module docstring.

    Args:
        profile: ``quick``, ``default`` or ``thorough``: random examples per row (10, 40, 400).
        seed: Replays a run (the report prints it); random if ``None``.
        timeout: Seconds one program may take in the engine before it counts as hung.
        import_timeout: Seconds the engine's import may take.
        strict: Semantics, edge and depth rows fail the run too.
        require: Operations (names of :data:`OPERATIONS`) that must be supported.
        min_depth: Fail unless ``backward()`` works on a chain at least this long.
        oracles: Oracles whose values are shown next to each failure; default: every one
            installed.
        cwd: Directory the engine is resolved and run from (default: the current one).
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    unknown = [r for r in require if r not in OPERATIONS]
    if unknown:
        raise ValueError(f"require: unknown operation(s) {', '.join(unknown)}")
    if oracles is None:
        from ..testing.oracles import ORACLES

        oracles = [name for name, o in ORACLES.items() if o.available()]
    report = Report(
        target=target,
        profile=profile,
        examples=PROFILES[profile],
        seed=seed if seed is not None else random.randrange(2**32),
        strict=strict,
    )
    start = time.perf_counter()
    with EngineProcess(target, import_timeout=import_timeout, cwd=cwd) as engine:
        try:
            hello = engine.start()
        except LoadError as exc:
            info = exc.args[1] if len(exc.args) > 1 else {}
            trace = info.get("traceback", "") if isinstance(info, dict) else ""
            report.load_error = f"could not load {target}: {exc.args[0]}"
            if trace:
                report.load_error += "\n" + trace.rstrip()
            report.seconds = time.perf_counter() - start
            return report
        except (EngineTimeout, EngineCrashed) as exc:
            report.load_error = f"could not load {target}: {exc}"
            report.seconds = time.perf_counter() - start
            return report
        report.engine = {k: v for k, v in hello.items() if k not in ("hello", "output")}
        if report.engine.get("file"):  # as the user named it: relative to where they ran it
            where = os.path.relpath(report.engine["file"], engine.cwd)
            report.engine["file"] = report.engine["file"] if where.startswith("..") else where
        run = _Run(engine, report, timeout=timeout, oracles=oracles, progress=progress)
        _import_findings(report, hello)
        try:
            _run_all(run, require, min_depth)
        except LoadError as exc:  # a restart after a hang failed to import again
            report.load_error = f"the engine could not be reloaded: {exc.args[0]}"
        except (EngineTimeout, EngineCrashed) as exc:  # making a value hung or crashed
            report.load_error = f"the engine's basics do not work: {exc}"
        report.findings += list(run.notes)
    report.seconds = time.perf_counter() - start
    return report


def _import_findings(report: Report, hello: dict[str, Any]) -> None:
    seconds = hello.get("seconds", 0.0)
    text = (hello.get("output") or "").strip()
    if text:
        lines = text.splitlines()
        report.findings.append(
            f"importing the engine printed {len(lines)}{'+' if len(text) >= 3900 else ''} "
            f"line(s) (first: {lines[0][:100]!r})"
        )
    if seconds > 1.0:
        report.findings.append(f"importing the engine took {seconds:.1f} s")


def _run_all(run: _Run, require: Sequence[str], min_depth: int) -> None:
    report = run.report
    if run.progress:
        run.progress("what the engine supports")
    basics = run.engine.request({"kind": "basics"}, run.timeout)
    if basics.get("basics"):
        report.load_error = f"the engine's basics do not work: {basics['basics']}"
        return
    supported, hung = [], []
    for name in OPERATIONS:
        row = Row(name, OPERATIONS[name].label, "operation")
        report.rows.append(row)
        try:
            info = run.engine.request(
                {"kind": "probe", "op": name},
                run.timeout,
                f"trying {OPERATIONS[name].label}",
            )
        except (EngineTimeout, EngineCrashed) as exc:
            op = OPERATIONS[name]
            probe = Program(
                op.values,
                (Step(name, tuple(range(op.values)), _worker.PROBE_C if op.has_const else None),),
                ((_worker.PROBE_A, _worker.PROBE_B)[: op.values],),
            )
            run._fail(row, probe, f"{exc}", FAIL, False, hung=True)
            hung.append(name)
            continue
        if info["status"] == "missing":
            row.status = FAIL if name in require else UNSUPPORTED
            row.detail = f"{info['type']}: {info['message']}".rstrip(": ")[:160]
        else:
            supported.append(name)

    for name in supported:
        row = report.row(name)
        strategy = programs(ops=[name], require=name, shared=False, max_steps=3)
        run.run_row(row, operation_cases(name), strategy)
    ok = [name for name in supported if report.row(name).status == PASS]

    mixed = Row("mixed", f"mixed: random trees over {len(ok)} operations", "mixed")
    laws = [
        (
            Row("reuse", "law: an input used twice accumulates", "law"),
            reuse_cases(ok, supported),
            False,
        ),
        (
            Row("shared", "law: shared subexpressions (DAGs)", "law"),
            shared_cases(ok, supported),
            True,
        ),
    ]
    twice = Row("twice", "semantics: backward() twice doubles gradients", "semantics")
    report.rows += [mixed, *(row for row, _, _ in laws), twice]
    for row, cases, shared in laws:
        if not cases:
            row.status, row.detail = SKIPPED, "needs a + b, a * b or a - b"
            continue
        law_strategy = (
            programs(ops=ok, max_steps=6, max_inputs=1 + shared, shared=shared) if ok else None
        )
        run.run_row(row, cases, law_strategy)
    if len(ok) < 1:
        for r in (mixed, twice):
            r.status, r.detail = SKIPPED, "no operation passed"
    else:
        run.run_row(mixed, [], programs(ops=ok, max_steps=6, max_inputs=3, shared=False))
        cases = twice_cases(ok)
        if cases:
            strategy = programs(ops=ok, max_steps=4, max_inputs=2, shared=True, points=1)
            run.run_row(twice, cases, strategy, twice=True, failing=DIFFERS)
            if twice.counterexample:
                twice.counterexample = _TWICE + twice.counterexample
        else:
            twice.status, twice.detail = SKIPPED, "needs a * b or a + b"

    for key, label, (steps, points) in EDGES:
        row = Row(key, label, "edge")
        report.rows.append(row)
        needed = {s.op for s in steps}
        if not needed <= set(supported):
            row.status, row.detail = SKIPPED, f"needs {', '.join(sorted(needed))}"
            continue
        program = Program(max(i for s in steps for i in s.args) + 1, steps, points)
        if run.progress:
            run.progress(label)
        run._attempt(row, program, False, DIFFERS)

    report.rows.append(_deep(run, ok, min_depth))


def _deep(run: _Run, ok: Sequence[str], min_depth: int) -> Row:
    row = Row("deep", "limit: deep graphs", "limit")
    op = _first(ok, "add", "add_number", "radd")
    if op is None:
        row.status, row.detail = SKIPPED, "needs a + b or a + c"
        return row
    if run.progress:
        run.progress(row.label)
    reached = 0
    for depth in DEPTHS:
        try:
            reply = run.engine.request(
                {"kind": "deep", "op": op, "depth": depth},
                run.timeout * max(1, depth // 1000),
                f"backpropagating through a chain of {depth:,}",
            )
            problem = _error_text(reply) if "error" in reply else None
        except (EngineTimeout, EngineCrashed) as exc:
            problem = str(exc)
        row.examples += 1
        if problem is not None:
            row.status = FAIL if reached < min_depth else LIMITED
            row.detail = f"backward() works to depth {reached:,}; at {depth:,}: {problem}"[:200]
            return row
        reached = depth
    row.detail = f"backward() works to depth {reached:,}"
    return row


# --- output ---------------------------------------------------------------------------------------


def verdict(report: Report) -> str:
    if report.load_error is not None:
        return f"NOT CHECKED: {report.load_error.splitlines()[0]}"
    failed = report.failures()
    counted = [r for r in report.rows if r.status not in (UNSUPPORTED, SKIPPED)]
    examples = sum(r.examples for r in report.rows)
    unsupported = sum(r.status == UNSUPPORTED for r in report.rows)
    tail = f"{examples} programs, {report.seconds:.1f} s, seed {report.seed}" + (
        f"; {unsupported} operations not supported" if unsupported else ""
    )
    if not failed:
        return f"CONFORMS: {len(counted)} checks hold ({tail})."
    return f"DOES NOT CONFORM: {len(failed)} of {len(counted)} checks failed ({tail})."


def format_report(report: Report, *, markdown: bool = False) -> str:
    """The report as text (or Markdown): header, table, findings, failures, verdict."""
    out = [
        f"micrograd verify --engine {report.target}: profile {report.profile} "
        f"({report.examples} random programs per check), seed {report.seed} "
        f"(replay with --seed {report.seed})",
        "",
    ]
    if report.engine:
        e = report.engine
        kind = "adapter" if e.get("adapter") else "value class"
        out.append(
            f"engine: {kind} {e.get('attr')} from {e.get('module')} "
            f"({e.get('file')}), imported in {e.get('seconds', 0.0):.2f} s"
        )
        out.append("")
    if report.load_error:
        out += [report.load_error, "", verdict(report)]
        return "\n".join(out) + "\n"
    head = ["check", "status", "programs", "detail"]
    body = [
        [
            r.label,
            r.status,
            str(r.examples) if r.examples else "",
            r.detail if r.status != PASS or r.kind == "limit" else "",
        ]
        for r in report.rows
    ]
    if markdown:
        out += ["| " + " | ".join(head) + " |", "|---|---|---:|---|"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
    else:
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(3)]
        for r in [head, *body]:
            cells = "  ".join(f"{c:<{w}}" for c, w in zip(r[:3], widths, strict=True))
            out.append(f"{cells}  {r[3]}".rstrip())
    if report.findings:
        out += ["", "findings:"] + [f"  - {f}" for f in report.findings]
    for failed in report.rows:
        if failed.counterexample and failed.status != PASS:
            block = failed.counterexample.rstrip("\n")
            out += ["", f"{failed.label} ({failed.status}):"]
            out += [f"```\n{block}\n```"] if markdown else [block]
    out += ["", verdict(report)]
    return "\n".join(out) + "\n"
