"""Atomic output: write to a temporary file beside the target, then rename over it.

A failure on the output side (the path is a folder, the folder is read-only, the disk is full, the name
is too long) becomes one :class:`model.errors.OutputError` naming the output and the reason in words,
and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from model.errors import OutputError, UnimtError, os_reason

_LOW_SPACE = 4 * 1024**2   # a writer that fails with less than this free most likely ran out of disk


def check_output_path(target: str | Path) -> None:
    """Refuse an output before any work: a folder, a file name too long, or a folder that cannot be written."""
    target = Path(target)
    longest = max((len(part.encode("utf-8", "surrogateescape")) for part in target.parts), default=0)
    try:
        name_max = os.pathconf(_existing_parent(target), "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    if longest + 16 > name_max:  # +16: the temporary name beside it, and numbered pages (out-12.png)
        raise OutputError("cannot write the output: the file name is too long", target)
    try:
        if target.is_dir():
            raise OutputError("cannot write the output: it is a folder", target)
        folder = _existing_parent(target)
        if not folder.is_dir():
            raise OutputError("cannot write the output: a part of the path is a file, not a folder", target)
    except OSError as exc:
        raise OutputError(f"cannot write the output: {os_reason(exc)}", target) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError("cannot write the output: no permission to write in its folder", target)


def _existing_parent(target: Path) -> Path:
    folder = target.absolute().parent
    while folder != folder.parent:
        try:
            if folder.exists():
                break
        except OSError:
            pass
        folder = folder.parent
    return folder


def output_failure(exc: BaseException, target: Path, folder: Path | None = None) -> OutputError | None:
    """The OutputError an exception met while writing ``target`` stands for (None: not an output problem)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return OutputError(f"cannot write the output: {os_reason(exc)}", target)
    with contextlib.suppress(OSError):
        if shutil.disk_usage(folder or _existing_parent(target)).free < _LOW_SPACE:
            return OutputError("cannot write the output: the disk is full", target)
    return None


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``target``.

    On any exception the temporary file is removed and ``target`` is left as it was; errors of the
    output side are raised as :class:`OutputError` naming ``target``.
    """
    target = Path(target)
    if target.is_dir():
        raise OutputError("cannot write the output: it is a folder", target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem[:64]}.", suffix=f".part{target.suffix}",
                                   dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write the output: {os_reason(exc)}", target) from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp_path, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        if isinstance(exc, (UnimtError, KeyboardInterrupt, MemoryError)) or not isinstance(exc, Exception):
            raise
        named = output_failure(exc, target, target.parent)
        if named is not None:
            raise named from None
        raise


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def remove_written(paths: list[Path]) -> None:
    """Remove outputs of a multi-file write that failed part-way (nothing is left behind)."""
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = ["atomic_path", "check_output_path", "output_failure", "remove_written", "write_bytes_atomic"]
