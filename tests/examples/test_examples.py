"""The scripts of ``examples/``: each runs, prints a line per step and learns.

The fast tests run a few steps of each; the ``slow`` ones train to the end and check the accuracy
each example promises. ``moons`` also checks the losses printed by the notebook it reproduces.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from micrograd import Value

from .support import EXAMPLES, load

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


@pytest.mark.parametrize("mode", ["interpret", "generate"])
def test_moons_compiled_has_the_same_losses_and_accuracy_bit_for_bit(
    mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    moons = load("moons")
    dynamic = moons.run(steps=6)
    compiled = moons.run(steps=6, compile=mode)
    assert [x.hex() for x in compiled[0]] == [x.hex() for x in dynamic[0]]
    assert compiled[1] == dynamic[1]
    out = capsys.readouterr().out
    assert f"replayed 6 times ({mode}" in out
    assert moons.main(["--steps", "2", "--compile"]) == 0
    assert "replayed 2 times (interpret)" in capsys.readouterr().out  # auto: few steps


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


def graph_values(root: Value) -> list[Value]:
    """Every value of the graph under ``root``."""
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return list(seen)


def test_graph_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = load("graph_picture")
    o = module.neuron()
    assert o.data == pytest.approx(0.7071067811865476, rel=1e-15)
    values = graph_values(o)
    assert len(values) == 10
    grads = {v.label: v.grad for v in values}
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


def test_graph_picture_of_an_mlp_names_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    module = load("graph_picture")
    assert module.main(["--mlp", "-"]) == 0
    dot = capsys.readouterr().out
    params = re.findall(r'label="\{ (layers\.[\w.]+) \| ', dot)
    assert len(params) == 9  # MLP(2, [2, 1]): 2 * (2 + 1) + (2 + 1)
    assert "layers.0.neurons.1.w.0" in params
    assert "layers.1.neurons.0.b" in params
    assert "{ out | data " in dot
    assert "{ x.0 | data 2.0000 | grad " in dot
    graph = module.mlp()
    assert graph.root.grad == 1.0  # after backward()


def test_graph_picture_without_graphviz_says_what_to_install(tmp_path: Path) -> None:
    """Run as a command with a PATH on which there is no ``dot``: a message, status 1."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PATH": str(empty)}
    # The graphviz package, if installed, finds no `dot` either: the same message, another path.
    out = tmp_path / "neuron.svg"
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "graph_picture.py"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(
        "graph_picture.py: rendering svg needs the Graphviz `dot` program"
    )
    assert "apt-get install graphviz" in done.stderr
    assert "write a .dot file instead" in done.stderr
    assert done.stdout == ""
    assert not out.exists()
    dot = subprocess.run(  # and DOT text still works without Graphviz
        [sys.executable, str(EXAMPLES / "graph_picture.py"), str(tmp_path / "neuron.dot")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert dot.returncode == 0, dot.stderr
    assert (tmp_path / "neuron.dot").read_text(encoding="utf-8").startswith("digraph micrograd {")


def test_graph_picture_bad_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = load("graph_picture")
    with pytest.raises(SystemExit) as info:
        module.main([str(tmp_path / "neuron.jpg")])
    assert info.value.code == 2
    assert "format must be one of svg, png, pdf, dot, gv, got 'jpg'" in capsys.readouterr().err
    assert module.main([str(tmp_path / "no such directory" / "neuron.dot")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("graph_picture.py: [Errno 2] No such file or directory")


# --- progress bars and plots --------------------------------------------------------------------


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_draws_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    progress_type = load("toy").Progress
    piped = io.StringIO()
    with progress_type(3, stream=piped) as progress:
        for k in range(3):
            progress.print(f"step {k}")
            progress.update(k + 1, "loss 1.0")
    assert piped.getvalue() == ""
    assert capsys.readouterr().out == "step 0\nstep 1\nstep 2\n"

    tty = Terminal()
    with progress_type(3, stream=tty) as progress:
        for k in range(3):
            progress.print(f"step {k}")
            progress.update(k + 1, "loss 1.0")
    drawn = tty.getvalue()
    assert drawn.startswith("\r[")
    assert "] 1/3  loss 1.0  " in drawn  # the first update is drawn
    assert "] 3/3  loss 1.0  " in drawn  # and the last, whatever the time since the one before
    assert drawn.count("3/3") == 1
    last = drawn.rsplit("\r", 2)
    assert last[-1] == ""  # erased at the end
    assert last[-2].strip() == ""
    assert capsys.readouterr().out == "step 0\nstep 1\nstep 2\n"


def test_progress_lines_go_above_the_bar(capsys: pytest.CaptureFixture[str]) -> None:
    tty = Terminal()
    progress = load("toy").Progress(10, stream=tty)
    progress.update(1, "a")
    bar = tty.getvalue()
    progress.print("hello")
    assert capsys.readouterr().out == "hello\n"
    after = tty.getvalue()[len(bar) :]
    erase = "\r" + " " * (len(bar) - 1) + "\r"
    assert after == erase + bar  # erased before the line, drawn again after it
    progress.update(2, "b")  # within 0.1 s of the last: not drawn
    assert tty.getvalue().endswith(bar)
    progress.close()
    assert tty.getvalue().endswith(erase)
    with pytest.raises(ValueError, match=r"^Progress: total must be an int >= 1, got 0$"):
        load("toy").Progress(0)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("toy", ["--steps", "3"]),
        ("xor", ["--steps", "3"]),
        ("moons", ["--steps", "2"]),
        ("breast_cancer", ["--steps", "2"]),
    ],
)
def test_piped_output_has_no_progress(name: str, args: list[str]) -> None:
    if name in ("moons", "breast_cancer"):
        pytest.importorskip("sklearn")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(step_lines(done.stdout)) == int(args[1])
    assert "\r" not in done.stdout


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_terminal_gets_a_progress_bar_on_stderr() -> None:
    import pty  # POSIX only
    import select

    main_fd, term_fd = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, str(EXAMPLES / "toy.py"), "--steps", "5"],
            stdout=subprocess.PIPE,
            stderr=term_fd,
            env=os.environ | {"COLUMNS": "120"},  # the width the bar is drawn for
        )
    finally:
        os.close(term_fd)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    bar = b"".join(chunks).decode()
    assert re.search(r"\[#+\.*\] 5/5  loss \d\.\d{6}  \d+\.\d s", bar), bar
    assert len(step_lines(out)) == 5  # the lines are still on standard output
    assert "\r" not in out


