"""A correct engine whose module trains a small network when imported, printing as it goes
(as many notebook-exported engines do)."""

import random

from karpathy import Value

random.seed(0)
w, b = Value(random.uniform(-1, 1)), Value(0.0)
data = [(x / 10, 2 * x / 10 + 1) for x in range(-10, 11)]
for epoch in range(200):
    loss = sum(((w * x + b - y) ** 2 for x, y in data), Value(0.0))
    w.grad, b.grad = 0.0, 0.0
    loss.backward()
    w.data -= 0.02 * w.grad
    b.data -= 0.02 * b.grad
    if epoch % 50 == 0:
        print(f"epoch {epoch} loss {loss.data:.4f}")
print(f"trained: w={w.data:.3f} b={b.data:.3f}")
