"""What the example scripts share: a progress bar for terminals, and saving plots.

Not an example itself. The scripts import it from their own directory (``import _support``), so
it works both when they are run (``python examples/moons.py``) and when they are loaded by path.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Progress", "check_plot_path", "loss_figure", "save_figure"]


class Progress:
    """A one-line progress bar on ``stream`` (standard error), drawn only if it is a terminal.

    ``update(done, note)`` redraws it (at most ten times a second, and always at the end);
    ``print(line)`` writes a line to standard output above the bar; ``close()`` (or leaving a
    ``with`` block) erases it. Where ``stream`` is not a terminal (piped, redirected to a file, in
    CI logs) nothing at all is written to it, so a script's output is the same as without a bar.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None) -> None:
        n: object = total
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"Progress: total must be an int >= 1, got {total!r}")
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty is not None and isatty())
        self._start = time.perf_counter()
        self._drawn_at = -1.0
        self._text = ""  # the bar as last drawn, "" when none is on the screen

    def update(self, done: int, note: str = "") -> None:
        """Show ``done`` of ``total`` steps, with ``note`` (the loss, say) after the bar."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < self.total and now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        elapsed = now - self._start
        left = elapsed / done * (self.total - done) if done else 0.0
        counts = f"{done}/{self.total}"
        times = f"{elapsed:.1f} s" + (f", {left:.1f} s to go" if done < self.total else "")
        tail = f" {counts:>{2 * len(str(self.total)) + 1}}  {note}  {times}".rstrip()
        columns = _columns(self.stream)
        width = max(10, min(40, columns - len(tail) - 3))
        filled = width * done // self.total
        self._draw(f"[{'#' * filled}{'.' * (width - filled)}]{tail}"[: max(columns - 1, 1)])

    def print(self, line: str) -> None:
        """Write ``line`` to standard output, keeping the bar (if any) below it."""
        text = self._text
        if text:
            self._erase()
        print(line, flush=bool(text))
        if text:
            self._draw(text)

    def close(self) -> None:
        """Erase the bar."""
        if self._text:
            self._erase()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _draw(self, text: str) -> None:
        pad = " " * max(len(self._text) - len(text), 0)  # no escape codes: plain terminals too
        self.stream.write(f"\r{text}{pad}")
        self.stream.flush()
        self._text = text

    def _erase(self) -> None:
        self.stream.write("\r" + " " * len(self._text) + "\r")
        self.stream.flush()
        self._text = ""


def _columns(stream: TextIO) -> int:
    """The width of the terminal ``stream`` writes to."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # no file descriptor, or not a terminal's
        columns = 0
    return columns or shutil.get_terminal_size((80, 24)).columns  # 0: a size nobody set


def check_plot_path(path: str) -> str | None:
    """Why a plot cannot be saved at ``path`` (no matplotlib, an unknown suffix, no such
    directory), or ``None``: checked before training, so that a bad ``--plot`` fails at once."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        return "--plot needs matplotlib: python -m pip install matplotlib"
    suffix = Path(path).suffix.lstrip(".").lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix not in formats:
        known = ", ".join(f".{f}" for f in sorted(formats))
        return f"--plot {path}: the file name must end in one of {known}"
    parent = Path(path).parent
    if not parent.is_dir():
        return f"--plot {path}: there is no directory {str(parent)!r}"
    return None


def loss_figure(losses: Sequence[float], title: str, ylabel: str = "loss") -> Figure:
    """A figure of the loss at each step, on a log scale."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.plot(range(len(losses)), losses)
    if min(losses) > 0:
        ax.set_yscale("log")
    ax.set(title=title, xlabel="step", ylabel=ylabel)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str) -> None:
    """Save ``fig`` to ``path`` in the format its suffix names, drawn by the Agg backend (no
    window, no display needed; ``.svg`` and ``.pdf`` use matplotlib's vector backends)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    # no dates or versions in the file, where the format has them: the same plot, the same bytes
    metadata = _METADATA.get(Path(path).suffix.lower())
    if metadata is None:
        fig.savefig(path, dpi=100)
    else:
        fig.savefig(path, dpi=100, metadata=metadata)


_METADATA: dict[str, dict[str, str | None]] = {
    ".png": {"Software": None},
    ".svg": {"Creator": None, "Date": None},
    ".pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}
