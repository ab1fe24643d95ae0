"""A piano recording written as a score by the real desktop app, saved as a screenshot.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_audio_score.py OUTDIR \
        [--piece joplin/maple_leaf_rag] [--bars 8] [--seed 3]

The first bars of a music21 corpus piece (by default Joplin's Maple Leaf Rag, a test-split piece) are
performed with human timing and dynamics, played by the evaluation piano (never trained on) and recorded in
a held-out living room (``model.evaluate_rooms``, "living": reverb 3-8 dB below the direct sound, RT60
0.3-0.6 s, noise 40-50 dB down). The app opens the WAV and *Translate > All* transcribes it and writes the
score. The script prints the written score's time signature, key signature and number of bars next to the
piece's own, and saves the window (score, piano roll of the transcription, waveform) as
OUTDIR/audio-to-score.png and the recording as OUTDIR/<piece>-living.wav.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

SR = 16000


def make_recording(path: Path, piece: str, bars: int, seed: int):
    """Write the recording to ``path``; return the excerpt as written (music21 score)."""
    from dataclasses import replace

    import soundfile
    from music21 import corpus

    from model.data.dynamics import dynamics
    from model.data.humanize import humanize
    from model.data.pianos import pianos, play
    from model.evaluate_rooms import CONDITIONS, record
    from model.io.types import Notation
    from model.perform import notation_to_midi

    rng = np.random.default_rng(seed)
    score = corpus.parse(piece).measures(1, bars)
    exact = notation_to_midi(Notation(score), expand=False).pm
    perf = dynamics(humanize(exact, rng, 1.0), rng)
    piano = replace(pianos("test")[0], detune_cents=5.0)
    wet, meta = record(play(perf, piano, SR), CONDITIONS["living"], rng)
    soundfile.write(str(path), wet, SR, subtype="PCM_16")
    print(f"recording: {path.name}, {len(wet) / SR:.1f} s, room {meta}")
    return score


def signatures(score) -> tuple[str, int | None, int]:
    """(time signature, key signature fifths, number of bars) of a music21 score."""
    part = score.parts[0]
    ts = next(iter(part.recurse().getElementsByClass("TimeSignature")), None)
    ks = next(iter(part.recurse().getElementsByClass("KeySignature")), None)
    bars = len(part.getElementsByClass("Measure"))
    return (ts.ratioString if ts else "?"), (ks.sharps if ks else None), bars


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", nargs="?", default="screenshots")
    ap.add_argument("--piece", default="joplin/maple_leaf_rag")
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    outdir = Path(args.outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    os.environ["UNIMT_CONFIG_DIR"] = tempfile.mkdtemp(prefix="unimt-shots-")
    wav = outdir / f"{args.piece.replace('/', '-')}-living.wav"
    written = make_recording(wav, args.piece, args.bars, args.seed)

    import shots

    from model.api import Modality

    app, window = shots.open_window(wav)
    shots.wait_job(window, lambda: window.translate("all"), timeout_s=600, after_ms=800)
    path = outdir / "audio-to-score.png"
    window.grab().save(str(path))
    print(f"saved {path}")
    notation = window.objects.get(Modality.NOTATION)
    if notation is not None:
        print("the piece:   time %s, key %+d fifths, %d bars" % signatures(written))
        print("the app's:   time %s, key %+d fifths, %d bars" % signatures(notation.score))
    shots.close(window, app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
