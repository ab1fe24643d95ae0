"""Screenshots of corrections in place, for the README (under Xvfb, the whole screen, so menus show):

    Xvfb :97 -screen 0 1600x1000x24 & DISPLAY=:97 .venv/bin/python scripts/screenshots_editing.py OUTDIR \
        1600x1000 1024x640

Bach's chorale BWV 66.6 (music21 corpus) is opened and translated into MIDI and audio; in the piano roll a
soprano note is moved up two semitones and a note is added (the score is written again from the edited
notes). For each window size: the chorale playing from 0:06 with the bar ruler and the playhead on the same
x in roll and waveform (``ruler-playing-WxH.png``), and, after the edits, the roll zoomed on them with the
moved note selected and the Edit menu open on "Undo" (``edited-WxH.png``); at the first size, the score as if
read from a scan with a doubtful measure selected and its crop beside the bar (``measure-crop-WxH.png``).
Settings go to a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import shots


def main() -> int:
    out, src, app, w = shots.chorale_window(sys.argv)
    sizes = [tuple(int(v) for v in s.split("x")) for s in sys.argv[2:]] or [(1600, 1000)]
    settle = shots.settle
    from unimt_desktop import timeaxis

    def job(start) -> None:
        shots.job(w, start)

    def shoot(path: Path, width: int, height: int) -> None:
        subprocess.run(["import", "-window", "root", "-crop", f"{width}x{height}+0+0", "+repage", str(path)],
                       check=True)
        print(f"saved {path}")

    w.move(0, 0)
    job(lambda: w.open_file(src))
    job(lambda: w.translate("all"))
    for width, height in sizes:        # the score as written, playing
        w.resize(width, height)
        settle(800)
        timeaxis.fit(w.roll, w.wave)
        w.seek(6.0)
        settle(300)
        w.toggle_play()
        settle(700)
        w.toggle_play()
        settle(400)
        shoot(out / f"ruler-playing-{width}x{height}.png", width, height)
    measure_crop(w, settle, shoot, out, *sizes[0])
    notes = w.roll.data.notes
    # the soprano's sixth note up a tone; a new alto note in bar 2
    row = [k for k in range(len(notes)) if int(notes[k, 4]) == 0][5]
    w.roll.select(row)
    job(lambda: w.roll.request("move", (row, 0.0, 2)))
    t = float(notes[row, 0]) + 0.62
    job(lambda: w.roll.request("add", (t, 62)))
    for width, height in sizes:
        w.resize(width, height)
        settle(800)
        w.roll.plot.setXRange(0.0, 8.0, padding=0)
        w.roll.plot.setYRange(53, 83, padding=0)
        w.roll.select(row)
        w.seek(float(notes[row, 0]))
        settle(500)
        bar = w.menuBar()
        w.edit_menu.popup(bar.mapToGlobal(bar.actionGeometry(w.edit_menu.menuAction()).bottomLeft()))
        settle(600)
        shoot(out / f"edited-{width}x{height}.png", width, height)
        w.edit_menu.hide()
        settle(300)
    w.unexported.clear()
    w.close()
    app.processEvents()
    return 0


def measure_crop(w, settle, shoot, out: Path, width: int, height: int) -> None:
    """The score as if read from a scan (the engraving stands in for the scan; the reader's boxes are the
    engraved bars, two of them doubtful), Next doubtful pressed twice: ``measure-crop-WxH.png``."""
    from types import SimpleNamespace

    from unimt_desktop.jobs import PageSet

    eng = w.score._sets["engraved"]
    boxes = eng.measures
    w.score.set_pages("scan", PageSet([eng.pages[0]], eng.dpi))
    conf = [0.95] * len(boxes)
    conf[2], conf[5] = 0.35, 0.5
    eng.recognition = SimpleNamespace(
        systems=[(0, (min(b[1] for b in boxes), min(b[2] for b in boxes), max(b[3] for b in boxes),
                      max(b[4] for b in boxes)))], system_measures=[len(boxes)], measure_confidence=conf,
        measure_boxes=[(p, (x0, y0, x1, y1)) for p, x0, y0, x1, y1 in boxes])
    w.score.set_pages("engraved", eng)
    w.resize(width, height)
    settle(1200)
    w.score.doubt_button.click()
    w.score.doubt_button.click()
    settle(600)
    shoot(out / f"measure-crop-{width}x{height}.png", width, height)
    eng.recognition = None
    w.score.set_pages("scan", None)
    w.score.set_pages("engraved", eng)
    settle(600)


if __name__ == "__main__":
    sys.exit(main())
