"""The scripts of ``examples/``: each runs, prints a line per step and learns.

The fast tests run a few steps of each; the ``slow`` ones train to the end and check the accuracy
each example promises. ``moons`` also checks the losses printed by the notebook it reproduces.
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest

from .support import load

# Losses printed by micrograd's demo.ipynb for the same data, weights, loss and schedule.
NOTEBOOK_LOSSES = {
    0: 0.8958441028683222,
    1: 1.7235905336972022,
    2: 0.7429006313851131,
    3: 0.7705641260584198,
    4: 0.3692793385976538,
    50: 0.09875114765619622,
    90: 0.010984458327280174,
    99: 0.010978370135492717,
}


def step_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("step ")]


# --- fast: a few steps each ---------------------------------------------------------------------


def test_toy_learns_the_four_samples(capsys: pytest.CaptureFixture[str]) -> None:
    losses, accuracy = load("toy").run(steps=50, seed=0)
    out = capsys.readouterr().out
    assert len(step_lines(out)) == 50
    assert all(b < a for a, b in itertools.pairwise(losses))  # falls at every step
    assert losses[-1] < 1e-3 < 0.5 < losses[0]
    assert accuracy == 1.0
    assert "final  loss" in out
    assert "accuracy 100%" in out.splitlines()[-2]


def test_toy_main_takes_steps_and_seed(capsys: pytest.CaptureFixture[str]) -> None:
    assert load("toy").main(["--steps", "3", "--seed", "7", "--lr", "0.05"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[1] for line in step_lines(out)] == ["0", "1", "2"]
    assert "lr 0.05" in out.splitlines()[0]
    load("toy").main(["--steps", "1", "--seed", "8"])
    other_seed = capsys.readouterr().out
    assert step_lines(other_seed)[0] != step_lines(out)[0]  # the seed changes the weights


@pytest.mark.parametrize("seed", range(10))
def test_xor_reaches_full_accuracy(seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    losses, accuracy = load("xor").run(seed=seed)
    assert accuracy == 1.0
    assert losses[-1] < 1e-3 < losses[0]
    assert "accuracy 100%" in capsys.readouterr().out


def test_xor_main(capsys: pytest.CaptureFixture[str]) -> None:
    assert load("xor").main(["--steps", "5", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert len(step_lines(out)) == 5
    assert re.search(r"^  xor\(1, 1\) -> [-+]\d\.\d{3}$", out, re.M)


def test_moons_first_steps_reproduce_the_notebook(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn")
    losses, _ = load("moons").run(steps=5)
    for k in range(5):
        assert losses[k] == pytest.approx(NOTEBOOK_LOSSES[k], rel=1e-12), k
    assert losses[4] < losses[0]
    lines = step_lines(capsys.readouterr().out)
    assert lines[0] == "step 0 loss 0.8958441028683222, accuracy 50.0%"  # the notebook's line
    assert lines[4].endswith("accuracy 84.0%")


def test_moons_data_is_the_notebooks() -> None:
    np = pytest.importorskip("numpy")
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = load("moons").data(1337)
    np.random.seed(1337)  # how the notebook seeds make_moons
    X_nb, y_nb = datasets.make_moons(n_samples=100, noise=0.1)
    assert X_nb.tolist() == X
    assert (2 * y_nb - 1).tolist() == y
    assert sorted(set(y)) == [-1.0, 1.0]


def test_moons_main_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    out_png = tmp_path / "moons.png"
    assert load("moons").main(["--steps", "2", "--seed", "3", "--plot", str(out_png)]) == 0
    out = capsys.readouterr().out
    assert len(step_lines(out)) == 2
    assert f"saved {out_png}" in out
    assert out_png.read_bytes().startswith(b"\x89PNG")


def test_breast_cancer_loss_falls(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn")
    losses, accuracy = load("breast_cancer").run(steps=20)
    assert sum(losses[-5:]) < 0.6 * sum(losses[:5])
    assert accuracy > 0.8  # already, after 20 minibatches
    out = capsys.readouterr().out
    assert "455 training samples, 114 held out" in out
    assert len(step_lines(out)) == 20
    assert re.search(r"held-out accuracy \d+\.\d\d% \(\d+/114\)", out)


def test_breast_cancer_standardises_with_training_statistics_only() -> None:
    pytest.importorskip("sklearn")
    (X, y), (X_test, y_test) = load("breast_cancer").data()
    assert (len(X), len(X_test)) == (455, 114)
    n = len(X)
    for j in range(30):
        column = [row[j] for row in X]
        mean = sum(column) / n
        assert abs(mean) < 1e-12
        assert sum((v - mean) ** 2 for v in column) / n == pytest.approx(1.0, rel=1e-12)
    test_mean = sum(row[0] for row in X_test) / len(X_test)
    assert abs(test_mean) > 1e-3  # the held-out samples were not standardised on their own
    assert set(y) == set(y_test) == {0.0, 1.0}


def test_graph_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = load("graph_picture")
    o, names = module.neuron()
    assert o.data == pytest.approx(0.7071067811865476, rel=1e-15)
    grads = {name: v.grad for v, name in names.items()}
    assert grads == pytest.approx(
        {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "n": 0.5, "o": 1.0}
        | {"x1*w1": 0.5, "x2*w2": 0.5, "x1*w1 + x2*w2": 0.5},
        rel=1e-15,
    )
    assert module.main([str(tmp_path / "neuron.dot")]) == 0
    dot = (tmp_path / "neuron.dot").read_text(encoding="utf-8")
    assert '[shape=record, label="{ o | data 0.7071 | grad 1.0000 }"]' in dot
    assert '[shape=record, label="{ x1 | data 2.0000 | grad -1.5000 }"]' in dot
    capsys.readouterr()
    assert module.main(["-"]) == 0
    assert capsys.readouterr().out == dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_graph_picture_svg(tmp_path: Path) -> None:
    assert load("graph_picture").main([str(tmp_path / "neuron.svg")]) == 0
    assert "<svg" in (tmp_path / "neuron.svg").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["toy", "xor", "moons", "breast_cancer"])
def test_steps_must_be_positive(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    if name in ("moons", "breast_cancer"):
        pytest.importorskip("sklearn")
    with pytest.raises(SystemExit) as info:
        load(name).main(["--steps", "0"])
    assert info.value.code == 2
    assert "--steps must be at least 1, got 0" in capsys.readouterr().err


# --- slow: to the end ---------------------------------------------------------------------------


@pytest.mark.slow
def test_moons_reaches_full_accuracy_with_the_notebooks_losses() -> None:
    pytest.importorskip("sklearn")
    losses, accuracy = load("moons").run()
    assert accuracy == 1.0
    assert len(losses) == 100
    for k, expected in NOTEBOOK_LOSSES.items():
        assert losses[k] == pytest.approx(expected, rel=1e-9), k


@pytest.mark.slow
def test_breast_cancer_reaches_95_percent_held_out() -> None:
    pytest.importorskip("sklearn")
    _, accuracy = load("breast_cancer").run()
    assert accuracy >= 0.95
