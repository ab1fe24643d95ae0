"""A piano recorded in a reverberant hall, transcribed by the real desktop app: every loud passage checked.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_reverberant.py OUTDIR

The first sixteen bars of Joplin's Maple Leaf Rag (music21 corpus, a test-split piece) are performed with
human timing and dynamics (pp to ff phrases, accents), played by the evaluation piano (never trained on) and
recorded in the held-out room family of ``model.evaluate_rooms``, "reverberant" condition (reverb 6-12 dB
above the direct sound, RT60 0.6-1.5 s, noise 30-45 dB down). The app opens the WAV and *Translate > MIDI*
transcribes it. The script prints, for every 2-second window, the dry performance's loudness, the notes
played and the notes found (onsets within 50 ms, same pitch), and fails (exit 1) when a loud window (within
10 dB of the loudest) comes out with no notes. The window is saved as OUTDIR/reverberant-to-midi.png, the
recording as OUTDIR/maple-leaf-rag-hall.wav.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

SR = 16000
WINDOW_S = 2.0


def make_recording(path: Path, bars: int = 16, seed: int = 11):
    """Write the reverberant recording to ``path``; return (performance PrettyMIDI, dry audio, room meta)."""
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
    score = corpus.parse("joplin/maple_leaf_rag").measures(1, bars)
    exact = notation_to_midi(Notation(score), expand=False).pm
    perf = dynamics(humanize(exact, rng, 1.0), rng)
    piano = replace(pianos("test")[0], detune_cents=7.0)
    dry = play(perf, piano, SR)
    wet, meta = record(dry, CONDITIONS["reverberant"], rng)
    soundfile.write(str(path), wet, SR, subtype="PCM_16")
    return perf, dry, meta


def loud_windows(perf, dry: np.ndarray, found) -> list[dict]:
    """Per 2-s window: loudness (dB below the loudest window), notes played, notes found at their onsets."""
    played = [n for i in perf.instruments if not i.is_drum for n in i.notes]
    got = [n for i in found.instruments if not i.is_drum for n in i.notes]
    hop = int(WINDOW_S * SR)
    n_win = max(1, int(np.ceil(len(dry) / hop)))
    rms = np.array([np.sqrt(np.mean(dry[k * hop:(k + 1) * hop] ** 2) + 1e-12) for k in range(n_win)])
    db = 20 * np.log10(rms / rms.max())
    rows = []
    for k in range(n_win):
        lo, hi = k * WINDOW_S, (k + 1) * WINDOW_S
        ref = [n for n in played if lo <= n.start < hi]
        est = [n for n in got if lo <= n.start < hi]
        hit = sum(any(m.pitch == n.pitch and abs(m.start - n.start) <= 0.05 for m in est) for n in ref)
        vel = max((n.velocity for n in ref), default=0)
        rows.append({"window": f"{lo:4.0f}-{hi:.0f} s", "db": round(float(db[k]), 1), "max_velocity": vel,
                     "played": len(ref), "found": len(est), "recall": hit / len(ref) if ref else None})
    return rows


def main() -> int:
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    os.environ["UNIMT_CONFIG_DIR"] = tempfile.mkdtemp(prefix="unimt-shots-")
    wav = outdir / "maple-leaf-rag-hall.wav"
    perf, dry, meta = make_recording(wav)
    print(f"recording: {wav.name}, {len(dry) / SR:.1f} s, room {meta}")

    from shots import settle, wait_job

    from model.api import Modality
    from unimt_desktop.__main__ import create_app

    app, window = create_app(str(wav))
    window.resize(1600, 960)
    window.move(0, 0)
    wait_job(window, None, after_ms=800)
    wait_job(window, lambda: window.translate("midi"), after_ms=800)
    found = window.objects[Modality.MIDI].pm
    rows = loud_windows(perf, dry, found)
    print(f"{'window':>10} {'dB':>6} {'max vel':>8} {'played':>7} {'found':>6} {'recall':>7}")
    for r in rows:
        rec = "" if r["recall"] is None else f"{100 * r['recall']:.0f}%"
        print(f"{r['window']:>10} {r['db']:6.1f} {r['max_velocity']:8d} {r['played']:7d} {r['found']:6d} "
              f"{rec:>7}")
    silent_loud = [r for r in rows if r["db"] >= -10 and r["played"] and not r["found"]]
    settle()
    path = outdir / "reverberant-to-midi.png"
    window.grab().save(str(path))
    print(f"saved {path}")
    window.unexported.clear()
    window.close()
    app.processEvents()
    if silent_loud:
        print(f"loud windows with no notes: {[r['window'] for r in silent_loud]}")
        return 1
    print("every loud window has notes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
