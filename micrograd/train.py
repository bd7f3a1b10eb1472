"""Small training helpers: losses, an accuracy metric and stochastic gradient descent.

Every loss is built from :class:`~micrograd.Value`'s public operators only, so its value and
gradient are compositions of registry operators and inherit their numeric contract. Predictions may
be :class:`~micrograd.Value` nodes or plain numbers (a plain number is a constant); targets and
labels are plain numbers, or values where noted.

>>> from micrograd import Value
>>> from micrograd.train import mse
>>> p = Value(3.0)
>>> loss = mse([p, 1.0], [1.0, 1.0])  # ((3 - 1)**2 + (1 - 1)**2) / 2
>>> loss.backward()
>>> loss.data, p.grad
(2.0, 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from .engine import Value, _operand, _ordered

__all__ = ["SGD", "accuracy", "bce_with_logits", "hinge", "l2", "mse"]

Scalar = Value | float
"""A graph node or a plain real number (``int``, ``float``, NumPy scalars, ...)."""


def mse(preds: Sequence[Scalar], targets: Sequence[Scalar]) -> Value:
    """Mean squared error ``mean((p - t) ** 2)``.

    Raises:
        TypeError: an element is neither a :class:`Value` nor a real number.
        ValueError: the sequences are empty or differ in length.
    """
    pairs = _pairs(preds, targets, "preds", "targets", "mse")
    errors = [
        _value(p, "preds", i, "mse") - _number_or_value(t, "targets", i, "mse")
        for i, (p, t) in enumerate(pairs)
    ]
    return _mean([e**2 for e in errors])


def hinge(scores: Sequence[Scalar], labels: Sequence[float]) -> Value:
    """The SVM max-margin loss ``mean(relu(1 - y * s))`` for labels ``y`` of ``-1`` or ``1``.

    A sample costs nothing once its score is on the right side of 0 with a margin of at least 1.

    Raises:
        TypeError: a score is not a :class:`Value` or real number, or a label is not a number.
        ValueError: the sequences are empty or differ in length, or a label is not ``-1`` or ``1``.
    """
    pairs = _pairs(scores, labels, "scores", "labels", "hinge")
    margins = [
        _value(s, "scores", i, "hinge") * _sign_label(y, i, "hinge")
        for i, (s, y) in enumerate(pairs)
    ]
    return _mean([(1.0 - m).relu() for m in margins])


def bce_with_logits(logits: Sequence[Scalar], targets: Sequence[Scalar]) -> Value:
    """Binary cross-entropy on logits, averaged: ``mean(softplus(z) - z * y)``.

    For a logit ``z`` and a target probability ``y`` in [0, 1] this is
    ``-y * log(sigmoid(z)) - (1 - y) * log(1 - sigmoid(z))``, computed in the stable form
    ``relu(z) - z * y + log(1 + exp(-|z|))``: the exponent is never positive, so nothing overflows
    for any finite ``z`` (``z = ±1e4`` gives a loss of 0 or ``1e4`` and a gradient of 0 or ±1/n).

    The form is built per sample on the side of 0 that ``z`` lies on, as ``z - z*y + log(1 +
    exp(-z))`` for ``z > 0`` and ``-(z*y) + log(1 + exp(z))`` otherwise. These are the same values,
    but the gradient is right everywhere: it is ``(sigmoid(z) - y) / n``, including at ``z = 0``,
    where ``relu`` and ``abs`` would each contribute their kink gradient of 0 and give ``-y / n``.

    ``log(1 + e)`` is the logarithm of the rounded sum (there is no ``log1p`` operator), so each
    sample's loss is accurate to about 1e-16 absolute rather than relative: a sample whose logit is
    37 or more on the right side of 0 contributes exactly 0 instead of about ``exp(-37) = 9e-17``.

    Raises:
        TypeError: an element is neither a :class:`Value` nor a real number.
        ValueError: the sequences are empty or differ in length, or a target is outside [0, 1].
    """
    who = "bce_with_logits"
    pairs = _pairs(logits, targets, "logits", "targets", who)
    terms = []
    for i, (z_in, y_in) in enumerate(pairs):
        z = _value(z_in, "logits", i, who)
        y = _number_or_value(y_in, "targets", i, who)
        y_data = y.data if isinstance(y, Value) else y
        if not 0.0 <= y_data <= 1.0:
            raise ValueError(f"{who}: targets[{i}] must be a probability in [0, 1], got {y_data!r}")
        if z.data > 0.0:
            terms.append(z - z * y + (1.0 + (-z).exp()).log())
        else:
            terms.append(-(z * y) + (1.0 + z.exp()).log())
    return _mean(terms)


def l2(params: Iterable[Scalar]) -> Value:
    """The sum of squares ``sum(p * p)``, e.g. ``alpha * l2(model.parameters())`` as a penalty.

    Raises:
        TypeError: an element is neither a :class:`Value` nor a real number.
        ValueError: ``params`` is empty.
    """
    squares = []
    for i, p in enumerate(_listed(params, "params", "l2")):
        v = _value(p, "params", i, "l2")
        squares.append(v * v)
    if not squares:
        raise ValueError("l2: params is empty (it needs at least one parameter)")
    return _total(squares)


def accuracy(scores: Sequence[Scalar], labels: Sequence[float]) -> float:
    """The fraction of samples whose score has the sign of its label (``-1`` or ``1``).

    A score counts as predicting ``1`` when it is strictly greater than 0, and ``-1`` otherwise:
    a score of exactly 0 (or nan) predicts ``-1``.

    Raises:
        TypeError: a score is not a :class:`Value` or real number, or a label is not a number.
        ValueError: the sequences are empty or differ in length, or a label is not ``-1`` or ``1``.
    """
    pairs = _pairs(scores, labels, "scores", "labels", "accuracy")
    right = 0
    for i, (s, y) in enumerate(pairs):
        score = s.data if isinstance(s, Value) else _number(s, "scores", i, "accuracy")
        right += (score > 0.0) == (_sign_label(y, i, "accuracy") > 0.0)
    return right / len(pairs)


class SGD:
    """Stochastic gradient descent with optional momentum and weight decay, as ``torch.optim.SGD``.

    Each :meth:`step` updates every parameter ``p`` in place from its gradient::

        g = p.grad + weight_decay * p.data
        v = g on the first step, else momentum * v + g      (only when momentum > 0)
        p.data -= lr * v   (or lr * g without momentum)

    ``lr`` may be changed between steps (a schedule); ``momentum`` and ``weight_decay`` are fixed.

    >>> from micrograd import Value
    >>> w = Value(1.0)
    >>> w.grad = 0.5
    >>> opt = SGD([w], lr=0.1)
    >>> opt.step()
    >>> w.data
    0.95
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        *,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        self.params: list[Value] = _parameters(params)
        self.lr = lr
        self.momentum = _non_negative(momentum, "momentum")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")
        self._velocity: list[float] | None = None

    @property
    def lr(self) -> float:
        """The learning rate: a finite number, at least 0."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _non_negative(value, "lr")

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its current gradient."""
        lr, momentum, decay = self._lr, self.momentum, self.weight_decay
        grads = [p.grad + decay * p.data if decay else p.grad for p in self.params]
        if momentum:
            if self._velocity is None:
                self._velocity = grads
            else:
                self._velocity = [
                    momentum * v + g for v, g in zip(self._velocity, grads, strict=True)
                ]
            grads = self._velocity
        for p, g in zip(self.params, grads, strict=True):
            p.data -= lr * g

    def __repr__(self) -> str:
        return (
            f"SGD({len(self.params)} parameters, lr={self._lr!r}, momentum={self.momentum!r}, "
            f"weight_decay={self.weight_decay!r})"
        )


