"""The classic first example: an MLP(3, [4, 4, 1]) fits four samples with squared error.

    python examples/toy.py [--steps 50] [--seed 0] [--lr 0.1] [--plot toy.png]

Hidden layers are tanh, the output is linear; the loss is the mean squared error, minimised by
full-batch gradient descent. Accuracy counts predictions with the sign of their target.
``--plot PATH`` (needs matplotlib) saves the loss curve; on a terminal a progress bar on standard
error shows how far training has got.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from micrograd import MLP, Value
from micrograd.train import SGD, accuracy, mse

if str(Path(__file__).resolve().parent) not in sys.path:  # _support.py, also when loaded by path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import Progress, check_plot_path, loss_figure, save_figure

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def run(
    steps: int = 50, seed: int = 0, lr: float = 0.1, plot: str | None = None
) -> tuple[list[float], float]:
    """Train, printing a line per step; return the loss at each step and the final accuracy."""
    model = MLP(3, [4, 4, 1], nonlin="tanh", rng=seed)
    optimizer = SGD(model.parameters(), lr=lr)
    print(f"{model}: {len(model.parameters())} parameters, 4 samples, lr {lr}")

    def predict() -> list[Value]:
        return [model.forward(x)[0] for x in XS]

    losses = []
    with Progress(steps) as progress:
        for step in range(steps):
            preds = predict()
            loss = mse(preds, YS)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.data)
            progress.print(
                f"step {step:3d}  loss {loss.data:.6f}  accuracy {accuracy(preds, YS):.0%}"
            )
            progress.update(step + 1, f"loss {loss.data:.6f}")

    preds = predict()
    final = accuracy(preds, YS)
    print(f"final  loss {mse(preds, YS).data:.6f}  accuracy {final:.0%}")
    print("predictions", " ".join(f"{p.data:+.3f}" for p in preds), "targets", YS)
    if plot is not None:
        save_figure(loss_figure(losses, "toy.py: four samples", "mean squared error"), plot)
        print(f"saved {plot}")
    return losses, final


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=50, help="training steps (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation seed")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--plot", metavar="PATH", help="save the loss curve (.png, .svg, ...)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    if args.plot is not None and (problem := check_plot_path(args.plot)) is not None:
        parser.error(problem)
    run(args.steps, args.seed, args.lr, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
