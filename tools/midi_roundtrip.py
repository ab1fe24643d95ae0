"""Measure the MIDI -> windows of event tokens -> stitched MIDI round trip.

Two sets of MIDI: the music21 corpus (each core file parsed and written with music21's own MIDI
writer, then read back with pretty_midi) and performance-like MIDI generated here (random
velocities, sustain pedal, unquantised timing, several programs, long notes across windows).
Each file is encoded in windows, every window decoded and the windows stitched; the stitched
notes are compared with the original notes quantised to 10 ms::

    python -m tools.midi_roundtrip [--limit N] [--window 10] [--hop 10] [--json OUT]

Reported: the share of notes exact at 10 ms (program, pitch, onset and offset on the step grid),
the share with velocity within one bin, the share of pedal changes kept, notes lost / added
(by program, pitch and onset), and tokens per window.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from model.tokenizers.midi import DRUMS, MidiTokenizer


def performance_midi(seed: int, seconds: float = 40.0):
    """A performance-like PrettyMIDI: unquantised timing, random velocities, pedal, several programs."""
    import pretty_midi

    rng = random.Random(seed)
    pm = pretty_midi.PrettyMIDI()
    programs = (
        [0] + rng.sample([24, 40, 41, 56, 73], k=rng.randint(0, 2)) + ([DRUMS] if rng.random() < 0.3 else [])
    )
    for prog in programs:
        inst = pretty_midi.Instrument(program=0 if prog == DRUMS else prog, is_drum=prog == DRUMS)
        t = rng.uniform(0, 0.5)
        while t < seconds:
            for pitch in rng.sample(range(36, 96), k=rng.randint(1, 4)):
                length = rng.choice(
                    [rng.uniform(0.02, 0.6), rng.uniform(0.5, 3.0), rng.uniform(8, 25)]
                    if rng.random() < 0.05
                    else [rng.uniform(0.02, 0.6), rng.uniform(0.3, 2.0)]
                )
                start = t + rng.gauss(0, 0.01)
                inst.notes.append(pretty_midi.Note(rng.randint(1, 127), pitch, max(0.0, start),
                                                   max(0.0, start) + length))
            t += rng.expovariate(4.0)
        if prog == 0:
            t = rng.uniform(0, 2)
            while t < seconds:
                inst.control_changes.append(pretty_midi.ControlChange(64, rng.randint(64, 127), t))
                t += rng.uniform(0.3, 4.0)
                inst.control_changes.append(pretty_midi.ControlChange(64, rng.randint(0, 63), t))
                t += rng.uniform(0.02, 1.0)
        pm.instruments.append(inst)
    return pm


def corpus_midis(limit: int | None):
    """(name, PrettyMIDI) of music21 core corpus files written as MIDI by music21; skips what fails."""
    import pretty_midi
    from music21 import corpus

    pretty_midi.pretty_midi.MAX_TICK = max(pretty_midi.pretty_midi.MAX_TICK, 10**9)
    paths = sorted(corpus.getCorePaths(), key=str)
    if limit:
        paths = paths[:limit]
    counts = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for k, path in enumerate(paths):
            try:
                score = corpus.parse(path)
                if hasattr(score, "scores"):  # an Opus: take its first score
                    score = score.scores[0]
                out = Path(tmp) / f"{k}.mid"
                score.write("midi", fp=str(out))
                pm = pretty_midi.PrettyMIDI(str(out))
            except Exception as exc:  # music21 fails on some corpus files in many ways
                counts[f"skipped ({type(exc).__name__})"] += 1
                continue
            counts["read"] += 1
            yield str(path).split("corpus/")[-1], pm
    print("corpus files:", dict(counts), "of", len(paths), file=sys.stderr)


def compare(tok: MidiTokenizer, original, stitched) -> dict:
    """Counts comparing two PrettyMIDI objects on the tokenizer's step grid."""
    a_notes, a_ped = tok.quantise(original)
    b_notes, b_ped = tok.quantise(stitched)
    key = lambda n: (n.program, n.pitch, n.on, n.off)  # noqa: E731
    a, b = Counter(map(key, a_notes)), Counter(map(key, b_notes))
    exact = sum((a & b).values())
    onset = lambda n: (n.program, n.pitch, n.on)  # noqa: E731
    ao, bo = Counter(map(onset, a_notes)), Counter(map(onset, b_notes))
    vel_a: dict = {}
    for n in a_notes:
        vel_a.setdefault(onset(n), []).append(n.vbin)
    vel_b: dict = {}
    for n in b_notes:
        vel_b.setdefault(onset(n), []).append(n.vbin)
    vel_ok = sum(sum(abs(x - y) <= 1 for x, y in zip(sorted(v), sorted(vel_b.get(k, []))))
                 for k, v in vel_a.items())
    raw_pedal = sum(1 for inst in original.instruments for cc in inst.control_changes if cc.number == 64)
    pa = Counter((p, s, d) for p, evs in a_ped.items() for s, d in evs)
    pb = Counter((p, s, d) for p, evs in b_ped.items() for s, d in evs)
    return {
        "notes": len(a_notes),
        "exact": exact,
        "velocity_ok": vel_ok,
        "lost": sum((ao - bo).values()),
        "added": sum((bo - ao).values()),
        "pedal": sum(pa.values()),
        "pedal_kept": sum((pa & pb).values()),
        "pedal_extra": sum((pb - pa).values()),
        "pedal_raw_cc": raw_pedal,
    }