# --- helpers ------------------------------------------------------------------------------------


def _total(terms: list[Value]) -> Value:
    """``terms[0] + terms[1] + ...``, left to right (no extra zero node)."""
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def _mean(terms: list[Value]) -> Value:
    return _total(terms) / len(terms)


def _listed(xs: object, name: str, who: str) -> list[object]:
    return list(_ordered(xs, f"{who}({name})", "Values or numbers"))


def _pairs(a: object, b: object, a_name: str, b_name: str, who: str) -> list[tuple[object, object]]:
    xs, ys = _listed(a, a_name, who), _listed(b, b_name, who)
    if not xs:
        raise ValueError(f"{who}: {a_name} is empty")
    if len(xs) != len(ys):
        raise ValueError(
            f"{who}: {a_name} and {b_name} differ in length: {len(xs)} {a_name}, {len(ys)} {b_name}"
        )
    return list(zip(xs, ys, strict=True))


def _number(x: object, name: str, i: int, who: str) -> float:
    c = None if isinstance(x, Value) else _operand(x, f"{who}: {name}[{i}]")
    if c is None:
        raise TypeError(f"{who}: {name}[{i}] must be a real number, got {type(x).__name__}")
    return c


def _number_or_value(x: object, name: str, i: int, who: str) -> Value | float:
    if isinstance(x, Value):
        return x
    c = _operand(x, f"{who}: {name}[{i}]")
    if c is None:
        raise TypeError(
            f"{who}: {name}[{i}] must be a Value or a real number, got {type(x).__name__}"
        )
    return c


def _value(x: object, name: str, i: int, who: str) -> Value:
    v = _number_or_value(x, name, i, who)
    return v if isinstance(v, Value) else Value(v)


def _sign_label(y: object, i: int, who: str) -> float:
    label = _number(y, "labels", i, who)
    if label not in (-1.0, 1.0):
        raise ValueError(f"{who}: labels[{i}] must be -1 or 1, got {y!r}")
    return label


def _non_negative(x: object, name: str) -> float:
    c = None if isinstance(x, bool) else _operand(x, f"SGD: {name}")
    if c is None:
        raise TypeError(f"SGD: {name} must be a real number, got {type(x).__name__}")
    if not (math.isfinite(c) and c >= 0.0):
        raise ValueError(f"SGD: {name} must be a finite number >= 0, got {x!r}")
    return c


def _parameters(params: object) -> list[Value]:
    ps = list(_ordered(params, "SGD(params)", "Values"))
    if not ps:
        raise ValueError("SGD: params is empty (it needs at least one parameter)")
    values: list[Value] = []
    first: dict[Value, int] = {}
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"SGD: params[{i}] must be a Value, got {type(p).__name__}")
        j = first.setdefault(p, i)
        if j != i:
            raise ValueError(
                f"SGD: params[{i}] is params[{j}] again: each parameter must appear once"
            )
        values.append(p)
    return values
