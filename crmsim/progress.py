"""A text progress bar for the command line (reading and fitting a large purchase log takes
tens of seconds): ``[########------------]  40%  Reading dates`` redrawn in place on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from crmsim.i18n import Lang, t


class TextBar:
    """Steps report ``(fraction, step)``; ``part(lo, hi)`` maps a step's own 0–1 onto its
    share of the whole (reading 0–0.5, fitting 0.5–1)."""

    def __init__(self, lang: Lang, stream: TextIO | None = None, width: int = 24):
        self.lang, self.stream, self.width = lang, stream or sys.stderr, width
        self.last = ""

    def __call__(self, fraction: float, step: str) -> None:
        done = round(max(0.0, min(fraction, 1.0)) * self.width)
        line = (
            f"[{'#' * done}{'-' * (self.width - done)}] {fraction:4.0%}  "
            f"{t(f'real.progress.{step}', self.lang)}"
        )
        if line != self.last:
            self.stream.write("\r" + line.ljust(len(self.last)))
            self.stream.flush()
            self.last = line

    def part(self, lo: float, hi: float) -> Callable[[float, str], None]:
        return lambda f, step: self(lo + (hi - lo) * f, step)

    def close(self) -> None:
        if self.last:
            self.stream.write("\n")
            self.stream.flush()
            self.last = ""
