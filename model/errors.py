"""Errors that reach the user as one line: the file and the problem."""

from __future__ import annotations

import errno
import re
import unicodedata
from pathlib import Path


def show_path(path: str | Path) -> str:
    """A file name as one printable line: control characters (newline, tab, escape...) shown escaped."""
    text = str(path)
    if all(unicodedata.category(ch) != "Cc" for ch in text):
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 256
                                                                     else f"\\u{ord(ch):04x}"))
        else:
            out.append(ch)
    return "".join(out)


class UnimtError(Exception):
    """A problem the user can act on. ``str(err)`` is one line naming the file and the problem."""

    def __init__(self, problem: str, path: str | Path | None = None):
        self.problem = " ".join(str(problem).split())  # always one line
        self.path = Path(path) if path is not None else None
        super().__init__(f"{show_path(self.path)}: {self.problem}" if self.path is not None else self.problem)


class UnsupportedFormatError(UnimtError):
    """The extension is not one unimt reads or writes."""


class BadInputError(UnimtError):
    """The file is empty, truncated, corrupt, too large, unsafe, or not what its extension says."""


class LimitError(BadInputError):
    """The file is well formed but asks for more than unimt supports (a million repeats, a 10-hour note)."""


class OutputError(UnimtError):
    """The output cannot be written: the path is a folder, the folder is read-only, the disk is full..."""


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
        return _TYPE_WORDS.get(type(exc).__name__, "unreadable data")
    return text[:200]


_TYPE_WORDS = {"EOFError": "the data ends too early", "IndexError": "the data ends too early",
               "KeyError": "an unknown entry", "ValueError": "an invalid value", "MemoryError": "not enough memory",
               "ZeroDivisionError": "an invalid value", "OverflowError": "a value too large"}


_OS_REASONS = {
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EROFS: "the disk is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EFBIG: "the file is larger than this system allows",
    errno.ENOENT: "the folder does not exist",
}


def os_reason(exc: OSError) -> str:
    """An OS error in words ("the disk is full"), without the exception's name."""
    if exc.errno in _OS_REASONS:
        return _OS_REASONS[exc.errno]
    return exc.strerror.lower() if exc.strerror else reason(exc)


def limit_text(n: float) -> str:
    """A count as people write it: 1,000,000."""
    return f"{int(n):,}"
