"""The classic first example: an MLP(3, [4, 4, 1]) fits four samples with squared error.

    python examples/toy.py [--steps 50] [--seed 0] [--lr 0.1]

Hidden layers are tanh, the output is linear; the loss is the mean squared error, minimised by
full-batch gradient descent. Accuracy counts predictions with the sign of their target.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from micrograd import MLP, Value
from micrograd.train import SGD, accuracy, mse

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def run(steps: int = 50, seed: int = 0, lr: float = 0.1) -> tuple[list[float], float]:
    """Train, printing a line per step; return the loss at each step and the final accuracy."""
    model = MLP(3, [4, 4, 1], nonlin="tanh", rng=seed)
    optimizer = SGD(model.parameters(), lr=lr)
    print(f"{model}: {len(model.parameters())} parameters, 4 samples, lr {lr}")

    def predict() -> list[Value]:
        return [model.forward(x)[0] for x in XS]

    losses = []
    for step in range(steps):
        preds = predict()
        loss = mse(preds, YS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
        print(f"step {step:3d}  loss {loss.data:.6f}  accuracy {accuracy(preds, YS):.0%}")

    preds = predict()
    final = accuracy(preds, YS)
    print(f"final  loss {mse(preds, YS).data:.6f}  accuracy {final:.0%}")
    print("predictions", " ".join(f"{p.data:+.3f}" for p in preds), "targets", YS)
    return losses, final


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=50, help="training steps (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation seed")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    run(args.steps, args.seed, args.lr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
