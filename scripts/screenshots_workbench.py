"""Screenshots of the real window playing Bach's chorale BWV 66.6 (music21 corpus), for the README:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots_workbench.py OUTDIR \
        1600x1000 1024x640

The chorale is opened, translated into MIDI and audio, and played from 0:06 for a moment (silently under
Xvfb, which has no sound card: the playhead moves all the same); one PNG per window size. Settings go to a
temporary folder. With BUSY=1 the score pane also shows a seven-page "scan" beside the engraving.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    os.environ["UNIMT_CONFIG_DIR"] = tempfile.mkdtemp(prefix="unimt-shots-")
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(v) for v in s.split("x")) for s in sys.argv[2:]] or [(1600, 1000)]
    from music21 import corpus

    src = out / "bwv66.6.musicxml"
    if not src.exists():
        corpus.parse("bach/bwv66.6").write("musicxml", fp=str(src))

    from PySide6.QtCore import QEventLoop, QTimer

    from unimt_desktop.__main__ import create_app

    app, w = create_app()

    def settle(ms: int = 400) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def job(start) -> None:
        loop = QEventLoop()
        w.jobFinished.connect(loop.quit)
        start()
        if w.busy():
            loop.exec()
        w.jobFinished.disconnect(loop.quit)
        settle()

    w.move(0, 0)
    job(lambda: w.open_file(src))
    job(lambda: w.translate("all"))
    w.wave.spec_button.setChecked(True)
    settle(1500)
    if os.environ.get("BUSY"):
        from types import SimpleNamespace

        from unimt_desktop.jobs import PageSet

        eng = w.score._sets["engraved"]
        w.score.set_pages("scan", PageSet([eng.pages[0]] * 7, 150))
        eng.recognition = SimpleNamespace(systems=[(0, (100, 200, 900, 400))], system_measures=[4],
                                          measure_confidence=[0.95, 0.3, 0.99, 0.5])
        w.score.set_pages("engraved", eng)
        settle(800)
    for width, height in sizes:
        w.resize(width, height)
        settle(600)
        w.seek(6.0)
        settle(300)
        w.toggle_play()
        settle(700)
        w.toggle_play()
        settle(300)
        path = out / f"playing-{width}x{height}.png"
        w.grab().save(str(path))
        print(f"saved {path} ({w.width()}x{w.height()})")
    w.unexported.clear()
    w.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
