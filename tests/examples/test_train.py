"""micrograd.train: losses, accuracy and SGD against hand-computed values; argument checks."""

from __future__ import annotations

import doctest
import math
from typing import Any

import pytest

import micrograd.train
from micrograd import MLP, Value, detect_anomaly
from micrograd.train import SGD, accuracy, bce_with_logits, hinge, l2, mse


def test_docstring_examples() -> None:
    assert doctest.testmod(micrograd.train).failed == 0


# --- mse ----------------------------------------------------------------------------------------


def test_mse_value_and_gradients() -> None:
    p, q, t = Value(3.0), Value(-1.0), Value(0.5)
    loss = mse([p, q], [1.0, t])  # ((3 - 1)**2 + (-1 - 0.5)**2) / 2 = (4 + 2.25) / 2
    loss.backward()
    assert loss.data == 3.125
    assert (p.grad, q.grad) == (2.0, -1.5)  # 2 * (p - t) / n
    assert t.grad == 1.5  # targets that are values get the opposite gradient


def test_mse_of_plain_numbers_is_a_value() -> None:
    loss = mse([1.0, 2], [0.0, 0.0])
    assert isinstance(loss, Value)
    assert loss.data == 2.5


def test_mse_is_a_mean_not_a_sum() -> None:
    assert mse([Value(2.0)] * 4, [0.0] * 4).data == 4.0


# --- hinge --------------------------------------------------------------------------------------


def test_hinge_value_and_gradients() -> None:
    s = [Value(0.5), Value(-2.0), Value(3.0), Value(2.0)]
    loss = hinge(s, [1, 1, -1, 1])  # relu(0.5) + relu(3) + relu(4) + relu(-1), over 4
    loss.backward()
    assert loss.data == 7.5 / 4
    # -y / n inside the margin; 0 once the margin is met
    assert [v.grad for v in s] == [-0.25, -0.25, 0.25, 0.0]


def test_hinge_on_the_margin_costs_nothing_and_has_no_gradient() -> None:
    s = Value(1.0)
    loss = hinge([s], [1.0])
    loss.backward()
    assert (loss.data, s.grad) == (0.0, 0.0)


def test_hinge_labels_must_be_plus_or_minus_one() -> None:
    with pytest.raises(ValueError, match=r"labels\[1\] must be -1 or 1, got 0"):
        hinge([1.0, 2.0], [1, 0])
    with pytest.raises(TypeError, match=r"labels\[0\] must be a real number, got Value"):
        hinge([1.0], [Value(1.0)])  # type: ignore[list-item]


# --- binary cross-entropy -----------------------------------------------------------------------


@pytest.mark.parametrize(("z", "y"), [(2.0, 1.0), (-0.7, 0.0), (0.3, 0.25), (-3.0, 0.9)])
def test_bce_matches_the_textbook_formula(z: float, y: float) -> None:
    zv = Value(z)
    loss = bce_with_logits([zv], [y])
    loss.backward()
    s = 1.0 / (1.0 + math.exp(-z))
    assert loss.data == pytest.approx(-y * math.log(s) - (1 - y) * math.log(1 - s), rel=1e-14)
    assert zv.grad == pytest.approx(s - y, rel=1e-14)


@pytest.mark.parametrize("y", [0.0, 0.25, 1.0])
def test_bce_gradient_at_zero_is_one_half_minus_y(y: float) -> None:
    # relu and abs both have gradient 0 at their kink: a literal relu(z) - z*y + log(1 + exp(-|z|))
    # would give -y here instead of sigmoid(0) - y
    z = Value(0.0)
    loss = bce_with_logits([z], [y])
    loss.backward()
    assert loss.data == math.log(2.0)
    assert z.grad == 0.5 - y


@pytest.mark.parametrize(
    ("z", "y", "value", "grad"),
    [(1e4, 0.0, 1e4, 1.0), (1e4, 1.0, 0.0, 0.0), (-1e4, 0.0, 0.0, 0.0), (-1e4, 1.0, 1e4, -1.0)],
)
def test_bce_never_overflows(z: float, y: float, value: float, grad: float) -> None:
    zv = Value(z)
    with detect_anomaly():  # raises at the first inf or nan, forward or backward
        loss = bce_with_logits([zv], [y])
        loss.backward()
    assert (loss.data, zv.grad) == (value, grad)


