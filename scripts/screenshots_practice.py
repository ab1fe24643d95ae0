"""Screenshots of the practice controls for the README: Bach's chorale BWV 66.6 (music21 corpus) at 75%,
transposed up two semitones, the bass muted, bars 2 to 3 looping (chosen by dragging across them on the bar
ruler above the roll), with the count-in on, at each window size given (1600x1000 when none is):

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots_practice.py OUTDIR \
        1600x1000 1024x640

and on a HiDPI screen (each pixel of the window drawn as two by two):

    QT_SCALE_FACTOR=2 xvfb-run -a -s "-screen 0 2560x1440x24" .venv/bin/python \
        scripts/screenshots_practice.py OUTDIR 1280x720

The roll and the waveform are zoomed to bars 1-4, so the ruler above them counts beats. Under Xvfb (no sound
card) it plays silently; settings go to a temporary folder. Each picture is ``practice-WxH.png``, W and H in
screen pixels (``practice-hidpi-2560x1440.png`` on the HiDPI screen); then, at the first size, the soprano and
the bass soloed with the Parts menu open (``parts-solo-WxH.png``, not on a HiDPI screen).
"""

from __future__ import annotations

import sys

import shots


def drag_on_ruler(w, first, last) -> None:
    """Drag with the mouse across bars ``first`` to ``last`` on the bar ruler above the roll."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    plot, axis = w.roll.plot, w.rulers[0]
    strip = axis.mapRectToScene(0, 0, axis.width(), axis.height())

    def point(t):
        x = plot.getViewBox().mapViewToScene(QPointF(t, 0)).x()
        return plot.mapFromScene(QPointF(x, strip.center().y()))
    a, b = point(first.start + 0.3), point(last.end - 0.3)
    view = plot.viewport()
    QTest.mousePress(view, Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, 9):
        p = QPointF(a + (b - a) * (k / 8))
        QApplication.sendEvent(view, QMouseEvent(QEvent.Type.MouseMove, p, view.mapToGlobal(p),
                                                 Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                                                 Qt.KeyboardModifier.NoModifier))
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, pos=b)


def solo(w, job, settle, out, width: int, height: int) -> None:
    """Soprano and bass soloed (the bass heard again), the Parts menu open: ``parts-solo-WxH.png`` (the
    whole screen, so the menu shows)."""
    import subprocess

    bar = w.practice_bar
    w.resize(width, height)
    job(lambda: bar.part_actions()[3].setChecked(True))
    job(lambda: bar.solo_actions()[0].setChecked(True))
    job(lambda: bar.solo_actions()[3].setChecked(True))
    button = bar.parts_button
    bar.parts_menu.popup(button.mapToGlobal(button.rect().bottomLeft()))
    settle(700)
    path = out / f"parts-solo-{width}x{height}.png"
    subprocess.run(["import", "-window", "root", "-crop", f"{width}x{height}+0+0", "+repage", str(path)],
                   check=True)
    print(f"saved {path}")
    bar.parts_menu.hide()


def main() -> int:
    out, src, app, w = shots.chorale_window(sys.argv[:2])
    sizes = [tuple(int(v) for v in s.split("x")) for s in sys.argv[2:]] or [(1600, 1000)]
    settle = shots.settle

    def job(start) -> None:
        shots.job(w, start)

    w.move(0, 0)
    w.resize(*sizes[0])
    w.show()
    job(lambda: w.open_file(src))
    job(lambda: w.translate("all"))
    bar = w.practice_bar
    job(lambda: bar.tempo.setValue(75))
    job(lambda: bar.transpose.setValue(2))
    job(lambda: bar.part_actions()[3].setChecked(False))
    bar.count_in.setChecked(True)
    for width, height in sizes:
        w.resize(width, height)
        settle(600)
        bars = w.bars()
        w.roll.plot.setXRange(bars[1].start, bars[4].end, padding=0)
        settle(600)
        drag_on_ruler(w, bars[2], bars[3])
        assert (bar.loop_from.currentText(), bar.loop_to.currentText()) == ("2", "3"), "the drag missed"
        w.seek(bars[3].start - 0.9)
        w.player.count_in = None          # (the picture shows the loop playing, not the clicks before it)
        w.player.play()
        settle(700)
        w.player.pause()
        settle(300)
        image = w.grab()
        ratio = image.devicePixelRatio()
        name = f"{round(width * ratio)}x{round(height * ratio)}"
        path = out / (f"practice-hidpi-{name}.png" if ratio > 1 else f"practice-{name}.png")
        image.save(str(path))
        print(f"saved {path} ({image.width()}x{image.height()} pixels)")
    if image.devicePixelRatio() == 1:
        solo(w, job, settle, out, *sizes[0])
    w.unexported.clear()
    w.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
