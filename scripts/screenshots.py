"""Start the real desktop app with sample files, run each kind of translation and save screenshots.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py OUTDIR

Samples (made in OUTDIR/samples): Mozart's K. 545 exposition from the music21 corpus as MusicXML, its
MIDI performance and FluidSynth rendering, and its engraved first page as a PNG "scan". Settings go to
a temporary folder, so a real user's settings are untouched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def make_samples(d: Path) -> dict[str, Path]:
    from music21 import corpus

    from model.api import Modality, load, midi_to_audio, notation_to_midi, save, translate

    d.mkdir(parents=True, exist_ok=True)
    src = corpus.getWork("mozart/k545/movement1_exposition")
    score = load(src)
    from music21 import metadata

    md = score.score.metadata or metadata.Metadata()
    md.title, md.composer = "Sonata in C major, K. 545: I. Allegro (exposition)", "W. A. Mozart"
    score.score.metadata = md
    for part in score.score.parts:
        part.partName, part.partAbbreviation = "Piano", "Pno."
    out = {
        "musicxml": d / "k545.musicxml",
        "mid": d / "k545.mid",
        "wav": d / "k545.wav",
        "png": d / "k545-scan.png",
    }
    save(score, out["musicxml"])
    midi = notation_to_midi(score)
    save(midi, out["mid"])
    save(midi_to_audio(midi), out["wav"])
    image = translate(score, Modality.IMAGE)
    import numpy as np

    from model.api import ScoreImage

    page = image.page(0).astype(np.float32)          # a little paper tone and noise: it should look scanned
    rng = np.random.default_rng(0)
    page = np.clip(page * 0.94 + 6 + rng.normal(0, 4, page.shape), 0, 255).astype(np.uint8)
    save(ScoreImage.from_arrays([page], dpi=image.dpi), out["png"])
    return out


def main() -> int:
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    os.environ["UNIMT_CONFIG_DIR"] = tempfile.mkdtemp(prefix="unimt-shots-")
    samples = make_samples(outdir / "samples")

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QMessageBox

    from unimt_desktop.__main__ import create_app

    t0 = time.monotonic()
    app, window = create_app(str(samples["musicxml"]))
    print(f"window shown after {time.monotonic() - t0:.2f} s")
    window.resize(1600, 960)
    window.move(0, 0)
    errors: list[str] = []
    QMessageBox.warning = staticmethod(lambda parent, title, text, *a, **k: errors.append(text))

    def settle(ms: int = 400) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_job(start=None, timeout_s: float = 300) -> None:
        from shots import wait_job as wait

        wait(window, start, timeout_s)

    def shot(name: str) -> None:
        path = outdir / f"{name}.png"
        window.grab().save(str(path))
        print(f"saved {path}" + (f"  (dialogs: {errors})" if errors else ""))
        errors.clear()

    wait_job()                                   # the file given on the command line
    shot("01-score-loaded")
    wait_job(lambda: window.translate("midi"))
    shot("02-score-to-midi")
    wait_job(lambda: window.translate("audio"))
    window.wave.spec_button.setChecked(True)
    settle(1500)
    window.seek(6.0)
    settle()
    shot("03-score-to-all")

    wait_job(lambda: window.open_file(samples["mid"]))
    shot("04-midi-loaded")
    wait_job(lambda: window.translate("all"))
    window.seek(4.0)
    settle()
    shot("05-midi-to-all")

    wait_job(lambda: window.open_file(samples["wav"]))
    shot("06-audio-loaded-no-model")
    wait_job(lambda: window.open_file(samples["png"]))
    shot("07-scan-loaded")
    wait_job(lambda: window.translate("all"))     # scan -> score -> MIDI -> audio (weights that read scans)
    window.seek(4.0)
    settle()
    shot("08-scan-to-all")

    window.unexported.clear()    # (closing would ask about the translations not exported)
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
