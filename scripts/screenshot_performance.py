"""A played performance written as a score in the real desktop app, saved as a screenshot.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_performance.py OUTDIR

The first eight bars of Joplin's Maple Leaf Rag (music21 corpus, a test-split piece) are played as a
digital piano records them: humanised (tempo curve, timing and velocity), every note in one track, no
time or key signature in the file. The app opens that MIDI and *Translate > Score* writes it by the rule
route of ``model.notate``; the window (the score above the performance's piano roll) is saved as
OUTDIR/performance-to-score.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def make_performance(path: Path, bars: int = 8, seed: int = 3) -> None:
    import numpy as np
    import pretty_midi
    from music21 import corpus

    from model.data.humanize import humanize
    from model.io.types import Notation
    from model.perform import notation_to_midi

    score = corpus.parse("joplin/maple_leaf_rag").measures(1, bars)
    exact = notation_to_midi(Notation(score), expand=False).pm
    played = humanize(exact, np.random.default_rng(seed), 1.0)
    out = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0, name="Piano")
    for inst in played.instruments:
        piano.notes.extend(inst.notes)
        piano.control_changes.extend(inst.control_changes)
    piano.notes.sort(key=lambda n: (n.start, n.pitch))
    out.instruments.append(piano)
    out.write(str(path))


def main() -> int:
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    os.environ["UNIMT_CONFIG_DIR"] = tempfile.mkdtemp(prefix="unimt-shots-")
    mid = outdir / "maple-leaf-rag-played.mid"
    make_performance(mid)

    import shots

    app, window = shots.open_window(mid)
    shots.wait_job(window, lambda: window.translate("score"), after_ms=800)
    path = outdir / "performance-to-score.png"
    window.grab().save(str(path))
    print(f"saved {path}")
    shots.close(window, app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