def test_bce_averages_and_accepts_value_targets() -> None:
    z, t = Value(0.0), Value(1.0)
    loss = bce_with_logits([z, 0.0], [t, 0.0])
    loss.backward()
    assert loss.data == math.log(2.0)
    assert z.grad == -0.25  # (sigmoid(0) - 1) / 2
    assert t.grad == 0.0  # d/dy of -z*y at z = 0


def test_bce_targets_are_probabilities() -> None:
    with pytest.raises(ValueError, match=r"targets\[1\] must be a probability in \[0, 1\], got -1"):
        bce_with_logits([0.0, 0.0], [1.0, -1.0])


# --- l2 and accuracy ----------------------------------------------------------------------------


def test_l2_value_and_gradients() -> None:
    a, b = Value(3.0), Value(-4.0)
    loss = l2([a, b, 2.0])
    loss.backward()
    assert loss.data == 29.0
    assert (a.grad, b.grad) == (6.0, -8.0)


def test_l2_takes_an_iterable() -> None:
    model = MLP(2, [2, 1], rng=0)
    expected = sum(p.data**2 for p in model.parameters())
    assert l2(iter(model.parameters())).data == pytest.approx(expected, rel=1e-15)


def test_accuracy_counts_sign_agreement() -> None:
    scores: list[Value | float] = [0.5, -0.1, Value(2.0), -3.0]
    assert accuracy(scores, [1, -1, 1, -1]) == 1.0
    assert accuracy(scores, [1, 1, -1, -1]) == 0.5
    assert accuracy(scores, [-1, 1, -1, 1]) == 0.0


def test_accuracy_threshold_zero_and_nan_predict_minus_one() -> None:
    assert accuracy([0.0, -0.0, math.nan], [-1, -1, -1]) == 1.0
    assert accuracy([0.0, math.nan], [1, 1]) == 0.0
    assert accuracy([5e-324], [1]) == 1.0  # the smallest positive score predicts 1


# --- argument checks shared by the losses -------------------------------------------------------

LOSSES = [mse, hinge, bce_with_logits, accuracy]


@pytest.mark.parametrize("fn", LOSSES)
def test_empty_inputs_are_rejected(fn: object) -> None:
    with pytest.raises(ValueError, match=r"is empty"):
        fn([], [])  # type: ignore[operator]


@pytest.mark.parametrize("fn", LOSSES)
def test_length_mismatch_is_named(fn: object) -> None:
    with pytest.raises(ValueError, match=r"differ in length: 2 \w+, 3 \w+"):
        fn([1.0, 1.0], [1.0, 1.0, 1.0])  # type: ignore[operator]


@pytest.mark.parametrize("fn", LOSSES)
def test_a_lone_value_is_not_a_sequence(fn: Any) -> None:
    name = fn.__name__
    with pytest.raises(TypeError, match=rf"^{name}\(\w+\) takes a sequence of .*, got Value$"):
        fn(Value(1.0), [1.0])
    with pytest.raises(TypeError, match=rf"^{name}\(\w+\) takes a sequence .*, got NoneType$"):
        fn([1.0], None)


@pytest.mark.parametrize("fn", LOSSES)
def test_unordered_collections_are_refused(fn: Any) -> None:
    with pytest.raises(TypeError, match=rf"^{fn.__name__}\(\w+\) .* got a set, which has no order"):
        fn({1.0, 2.0}, [1.0, 1.0])
    with pytest.raises(TypeError, match=r"got a dict, which has no order"):
        fn([1.0], {1.0: 0.0})


def test_a_number_too_large_for_a_float_names_the_function_and_argument() -> None:
    with pytest.raises(OverflowError, match=r"^mse: targets\[1\]: an int of \d+ bits is too large"):
        mse([1.0, 2.0], [1.0, 10**400])
    with pytest.raises(OverflowError, match=r"^SGD: lr: an int of \d+ bits is too large"):
        SGD([Value(1.0)], lr=10**400)


def test_bad_elements_are_named() -> None:
    with pytest.raises(TypeError, match=r"preds\[1\] must be a Value or a real number, got str"):
        mse([1.0, "2"], [1.0, 2.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"params\[0\] must be a Value or a real number, got list"):
        l2([[1.0]])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="params is empty"):
        l2([])


