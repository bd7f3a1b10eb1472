"""A graph built step by step: new leaves, operators joining existing nodes, backward from random
nodes, zero_grad — every gradient checked against an independent reference after each step."""

from __future__ import annotations

import math

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from micrograd import OPS, Value
from micrograd.testing.domains import BOUND, MARGIN
from micrograd.testing.opinfo import OPERATIONS, RECORDS
from micrograd.testing.strategies import constants, floats_within


class GraphMachine(RuleBasedStateMachine):
    """Model: for every node, its operator, operands and constant, its value by its record's
    reference formula, and the gradient it should hold: the sum, over the backward calls since
    the last zero_grad, of d(root)/d(node) computed by forward-mode dual numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[Value] = []
        self.program: list[tuple[str, tuple[int, ...], float | None] | None] = []
        self.data: list[float] = []
        self.expected: list[float] = []
        self.scale: list[float] = []

    def _add(self, v: Value, step: tuple[str, tuple[int, ...], float | None] | None) -> int:
        self.nodes.append(v)
        self.program.append(step)
        self.data.append(v.data)
        self.expected.append(0.0)
        self.scale.append(0.0)
        return len(self.nodes) - 1

    @initialize(x=st.floats(-4, 4, allow_nan=False))
    def first_leaf(self, x: float) -> None:
        self._add(Value(x), None)

    @rule(x=st.one_of(st.just(0.0), st.floats(-4, 4, allow_nan=False)))
    def new_leaf(self, x: float) -> None:
        self._add(Value(x), None)

    @rule(name=st.sampled_from(list(OPS)), data=st.data())
    def join(self, name: str, data: st.DataObject) -> None:
        op, domain = OPS[name], RECORDS[name].domain
        c = data.draw(constants(OPERATIONS[name]), label="c") if op.has_const else None
        arity = op.arity if op.arity >= 0 else op.groups * data.draw(st.integers(1, 3))
        args = []
        for slot in range(arity):
            i = data.draw(st.integers(0, len(self.nodes) - 1), label=f"operand {slot}")
            args.append(i)
        operands = [self.data[i] for i in args]
        at_kink = arity == 1 and operands[0] in domain.kinks
        if not (at_kink or (domain.clear(operands, c, MARGIN) and domain.tame(operands, c))):
            for slot in range(arity):  # fresh leaves inside the domain
                x = data.draw(floats_within(domain.fresh(slot, c)), label=f"fresh {slot}")
                args[slot] = self._add(Value(x), None)
            operands = [self.data[i] for i in args]
        want = RECORDS[name].reference(operands, c)
        if not (math.isfinite(want) and abs(want) <= BOUND):
            return
        v = OPERATIONS[name].apply(arity, c)(*[self.nodes[i] for i in args])
        assert math.isclose(v.data, want, rel_tol=4 * 2**-52), (name, operands, c, v.data, want)
        assert v.grad == 0.0
        self._add(v, (name, tuple(args), c))

    @rule(data=st.data())
    def backward(self, data: st.DataObject) -> None:
        root = data.draw(st.integers(0, len(self.nodes) - 1), label="root")
        self.nodes[root].backward()
        for j in range(root + 1):
            d = self._derivative(root, j)
            self.expected[j] += d
            self.scale[j] += abs(d)

    @rule()
    def zero_grad(self) -> None:
        for i, v in enumerate(self.nodes):
            v.grad = 0.0
            self.expected[i] = 0.0
            self.scale[i] = 0.0

    def _derivative(self, root: int, seed: int) -> float:
        """d(node root)/d(node seed) by dual numbers over the recorded program."""
        tangent = [0.0] * (root + 1)
        tangent[seed] = 1.0
        for k in range(seed + 1, root + 1):
            step = self.program[k]
            if step is None:
                continue
            name, args, c = step
            if all(tangent[i] == 0.0 for i in args):
                continue
            partials = RECORDS[name].reference_partials([self.data[i] for i in args], c)
            tangent[k] = math.fsum(p * tangent[i] for p, i in zip(partials, args, strict=True))
        return tangent[root]

    @invariant()
    def every_gradient_matches_the_reference(self) -> None:
        for i, v in enumerate(self.nodes):
            tol = 1e-9 * max(1.0, self.scale[i])
            assert abs(v.grad - self.expected[i]) <= tol, (
                f"node {i} ({self.program[i]}): grad {v.grad!r}, reference {self.expected[i]!r}"
            )


TestGraphMachine = GraphMachine.TestCase