@pytest.mark.parametrize("name", ["toy", "xor", "breast_cancer"])
def test_plot_saves_the_loss_curve(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    if name == "breast_cancer":
        pytest.importorskip("sklearn")
    png, svg = tmp_path / f"{name}.png", tmp_path / f"{name}.svg"
    assert load(name).main(["--steps", "3", "--plot", str(png)]) == 0
    assert f"saved {png}" in capsys.readouterr().out
    assert png.read_bytes().startswith(b"\x89PNG")
    assert load(name).main(["--steps", "3", "--plot", str(svg)]) == 0  # the format by suffix
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text
    assert "<dc:date>" not in text  # no date: the same plot gives the same file


@pytest.mark.parametrize("name", ["toy", "xor", "moons", "breast_cancer"])
def test_plot_paths_are_checked_before_training(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    if name in ("moons", "breast_cancer"):
        pytest.importorskip("sklearn")
    for path, message in (
        (tmp_path / "plot.xyz", "the file name must end in one of "),
        (tmp_path / "missing" / "plot.png", "there is no directory"),
    ):
        with pytest.raises(SystemExit) as info:
            load(name).main(["--steps", "1", "--plot", str(path)])
        assert info.value.code == 2
        captured = capsys.readouterr()
        assert message in captured.err
        assert step_lines(captured.out) == []  # nothing was trained


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


def test_the_pictures_in_the_docs_exist_and_are_small() -> None:
    docs = EXAMPLES.parent / "docs"
    text = (docs / "examples.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", text)
    assert sorted(pictures) == sorted(
        ["toy.png", "xor.png", "moons.png", "breast_cancer.png", "graph.svg", "mlp_graph.svg"]
    )
    for name in pictures:
        data = (docs / name).read_bytes()
        assert len(data) < 100_000, f"docs/{name} is {len(data):,} bytes"
        if name.endswith(".png"):
            assert data.startswith(b"\x89PNG"), name
        else:
            assert b"<svg" in data, name
    assert b">layers.0.neurons.1.w.0<" in (docs / "mlp_graph.svg").read_bytes()
