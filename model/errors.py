"""Errors that reach the user as one line: the file and the problem."""

from __future__ import annotations

import re
from pathlib import Path


class UnimtError(Exception):
    """A problem the user can act on. ``str(err)`` is one line naming the file and the problem."""

    def __init__(self, problem: str, path: str | Path | None = None):
        self.problem = " ".join(str(problem).split())  # always one line
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {self.problem}" if self.path is not None else self.problem)


class UnsupportedFormatError(UnimtError):
    """The extension is not one unimt reads or writes."""


class BadInputError(UnimtError):
    """The file is empty, truncated, corrupt, too large, unsafe, or not what its extension says."""


class ModelUnavailableError(UnimtError):
    """A translation needs the model, and no weights are installed."""


class MissingDependencyError(UnimtError):
    """A system component (FluidSynth, a soundfont) is missing; the message says what to install."""


class Cancelled(Exception):
    """Raised inside long work when the caller asked to stop."""


def reason(exc: BaseException) -> str:
    """A short, one-line reason from a library exception (its first line, or its type)."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    text = lines[0] if lines else ""
    text = re.sub(r"^Error opening '[^']*':\s*", "", text)
    if not text:
        return type(exc).__name__
    return text[:200]
