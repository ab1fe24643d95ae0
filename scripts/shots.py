"""What the README screenshot scripts share: a window with Bach's chorale BWV 66.6 ready to open, and waiting
for the window's jobs. Run the scripts as ``python scripts/NAME.py`` (this folder is then importable)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def chorale_window(argv: list[str]):
    """(output folder, BWV 66.6 as MusicXML in it, the QApplication, the main window); settings go to a
    temporary folder, the output folder is ``argv[1]`` (``screenshots`` when not given)."""
    os.environ["UNIMT_CONFIG_DIR"] = tempfile.mkdtemp(prefix="unimt-shots-")
    out = Path(argv[1] if len(argv) > 1 else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    from music21 import corpus

    src = out / "bwv66.6.musicxml"
    if not src.exists():
        corpus.parse("bach/bwv66.6").write("musicxml", fp=str(src))
    from unimt_desktop.__main__ import create_app

    app, window = create_app()
    return out, src, app, window


def settle(ms: int = 400) -> None:
    """Let the event loop run for ``ms`` milliseconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def job(window, start) -> None:
    """Call ``start`` and wait until the job it starts (or the practice controls' delayed one) ends."""
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    window.jobFinished.connect(loop.quit)
    start()
    settle(50)
    while window.busy() or window._practice_timer.isActive():
        loop.exec()
    window.jobFinished.disconnect(loop.quit)
    settle()


def wait_job(window, start=None, timeout_s: float = 300, after_ms: int = 400) -> None:
    """Call ``start`` (None: the job already under way, e.g. the file given on the command line) and wait
    until the window's job ends, at most ``timeout_s``; then let the window settle for ``after_ms``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    window.jobFinished.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    if start is not None:
        start()
    if window.busy() or start is None:
        loop.exec()
    window.jobFinished.disconnect(loop.quit)
    settle(after_ms)


def open_window(path: Path, size: tuple[int, int] = (1600, 960)):
    """(QApplication, main window) at ``size``, opened on ``path`` and done loading it."""
    from unimt_desktop.__main__ import create_app

    app, window = create_app(str(path))
    window.resize(*size)
    window.move(0, 0)
    wait_job(window, None, after_ms=800)  # the file given on the command line
    return app, window


def close(window, app) -> None:
    """Close the window without the question about translations not exported."""
    window.unexported.clear()
    window.close()
    app.processEvents()
