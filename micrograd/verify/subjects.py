"""What the verification checks and what it checks against: subjects and references.

A :class:`Subject` is evaluated on expressions: micrograd itself (:class:`Micrograd`, in this
process) or another engine (:class:`Engine`, in the child process of
:class:`~micrograd.verify.process.EngineProcess`, driven through its adapter). A
:class:`Reference` evaluates the same expressions and says how closely the subject must agree:
finite differences and the oracles for micrograd (:data:`REFERENCES`), micrograd itself for
another engine (:data:`AGAINST_MICROGRAD`), each with its policy from
:mod:`micrograd.testing.tolerances`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from ..engine import Value
from ..testing.compare import Disagreement, compare
from ..testing.expr import Expr
from ..testing.gradcheck import fd_compare, fd_evaluation
from ..testing.opinfo import OPERATIONS
from ..testing.oracles import ORACLES, Evaluation, micrograd_evaluation
from ..testing.tolerances import ENGINE, MICROGRAD, ORACLE_ULPS, Policy
from . import _worker
from .adapter import Adapter
from .process import EngineCrashed, EngineProcess, EngineTimeout

__all__ = [
    "AGAINST_MICROGRAD",
    "REFERENCES",
    "Broken",
    "Engine",
    "Micrograd",
    "Reference",
    "Subject",
    "error_text",
]


class Broken(Exception):
    """The subject failed on a program: it raised, gave something that is not a number, or
    (``fatal``) hung or crashed. ``index`` is the point where it happened."""

    def __init__(self, message: str, index: int = 0, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.message, self.index, self.fatal = message, index, fatal
        self.expr: Expr | None = None  #: the program, at the point where it happened


@dataclass(frozen=True)
class Reference:
    """What a subject is compared with: its evaluation of an expression (``None`` where it
    does not apply, as finite differences at a kink) and how the two must agree."""

    name: str
    evaluate: Callable[[Expr], Evaluation | None]
    judge: Callable[[Expr, Evaluation, Evaluation], list[Disagreement]]
    exact: bool = False


def _oracle(name: str) -> Reference:
    oracle = ORACLES[name]

    def evaluate(expr: Expr) -> Evaluation | None:
        return None if not oracle.kinks and expr.at_kink() else oracle.evaluate(expr)

    judge = partial(compare, ulps=ORACLE_ULPS, absolute=oracle.absolute)
    return Reference(name, evaluate, judge, oracle.exact)


#: micrograd's references, by name (``--oracles``).
REFERENCES: Final[dict[str, Callable[[], Reference]]] = {
    "fd": lambda: Reference("fd", fd_evaluation, fd_compare),
    **{name: partial(_oracle, name) for name in ORACLES},
}
AGAINST_MICROGRAD: Final = Reference(
    "micrograd",
    micrograd_evaluation,
    partial(compare, ulps=ENGINE.ulps, atol=ENGINE.atol, absolute=ENGINE.absolute),
)


class Subject:
    """What is checked: how to evaluate it, what it supports, how to reproduce its results."""

    name = "micrograd"
    policy: Policy = MICROGRAD
    points = 8  #: points per random example
    edges = False  #: whether the edge rows (micrograd's contract) apply

    def __init__(self) -> None:
        self.notes: dict[str, None] = {}

    def operations(self) -> list[str]:
        return list(OPERATIONS)

    def probe(self, name: str) -> str | None:
        """``None`` if the subject has operation ``name``, else why not."""
        return None

    def evaluate(self, expr: Expr, mode: str = "") -> Evaluation:
        """Values and gradients at every point (see :data:`micrograd.testing.laws.Evaluate`)."""
        raise NotImplementedError

    def deep(self, method: str, depth: int) -> str | None:
        """What goes wrong backpropagating through a chain ``depth`` long, if anything."""
        raise NotImplementedError

    def snippet(self, expr: Expr, mode: str) -> str:
        raise NotImplementedError


class Micrograd(Subject):
    """micrograd itself, in this process."""

    def evaluate(self, expr: Expr, mode: str = "") -> Evaluation:
        return micrograd_evaluation(expr, mode)

    def deep(self, method: str, depth: int) -> str | None:
        reply = _worker.deep(Adapter(Value), method, depth)
        return error_text(reply) if "error" in reply else None

    def snippet(self, expr: Expr, mode: str) -> str:
        return expr.snippet(mode=mode)


class Engine(Subject):
    """Another engine, in its own process (see :class:`~micrograd.verify.process.EngineProcess`)."""

    policy = ENGINE
    points = 4
    edges = True

    def __init__(self, process: EngineProcess, info: dict[str, Any], timeout: float) -> None:
        super().__init__()
        self.process, self.info, self.timeout = process, info, timeout
        self.name = process.target
        self.printed = 0

    def operations(self) -> list[str]:
        return [name for name, op in OPERATIONS.items() if op.method is not None]

    def request(self, message: dict[str, Any], doing: str, timeout: float = 0.0) -> dict[str, Any]:
        try:
            reply = self.process.request(message, timeout or self.timeout, doing)
        except (EngineTimeout, EngineCrashed) as exc:
            raise Broken(str(exc), fatal=True) from None
        text = (reply.get("output") or "").strip()
        if text and self.printed < 3:
            self.printed += 1
            self.notes[f"the engine printed while {doing}: {text.splitlines()[0][:100]!r}"] = None
        return reply

    def probe(self, name: str) -> str | None:
        op = OPERATIONS[name]
        if op.method is None:
            return f"{op.label} is micrograd's own API, not one other engines are checked on"
        info = self.request({"kind": "probe", "op": op.method}, f"trying {op.label}")
        if info["status"] != "missing":
            return None
        return f"{info['type']}: {info['message']}".rstrip(": ")[:160]

    def evaluate(self, expr: Expr, mode: str = "") -> Evaluation:
        message = {"kind": "eval", "program": expr.wire(), "points": expr.points, "mode": mode}
        results = self.request(message, f"computing {expr.source()}")["results"]
        values, grads = [], []
        for index, result in enumerate(results):
            for note in result.get("notes", ()):
                self.notes[note] = None
            if "error" in result:
                raise Broken(error_text(result), index)
            values.append(result["value"])
            grads.append(tuple(result["again" if mode else "grads"]))
        return Evaluation(tuple(values), tuple(grads))

    def deep(self, method: str, depth: int) -> str | None:
        message = {"kind": "deep", "op": method, "depth": depth}
        try:
            reply = self.request(message, f"backpropagating through a chain of {depth:,}")
        except Broken as exc:
            return exc.message
        return error_text(reply) if "error" in reply else None

    def snippet(self, expr: Expr, mode: str) -> str:
        """A snippet that runs from any directory: it imports the engine from where the kit
        found it, and stops if that import finds another module of the same name."""
        info = self.info
        module, attr, file = (
            info.get("module", "engine"),
            info.get("attr", "Value"),
            info.get("file"),
        )
        head = []
        if info.get("path"):
            head += ["import sys", f"sys.path.insert(0, {info['path']!r})"]
        if file:
            head += [
                f"import {module}",
                f"assert {module}.__file__ == {file!r}, {module}.__file__",
            ]
        if info.get("adapter"):
            head += [f"from {module} import {attr}", "", f"A = {attr}()"]
            return expr.snippet(header=head, adapter="A", mode=mode)
        head.append(f"from {module} import {attr}{'' if attr == 'Value' else ' as Value'}")
        return expr.snippet(header=head, mode=mode)


def error_text(result: dict[str, Any]) -> str:
    """What went wrong in the engine's process, from its reply."""
    err = result["error"]
    phase = result.get("phase", "")
    if err["type"] == "finding":
        return f"{err['message']} ({phase})" if phase else err["message"]
    where = f" at {err['where']}" if err.get("where") else ""
    return f"raised {err['type']}: {err['message']}{where} ({phase})"
