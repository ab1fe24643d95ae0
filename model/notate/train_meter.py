"""Fit the meter choice of :mod:`model.notate.meter` on humanised performances of the training split
(never the test split), and say how it does on the validation split:

    python -m model.notate.train_meter --pieces 300 [--out model/notate/meter_weights.json]
    python -m model.notate.train_meter --pieces 300 --heard data/meter_heard   # meter_weights_heard.json

``--heard DIR``: the same performances as the product hears them from a recording, for the meter of
transcribed notes: each is played by a training piano in a training room (:mod:`model.data.recording`)
and transcribed by the installed weights; the transcriptions are kept in DIR (MIDI and the written
LMX), so that a second fit reads them instead of transcribing again.

Each performance is quantised by the rule route; its notes are matched to the excerpt's written notes
(the k-th performed note of a pitch is the k-th written one), which gives the right candidate: the beat
value and offset that put the most notes where they are written, the written time signature, and the
bar-line phase of the written measures. A conditional logit then fits one weight per feature of
:data:`model.notate.meter.FEATURES` (the right candidate against every other one of its performance);
the weights are a few dozen numbers in JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from model.notate.meter import BEAT_VALUES, FEATURES, LABELS, WEIGHTS, WEIGHTS_HEARD, all_features


def written_onsets(pm, tgt_lmx: list, heard_from=None) -> tuple:
    """(performed onset times, written onsets in quarters, first measure's quarters, a bar's quarters,
    time signature) of the notes of a performance of an excerpt; NaN where a note has no written one.
    ``heard_from``: ``pm`` is a transcription of that performance, and each of its notes is the played note
    of the same pitch nearest in time (within 60 ms)."""
    if heard_from is not None:
        times, quarters, first_q, bar_q, label = written_onsets(heard_from, tgt_lmx)
        pitches = np.array(sorted((n.start, -n.pitch) for i in heard_from.instruments for n in i.notes))
        heard = sorted((n for inst in pm.instruments for n in inst.notes), key=lambda n: (n.start, -n.pitch))
        out = np.full(len(heard), np.nan)
        for j, n in enumerate(heard):
            if pitches.size:
                gap = np.where(pitches[:, 1] == -n.pitch, np.abs(pitches[:, 0] - n.start), np.inf)
                if gap.min() <= 0.06:
                    out[j] = quarters[int(np.argmin(gap))]
        return np.array([n.start for n in heard]), out, first_q, bar_q, label
    from music21 import converter

    from model.perform import score_notes
    from model.tokenizers.lmx import delinearize

    score = converter.parseData(delinearize(tgt_lmx), format="musicxml")
    written = sorted(score_notes(score, expand=False), key=lambda n: (n.onset, -n.pitch))
    by_pitch: dict[int, list[float]] = {}
    for n in written:
        by_pitch.setdefault(n.pitch, []).append(float(n.onset))
    played = sorted((n for inst in pm.instruments for n in inst.notes), key=lambda n: (n.start, -n.pitch))
    seen: dict[int, int] = {}
    times, quarters = [], []
    for n in played:
        k = seen.get(n.pitch, 0)
        seen[n.pitch] = k + 1
        lst = by_pitch.get(n.pitch, [])
        times.append(n.start)
        quarters.append(lst[k] if k < len(lst) else np.nan)
    part = score.parts[0]
    measures = list(part.getElementsByClass("Measure"))
    sigs = list(part.recurse().getElementsByClass("TimeSignature"))
    bar_q = float(sigs[0].barDuration.quarterLength) if sigs else 4.0
    first_q = float(measures[0].duration.quarterLength) if measures else bar_q
    label = f"{sigs[0].numerator}/{sigs[0].denominator}" if sigs else None
    return np.asarray(times), np.asarray(quarters, dtype=np.float64), first_q, bar_q, label


def true_candidate(analysis: dict, pm, tgt_lmx: list, heard_from=None):
    """(label, beat value, phase ticks) of the written meter in the route's ticks, or None when the
    written notes do not fit the route's beats at any beat value (``heard_from``: see
    :func:`written_onsets`)."""
    from model.notate.quantise import TPB

    times, quarters, first_q, bar_q, label = written_onsets(pm, tgt_lmx, heard_from)
    if label not in LABELS:
        return None
    notes = analysis["notes"]
    tick = {(int(p), round(float(s), 4)): int(o) for p, s, o in zip(notes.pitch, notes.start, analysis["on"])}
    played = sorted((n for inst in pm.instruments for n in inst.notes), key=lambda n: (n.start, -n.pitch))
    ours = np.array([tick.get((n.pitch, round(n.start, 4)), np.nan) for n in played], dtype=np.float64) / TPB
    ok = ~np.isnan(ours) & ~np.isnan(quarters)
    if ok.sum() < 2:
        return None
    best = None
    for b in BEAT_VALUES:
        d = np.round(quarters[ok] - ours[ok] * b, 3)
        vals, counts = np.unique(d, return_counts=True)
        k = int(np.argmax(counts))
        if best is None or counts[k] > best[0] or (counts[k] == best[0] and b == 1.0):
            best = (counts[k], b, float(vals[k]))
    count, b, d = best
    if count < 0.8 * ok.sum():
        return None
    start = first_q if first_q < bar_q else 0.0
    phase = ((start - d) % bar_q) / b * TPB
    if abs(phase - round(phase)) > 1e-6:
        return None
    return label, b, int(round(phase))


def performances(pieces: int, split: str, seed: int = 0, log=print) -> list:
    """(performance, written LMX) of the midi2lmx examples of ``split``."""
    from model.evaluate import test_examples
    from model.tokenizers.midi import MidiTokenizer

    tok = MidiTokenizer()
    ids = {t: i for i, t in enumerate(tok.vocab)}
    return [
        (tok.decode_window([ids[t] for t in h["src_midi"]], 10.0), h["tgt_lmx"])
        for h, _ in test_examples(pieces, 3, seed, ("midi2lmx",), log, split=split)
        if h["task"] == "midi2lmx"
    ]


def generated_performances(pieces: int, seed: int = 0, log=print) -> list:
    """(performance, written LMX) of midi2lmx examples of the generated piano music (waltzes, marches,
    chorales with their left-hand patterns and meters), played as the training split is."""
    from model.data.build import BuildSettings, excerpt_examples, make_tokenizers, unit_scores
    from model.evaluate_reader import score_chunks
    from model.tokenizers.midi import MidiTokenizer

    settings = BuildSettings(tasks=("midi2lmx",), excerpts_per_unit=3, audio_prob=1.0, soundfonts=())
    toks = make_tokenizers()
    tok = MidiTokenizer()
    ids = {t: i for i, t in enumerate(tok.vocab)}
    out = []
    for k in range(pieces):
        rng = np.random.default_rng([seed, 99, k])
        try:
            for score in unit_scores({"path": None, "source": f"generated:{seed * 100000 + k}"}, rng)[:1]:
                for chunk, n_measures in score_chunks(score, rng, 3, settings.max_measures):
                    for h, _ in excerpt_examples(chunk, n_measures, rng, settings, "generated", toks):
                        if h["task"] == "midi2lmx":
                            pm = tok.decode_window([ids[t] for t in h["src_midi"]], 10.0)
                            out.append((pm, h["tgt_lmx"]))
        except Exception as exc:  # noqa: BLE001 - a piece the generator cannot write is skipped
            log(f"generated piece {k} skipped: {type(exc).__name__}")
    return out


def heard_performances(items: list, folder: Path, split: str, log=print) -> list:
    """(transcription, written LMX, performance) of each (performance, written LMX): played by a piano of
    ``split``'s bank in a training room and transcribed by the installed weights. The transcriptions are
    kept in ``folder``; those of a run's first items are read back from there (the items of more pieces
    begin with those of fewer)."""
    import pretty_midi

    folder.mkdir(parents=True, exist_ok=True)
    index = folder / f"{split}.jsonl"
    rows = [json.loads(line) for line in index.read_text().splitlines()] if index.exists() else []
    rows = rows[: len(items)]
    same = [r["lmx"] == lmx for r, (_, lmx) in zip(rows, items)]
    rows = rows[: same.index(False)] if False in same else rows   # a changed item: heard again from there
    out = [(pretty_midi.PrettyMIDI(str(folder / r["midi"])), lmx, pm) for r, (pm, lmx) in zip(rows, items)]
    if len(out) == len(items):
        return out
    from model.data.pianos import draw_piano, play
    from model.data.recording import recorded
    from model.inference.engine import get_engine
    from model.inference.weights import find_weights
    from model.io.types import Audio
    from model.progress import Reporter

    sr = 16000
    engine = get_engine(find_weights(None), "cpu")
    for k in range(len(out), len(items)):
        pm, lmx = items[k]
        rng = np.random.default_rng([31, k])
        audio = recorded(play(pm, draw_piano(rng, split), sr), sr, rng)
        heard = engine.transcribe(Audio(audio, sr), Reporter()).pm
        name = f"{split}-{k:05d}.mid"
        heard.write(str(folder / name))
        rows.append({"midi": name, "lmx": lmx})
        out.append((heard, lmx, pm))
        if (k + 1) % 50 == 0:
            log(f"{k + 1}/{len(items)} {split} performances heard")
            index.write_text("".join(json.dumps(r) + "\n" for r in rows))
    index.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out


def examples(items: list, log=print) -> list[tuple[np.ndarray, int]]:
    """(feature matrix, index of the right candidate) of (performance, written LMX) pairs, or of
    (transcription, written LMX, performance) triples, featured as :func:`model.notate.meter.choose_meter`
    features transcribed notes."""
    from model.notate.score import analyse

    out, missed = [], 0
    for pm, lmx, *played in items:
        try:
            a = analyse(pm)
        except Exception:  # noqa: BLE001 - an empty performance teaches nothing
            continue
        truth = true_candidate(a, pm, lmx, played[0] if played else None)
        beats = a["beats"]
        period = float(np.median(np.diff(beats))) if beats.size > 1 else 0.5
        notes = a["notes"]
        cands, x = all_features(a["on"], a["end"], notes.pitch, notes.velocity, a["divisions"], period,
                                ring=bool(played))
        keys = [(c.label, c.beat_ql, c.phase) for c in cands]
        if truth is None or truth not in keys:
            missed += 1
            continue
        out.append((x, keys.index(truth)))
    log(f"{len(out)} performances with their meter among the candidates, {missed} without")
    return out


def fit(groups: list, l2: float = 0.05) -> np.ndarray:
    """Conditional-logit weights: maximise the log-probability of each right candidate."""
    from scipy.optimize import minimize

    def loss(w):
        total, grad = l2 * float(w @ w), 2 * l2 * w
        for x, k in groups:
            s = x @ w
            s = s - s.max()
            p = np.exp(s)
            p /= p.sum()
            total -= float(np.log(p[k] + 1e-300))
            grad = grad + p @ x - x[k]
        return total / len(groups), grad / len(groups)

    w0 = np.zeros(groups[0][0].shape[1])
    return minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 500}).x


def accuracy(groups: list, w: np.ndarray) -> float:
    return float(np.mean([int(np.argmax(x @ w)) == k for x, k in groups])) if groups else 0.0


def _save(path, features, w, train, val, pieces) -> None:
    out = {
        "features": list(features),
        "w": [round(float(v), 5) for v in w],
        "trained_on": f"{len(train)} training-split performances ({pieces} pieces)",
        "training_accuracy": f"{accuracy(train, w):.1%}",
        "validation_accuracy": f"{accuracy(val, w):.1%} of {len(val)} validation performances",
    }
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print(path, out["trained_on"], "; training:", out["training_accuracy"], "; validation:",
          out["validation_accuracy"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pieces", type=int, default=300)
    ap.add_argument("--validation-pieces", type=int, default=100)
    ap.add_argument("--out", default=None, help="default: meter_weights.json (_heard.json with --heard)")
    ap.add_argument("--heard", type=Path, default=None,
                    help="fit on recordings of the performances, transcribed; kept in this folder")
    args = ap.parse_args(argv)

    def log(s):
        print(s, file=sys.stderr)

    train_items = performances(args.pieces, "train", log=log)
    val_items = performances(args.validation_pieces, "validation", log=log)
    if args.heard is not None:
        train_items = heard_performances(train_items, args.heard, "train", log)
        val_items = heard_performances(val_items, args.heard, "validation", log)
    train, val = examples(train_items, log), examples(val_items, log)
    out = args.out or (WEIGHTS if args.heard is None else WEIGHTS_HEARD)
    _save(out, FEATURES, fit(train), train, val, args.pieces)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
