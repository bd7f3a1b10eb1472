"""A real data set: an MLP(30, [16, 16, 1]) diagnoses scikit-learn's breast cancer samples.

    python examples/breast_cancer.py [--steps 150] [--seed 0] [--batch 32] [--plot bc.png]

- data: ``load_breast_cancer()`` (569 samples, 30 features, bundled with scikit-learn), split by
  ``train_test_split(test_size=0.2, stratify=y, random_state=0)`` into 455 training and 114
  held-out samples; each feature standardised with the mean and standard deviation of the
  training samples only;
- model: ``MLP(30, [16, 16, 1], nonlin="tanh")`` with a linear output (the logit of malignant),
  its initial weights divided by the square root of each neuron's number of inputs so that the
  first layer does not start saturated;
- loss: binary cross-entropy on the logits;
- optimisation: SGD with momentum 0.9 and weight decay 1e-4 on minibatches of 32 (reshuffled
  every pass over the training set), the learning rate falling linearly from 0.05 to 0.

Accuracy counts logits on the right side of 0. ``--seed`` sets the weights and the shuffling; the
split is always the same. ``--plot PATH`` (needs matplotlib) saves the loss of each minibatch; on a
terminal a progress bar on standard error shows how far training has got.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sklearn.datasets import load_breast_cancer  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

from micrograd import MLP, Value
from micrograd.train import SGD, accuracy, bce_with_logits

if str(Path(__file__).resolve().parent) not in sys.path:  # _support.py, also when loaded by path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import Progress, check_plot_path, loss_figure, save_figure

Split = tuple[list[list[float]], list[float]]


def data() -> tuple[Split, Split]:
    """Standardised (features, 0/1 targets) for the training and the held-out samples."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return (
        (((X_train - mean) / std).tolist(), y_train.astype(float).tolist()),
        (((X_test - mean) / std).tolist(), y_test.astype(float).tolist()),
    )


def run(
    steps: int = 150, seed: int = 0, batch: int = 32, plot: str | None = None
) -> tuple[list[float], float]:
    """Train, printing a line per step; return the loss at each step and the held-out accuracy."""
    (X, y), (X_test, y_test) = data()
    model = MLP(30, [16, 16, 1], nonlin="tanh", rng=seed)
    for layer in model.layers:
        for neuron in layer.neurons:
            for w in neuron.w:
                w.data /= neuron.nin**0.5
    lr = 0.05
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    print(
        f"{model}: {len(optimizer.params)} parameters; {len(X)} training samples, "
        f"{len(X_test)} held out; minibatches of {batch}"
    )

    def logits(rows: Sequence[Sequence[float]]) -> list[Value]:
        return [model.forward(row)[0] for row in rows]

    def signs(targets: Sequence[float]) -> list[float]:
        return [2.0 * t - 1.0 for t in targets]

    shuffle = random.Random(seed)
    order: list[int] = []
    losses = []
    start = time.perf_counter()
    with Progress(steps) as progress:
        for step in range(steps):
            if len(order) < batch:  # a new pass over the training set
                order = list(range(len(X)))
                shuffle.shuffle(order)
            rows, order = order[:batch], order[batch:]
            z = logits([X[i] for i in rows])
            targets = [y[i] for i in rows]
            loss = bce_with_logits(z, targets)
            optimizer.lr = lr * (1 - step / steps)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.data)
            progress.print(
                f"step {step:3d}  loss {loss.data:.4f}  batch accuracy "
                f"{accuracy(z, signs(targets)):.0%}"
            )
            progress.update(step + 1, f"loss {loss.data:.4f}")
    seconds = time.perf_counter() - start

    train_accuracy = accuracy([v.data for v in logits(X)], signs(y))
    test_accuracy = accuracy([v.data for v in logits(X_test)], signs(y_test))
    print(
        f"training accuracy {train_accuracy:.2%}, held-out accuracy {test_accuracy:.2%} "
        f"({round(test_accuracy * len(X_test))}/{len(X_test)}) after {steps} steps "
        f"({seconds:.1f} s)"
    )
    if plot is not None:
        title = f"breast_cancer.py: held-out accuracy {test_accuracy:.1%}"
        save_figure(loss_figure(losses, title, "cross-entropy of the minibatch"), plot)
        print(f"saved {plot}")
    return losses, test_accuracy


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=150, help="minibatch steps (default 150)")
    parser.add_argument("--seed", type=int, default=0, help="weight and shuffling seed")
    parser.add_argument("--batch", type=int, default=32, help="minibatch size (default 32)")
    parser.add_argument("--plot", metavar="PATH", help="save the loss curve (.png, .svg, ...)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    if args.batch < 1:
        parser.error(f"--batch must be at least 1, got {args.batch}")
    if args.plot is not None and (problem := check_plot_path(args.plot)) is not None:
        parser.error(problem)
    run(args.steps, args.seed, args.batch, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
