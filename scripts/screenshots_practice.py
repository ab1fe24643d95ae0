"""A screenshot of the practice controls for the README: Bach's chorale BWV 66.6 (music21 corpus) at 75%,
transposed up two semitones, the bass muted, bars 2 to 3 looping, with the count-in on:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots_practice.py OUTDIR

The roll and the waveform are zoomed to bars 1-4, so the ruler above them counts beats. Under Xvfb (no sound
card) it plays silently; settings go to a temporary folder.
"""

from __future__ import annotations

import sys

import shots


def main() -> int:
    out, src, app, w = shots.chorale_window(sys.argv)
    settle = shots.settle

    def job(start) -> None:
        shots.job(w, start)

    w.move(0, 0)
    w.resize(1600, 1000)
    job(lambda: w.open_file(src))
    job(lambda: w.translate("all"))
    bar = w.practice_bar
    job(lambda: bar.tempo.setValue(75))
    job(lambda: bar.transpose.setValue(2))
    job(lambda: bar.part_actions()[3].setChecked(False))
    bar.count_in.setChecked(True)
    bar.choose_bars("2", "3")
    bars = w.bars()
    w.roll.plot.setXRange(bars[1].start, bars[4].end, padding=0)
    settle(600)
    w.seek(bars[3].start - 0.9)
    w.player.count_in = None          # (the picture shows the loop playing, not the clicks before it)
    w.player.play()
    settle(700)
    w.player.pause()
    settle(300)
    path = out / "practice-1600x1000.png"
    w.grab().save(str(path))
    print(f"saved {path} ({w.width()}x{w.height()})")
    w.unexported.clear()
    w.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