# --- SGD ----------------------------------------------------------------------------------------


def test_sgd_with_momentum_and_weight_decay_two_steps_by_hand() -> None:
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    p.grad = 0.5
    opt.step()
    # g = 0.5 + 0.01 * 1.0 = 0.51; v = g = 0.51; p = 1.0 - 0.1 * 0.51
    assert p.data == pytest.approx(0.949, rel=1e-15)
    p.grad = -0.2
    opt.step()
    # g = -0.2 + 0.01 * 0.949 = -0.19051; v = 0.9 * 0.51 + g = 0.26849; p = 0.949 - 0.1 * v
    assert p.data == pytest.approx(0.922151, rel=1e-15)


def test_sgd_plain_step_and_zero_grad() -> None:
    a, b = Value(1.0), Value(-2.0)
    a.grad, b.grad = 0.5, -1.0
    opt = SGD([a, b], lr=0.5)
    opt.step()
    assert (a.data, b.data) == (0.75, -1.5)
    opt.step()  # gradients are not cleared by step()
    assert (a.data, b.data) == (0.5, -1.0)
    opt.zero_grad()
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_sgd_weight_decay_alone_shrinks_parameters() -> None:
    p = Value(2.0)
    SGD([p], lr=0.1, weight_decay=0.5).step()  # p - 0.1 * (0 + 0.5 * 2)
    assert p.data == pytest.approx(1.9, rel=1e-15)


def test_sgd_learning_rate_can_follow_a_schedule() -> None:
    p = Value(0.0)
    opt = SGD([p], lr=1.0)
    for k in range(3):
        p.grad = 1.0
        opt.lr = 1.0 - 0.9 * k / 100
        opt.step()
    assert p.data == pytest.approx(-(1.0 + 0.991 + 0.982), rel=1e-15)
    assert opt.lr == pytest.approx(0.982)


def test_sgd_trains_a_model() -> None:
    model = MLP(3, [4, 4, 1], nonlin="tanh", rng=0)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    opt = SGD(model.parameters(), lr=0.1, momentum=0.5)
    losses = []
    for _ in range(30):
        loss = mse([model.forward(x)[0] for x in xs], ys)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < losses[0] / 10


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"lr": -0.1}, ValueError, r"lr must be a finite number >= 0, got -0.1"),
        ({"lr": math.nan}, ValueError, r"lr must be a finite number >= 0, got nan"),
        ({"lr": math.inf}, ValueError, r"lr must be a finite number >= 0, got inf"),
        ({"lr": "0.1"}, TypeError, r"lr must be a real number, got str"),
        ({"lr": 0.1, "momentum": -0.5}, ValueError, r"momentum must be a finite number >= 0"),
        ({"lr": 0.1, "weight_decay": -1}, ValueError, r"weight_decay must be .* got -1"),
        ({"lr": True}, TypeError, r"lr must be a real number, got bool"),
    ],
)
def test_sgd_rejects_bad_hyperparameters(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        SGD([Value(1.0)], **kwargs)  # type: ignore[arg-type]


def test_sgd_learning_rate_is_checked_when_set() -> None:
    opt = SGD([Value(1.0)], lr=0.1)
    with pytest.raises(ValueError, match="lr must be a finite number >= 0, got -1"):
        opt.lr = -1
    assert opt.lr == 0.1


def test_sgd_rejects_bad_parameter_lists() -> None:
    p = Value(1.0)
    with pytest.raises(ValueError, match="params is empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\] must be a Value, got float"):
        SGD([p, 1.0], lr=0.1)  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"params\[2\] is params\[0\] again"):
        SGD([p, Value(2.0), p], lr=0.1)
    with pytest.raises(TypeError, match=r"SGD\(params\) takes a sequence of Values, got Value"):
        SGD(p, lr=0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"SGD\(params\) .* got a set, which has no order"):
        SGD({p}, lr=0.1)


def test_sgd_repr_names_its_settings() -> None:
    opt = SGD(MLP(2, [1], rng=0).parameters(), lr=0.5, momentum=0.9)
    assert repr(opt) == "SGD(3 parameters, lr=0.5, momentum=0.9, weight_decay=0.0)"