def measure(items, tok: MidiTokenizer, window_s: float, hop_s: float | None, via_file: bool) -> dict:
    import pretty_midi

    total, files, exact_files, tokens, windows, worst = Counter(), 0, 0, 0, 0, []
    for name, pm in items:
        seqs = tok.encode_windows(pm, window_s, hop_s)
        stitched = tok.stitch([tok.decode(s.ids) for s in seqs], window_s, hop_s)
        if via_file:  # also through a MIDI file written and read by pretty_midi
            buf = io.BytesIO()
            stitched.write(buf)
            stitched = pretty_midi.PrettyMIDI(io.BytesIO(buf.getvalue()))
        c = compare(tok, pm, stitched)
        total.update(c)
        files += 1
        windows += len(seqs)
        tokens += sum(len(s) for s in seqs)
        ok = c["exact"] == c["notes"] and c["pedal_kept"] == c["pedal"] and not c["pedal_extra"]
        exact_files += ok
        if not ok:
            worst.append((c["notes"] - c["exact"], name))
    n = max(total["notes"], 1)
    return {"files": files, "files_exact": exact_files, "windows": windows,
            "tokens_per_window": round(tokens / max(windows, 1), 1), **dict(total),
            "exact_share": total["exact"] / n, "velocity_within_one_bin_share": total["velocity_ok"] / n,
            "pedal_kept_share": total["pedal_kept"] / max(total["pedal"], 1),
            "worst": [w for _, w in sorted(worst, reverse=True)[:5]]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N corpus files only")
    ap.add_argument("--performances", type=int, default=50, help="number of generated performance MIDIs")
    ap.add_argument("--window", type=float, default=10.0, help="window length in seconds")
    ap.add_argument("--hop", type=float, default=None, help="hop in seconds (default: the window)")
    ap.add_argument("--via-file", action="store_true", help="also write and re-read the stitched MIDI")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    args = ap.parse_args(argv)
    tok = MidiTokenizer()
    t0 = time.time()
    results = {"config": tok.config_dict(), "window_s": args.window, "hop_s": args.hop,
               "performance": measure(((f"perf{s}", performance_midi(s)) for s in range(args.performances)),
                                      tok, args.window, args.hop, args.via_file),
               "corpus": measure(corpus_midis(args.limit), tok, args.window, args.hop, args.via_file)}
    results["seconds"] = round(time.time() - t0, 1)
    for name in ("corpus", "performance"):
        r = results[name]
        print(
            f"{name}: {r['files']} files ({r['files_exact']} exact), {r['notes']} notes, "
            f"exact at 10 ms {r['exact_share']:.4%}, "
            f"velocity within one bin {r['velocity_within_one_bin_share']:.4%}, "
            f"pedal kept {r['pedal_kept']}/{r['pedal']} (+{r['pedal_extra']}; {r['pedal_raw_cc']} raw CC64), "
            f"lost {r['lost']}, added {r['added']}, {r['windows']} windows, "
            f"{r['tokens_per_window']} tokens/window"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
