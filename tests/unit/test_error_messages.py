"""Error messages name what went wrong, who complained and with what; number operands become
floats.

The other tests check that bad arguments are rejected; these check the whole message, so that a
message naming the wrong class, argument or type (or none) is caught.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from fractions import Fraction

import pytest

from micrograd import MLP, OPS, AnomalyError, Layer, Neuron, Op, Value, detect_anomaly

# --- operands -----------------------------------------------------------------------------------

OPERATORS: list[tuple[str, Callable[[object, object], object]]] = [
    ("+", lambda a, b: a + b),  # type: ignore[operator]
    ("-", lambda a, b: a - b),  # type: ignore[operator]
    ("*", lambda a, b: a * b),  # type: ignore[operator]
    ("/", lambda a, b: a / b),  # type: ignore[operator]
    ("**", lambda a, b: a**b),  # type: ignore[operator]
]


@pytest.mark.parametrize(("symbol", "apply"), OPERATORS, ids=[s for s, _ in OPERATORS])
@pytest.mark.parametrize("value_on_the_left", [True, False])
def test_a_sequence_operand_is_named_with_the_operator(
    symbol: str, apply: Callable[[object, object], object], value_on_the_left: bool
) -> None:
    v = Value(1.0)
    message = (
        f"unsupported operand type(s) for {symbol}: 'Value' and 'tuple' "
        "(a Value combines with Values and real numbers)"
    )
    operands = (v, (1.0,)) if value_on_the_left else ((1.0,), v)
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        apply(*operands)


@pytest.mark.parametrize(("symbol", "apply"), OPERATORS, ids=[s for s, _ in OPERATORS])
@pytest.mark.parametrize("value_on_the_left", [True, False])
def test_int_operands_become_float_arguments(
    symbol: str, apply: Callable[[object, object], object], value_on_the_left: bool
) -> None:
    v = Value(3.0)
    out = apply(v, 2) if value_on_the_left else apply(2, v)
    assert isinstance(out, Value)
    node = out
    while node.arg is None:  # 2 - v is (-v) + 2
        node = node.parents[0]
    assert type(node.arg) is float
    assert abs(node.arg) == 2.0
    expected = {
        "+": (5.0, 5.0),
        "-": (1.0, -1.0),
        "*": (6.0, 6.0),
        "/": (1.5, 2.0 / 3.0),
        "**": (9.0, 8.0),
    }[symbol]
    assert out.data == expected[0 if value_on_the_left else 1]


def test_subtracting_a_number_stores_its_negation() -> None:
    out = Value(3.0) - 2
    assert out.op is OPS["add_const"]
    assert type(out.arg) is float
    assert out.arg == -2.0
    out = 2 - Value(3.0)
    assert out.op is OPS["add_const"]
    assert type(out.arg) is float
    assert out.arg == 2.0
    assert out.parents[0].op is OPS["neg"]


# --- nn -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Neuron(0), ValueError, "nin must be at least 1, got 0"),
        (lambda: Neuron(2.0), TypeError, "nin must be an int, got float"),  # type: ignore[arg-type]
        (lambda: Layer(2, "3"), TypeError, "nout must be an int, got str"),  # type: ignore[arg-type]
        (lambda: MLP(0, [1]), ValueError, "nin must be at least 1, got 0"),
        (lambda: MLP(True, [1]), TypeError, "nin must be an int, got bool"),
        (lambda: MLP(2, [3, 0]), ValueError, "nouts[1] must be at least 1, got 0"),
        (lambda: MLP(2, [3, None]), TypeError, "nouts[1] must be an int, got NoneType"),  # type: ignore[list-item]
        (
            lambda: MLP(2, [3], rng="seed"),  # type: ignore[arg-type]
            TypeError,
            "rng must be a random.Random, an int seed or None, got str",
        ),
        (
            lambda: Value("1"),  # type: ignore[arg-type]
            TypeError,
            "Value() takes a real number (int, float, Fraction, ...), got str",
        ),
        (
            lambda: Value(10**400),
            OverflowError,
            "Value(): an int of 1329 bits is too large to convert to a float",
        ),
        (
            lambda: Value(Fraction(10**400)),
            OverflowError,
            "Value(): Fraction(1000000000000000000000000000000 is too large to convert to a float",
        ),
        (
            lambda: Value(1.0) + 10**400,
            OverflowError,
            "operand: an int of 1329 bits is too large to convert to a float",
        ),
        (
            lambda: Value(1.0) * Fraction(10**400, 3),  # type: ignore[operator]
            OverflowError,
            "operand: Fraction(1000000000000000000000000000000 is too large to convert to a float",
        ),
        (
            lambda: Value(1.0).backward(gradient=10**400),
            OverflowError,
            "backward(gradient=...): an int of 1329 bits is too large to convert to a float",
        ),
    ],
)
def test_bad_arguments_are_named_in_full(
    make: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        make()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: Neuron(2, rng=0)([1.0]), ValueError, "Neuron takes 2 inputs, got 1"),
        (
            lambda: Neuron(2, rng=0)(Value(1.0)),  # type: ignore[arg-type]
            TypeError,
            "Neuron takes a sequence of 2 inputs, got Value",
        ),
        (
            lambda: Neuron(2, rng=0)({1.0, 2.0}),  # type: ignore[arg-type]
            TypeError,
            "Neuron takes a sequence of 2 inputs, got a set, which has no order of its own "
            "(make it a list in the order you mean)",
        ),
        (
            lambda: MLP(2, [3, 1], rng=0)(None),  # type: ignore[arg-type]
            TypeError,
            "Layer takes a sequence of 2 inputs, got NoneType",
        ),
        (lambda: Layer(2, 3, rng=0)([1.0]), ValueError, "Layer takes 2 inputs, got 1"),
        (
            lambda: Layer(2, 3, rng=0)("ab"),  # type: ignore[arg-type]
            TypeError,
            "Layer takes a sequence of 2 inputs, got str",
        ),
        (lambda: MLP(2, [3, 1], rng=0)([1.0, 2.0, 3.0]), ValueError, "Layer takes 2 inputs, got 3"),
    ],
)
def test_bad_inputs_name_the_module_that_got_them(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        call()


# --- anomaly mode -------------------------------------------------------------------------------


@contextlib.contextmanager
def _vjp(op: Op, vjp: Callable[[Value, float], tuple[float, ...]]) -> Iterator[None]:
    real = op.vjp
    object.__setattr__(op, "vjp", vjp)
    try:
        yield
    finally:
        object.__setattr__(op, "vjp", real)


def test_anomaly_mode_catches_a_rule_with_too_few_gradients() -> None:
    a, b = Value(2.0), Value(3.0)
    out = a * b
    with _vjp(OPS["mul"], lambda node, g: (g,)), detect_anomaly():
        message = "the vjp of mul(2.0, 3.0) = 6.0 gave 1 gradients for 2 operands"
        with pytest.raises(AnomalyError, match=f"^{re.escape(message)}$"):
            out.backward()
    assert (a.grad, b.grad) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("a", "b", "error", "message"),
    [
        (
            Value(1.0),
            [1.0],
            TypeError,
            "Value.dot(a) takes a sequence of Values or numbers, got Value",
        ),
        ([1.0], "a", TypeError, "Value.dot(b) takes a sequence of Values or numbers, got str"),
        (
            [1.0],
            None,
            TypeError,
            "Value.dot(b) takes a sequence of Values or numbers, got NoneType",
        ),
        (
            [1.0, 2.0],
            [1.0],
            ValueError,
            "Value.dot takes two sequences of the same length >= 1, got 2 and 1",
        ),
        ([], [], ValueError, "Value.dot takes two sequences of the same length >= 1, got 0 and 0"),
    ],
)
def test_dot_says_what_it_takes(a: object, b: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        Value.dot(a, b)  # type: ignore[arg-type]


def test_anomaly_mode_names_the_gradient_that_arrived() -> None:
    x = Value(0.0)
    out = x.sqrt() * 3.0
    message = (
        "gradient of pow_const(0.0, c=0.5) = 0.0 with respect to operand 0 is inf "
        "(incoming gradient 3.0)"
    )
    with detect_anomaly(), pytest.raises(AnomalyError, match=f"^{re.escape(message)}$"):
        out.backward()
