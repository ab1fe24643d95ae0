"""unimt's desktop app (PySide6 + pyqtgraph). It reaches the model only through ``model.api``."""

from __future__ import annotations

import platform
import sys


def _guard_none_refcount() -> None:
    """Work around a shiboken6 6.12.0 bug on CPython 3.11: every call of a void Qt method returns
    ``None`` without a new reference, so ``None``'s reference count falls by one per call until
    Python aborts with "none_dealloc: deallocating None" (after a few thousand calls: repaints,
    ``processEvents``, ...). CPython 3.12+ makes ``None`` immortal; on older versions we give it a
    reference count that no session can use up, which is what immortality amounts to."""
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return
    import ctypes

    refcnt = ctypes.c_ssize_t.from_address(id(None))
    if refcnt.value < (1 << 40):
        refcnt.value += 1 << 50


_guard_none_refcount()
