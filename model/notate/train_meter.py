"""Fit the meter choice of :mod:`model.notate.meter` on humanised performances of the training split
(never the test split), and say how it does on the validation split:

    python -m model.notate.train_meter [--out model/notate/meter_weights.json]   # the shipped fit
    python -m model.notate.train_meter --pieces 1150 --excerpts 8 --generated 400 --validation-pieces 303 \
        --mlp 128 --out meter_mlp.json   # a network scorer: better on validation, not on test (README)
    python -m model.notate.train_meter --pieces 300 --mlp 0 --heard data/meter_heard  # _heard.json

``--heard DIR``: the same performances as the product hears them from a recording, for the meter of
transcribed notes: each is played by a training piano in a training room (:mod:`model.data.recording`)
and transcribed by the installed weights; the transcriptions are kept in DIR (MIDI and the written
LMX), so that a second fit reads them instead of transcribing again.

Each performance is quantised by the rule route; its notes are matched to the excerpt's written notes
(the k-th performed note of a pitch is the k-th written one), which gives the right candidate: the beat
value and offset that put the most notes where they are written, the written time signature, and the
bar-line phase of the written measures. A scorer of the features of
:data:`model.notate.meter.FEATURES` is then fitted, the right candidate against every other one of its
performance: a conditional logit (one weight per feature, a few dozen numbers in JSON; shipped) or, with
``--mlp H``, a small network (:func:`fit_mlp`, one hidden layer of H units).
"""

from __future__ import annotations

import argparse
import json
import random
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


def excerpt_performances(split: str, pieces: int, excerpts: int, seed: int = 5, log=print) -> list:
    """(performance, written LMX) of up to ``excerpts`` excerpts of each of ``pieces`` pieces of ``split``."""
    from model.data.build import BuildSettings, excerpt_examples, make_tokenizers, unit_scores
    from model.data.split import corpus_files
    from model.evaluate_reader import score_chunks
    from model.tokenizers.midi import MidiTokenizer

    files = sorted(corpus_files(split))
    random.Random(seed).shuffle(files)
    settings = BuildSettings(tasks=("midi2lmx",), excerpts_per_unit=excerpts, audio_prob=1.0, soundfonts=())
    toks, tok = make_tokenizers(), MidiTokenizer()
    ids = {t: i for i, t in enumerate(tok.vocab)}
    out = []
    for k, (rel, path) in enumerate(files[:pieces]):
        rng = np.random.default_rng([seed, 1000 + k])
        try:
            for score in unit_scores({"path": str(path), "source": rel}, rng)[:1]:
                for chunk, n_measures in score_chunks(score, rng, excerpts, settings.max_measures):
                    for h, _ in excerpt_examples(chunk, n_measures, rng, settings, rel, toks):
                        if h["task"] == "midi2lmx":
                            pm = tok.decode_window([ids[t] for t in h["src_midi"]], 10.0)
                            out.append((pm, h["tgt_lmx"]))
        except Exception as exc:  # noqa: BLE001 - a piece music21 cannot read is skipped, as in training
            log(f"skipped {rel}: {type(exc).__name__}")
        if (k + 1) % 50 == 0:
            log(f"{split}: {k + 1} pieces, {len(out)} performances")
    return out


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


def written_label(lmx: list) -> str | None:
    """The first time signature of an LMX sequence as the evaluation reads it, written ``"3/4"``."""
    from model.evaluate_notation import time_signature

    ts = time_signature(lmx)
    return "/".join(t.split(":")[1] for t in ts.split()) if ts else None


def examples(items: list, log=print) -> list[tuple[np.ndarray, int, np.ndarray]]:
    """(feature matrix, index of the right candidate or -1, which candidates have the written time
    signature) of (performance, written LMX) pairs, or of (transcription, written LMX, performance) triples,
    featured as :func:`model.notate.meter.choose_meter` features transcribed notes. A performance whose
    written meter is not among its candidates still tells which signature is right."""
    from model.notate.score import analyse

    out, missed = [], 0
    for pm, lmx, *played in items:
        try:
            a = analyse(pm)
            truth = true_candidate(a, pm, lmx, played[0] if played else None)
        except Exception:  # noqa: BLE001 - an empty or unreadable performance teaches nothing
            continue
        beats = a["beats"]
        period = float(np.median(np.diff(beats))) if beats.size > 1 else 0.5
        notes = a["notes"]
        cands, x = all_features(a["on"], a["end"], notes.pitch, notes.velocity, a["divisions"], period,
                                ring=bool(played))
        keys = [(c.label, c.beat_ql, c.phase) for c in cands]
        label = written_label(lmx)
        right = np.array([c.label == label for c in cands])
        missed += truth not in keys
        if truth in keys or right.any():
            out.append((x, keys.index(truth) if truth in keys else -1, right))
    log(f"{len(out)} performances, {missed} without their meter among the candidates")
    return out


def fit(groups: list, l2: float = 0.05) -> np.ndarray:
    """Conditional-logit weights: maximise the log-probability of each right candidate (groups of
    (features, right index, ...); those without one are left out)."""
    from scipy.optimize import minimize

    groups = [(g[0], g[1]) for g in groups if g[1] >= 0]

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


def _padded(groups: list):
    import torch

    n, d = max(g[0].shape[0] for g in groups), groups[0][0].shape[1]
    x = np.zeros((len(groups), n, d), np.float32)
    mask, right = np.zeros((len(groups), n), bool), np.zeros((len(groups), n), bool)
    for i, (f, _, r) in enumerate(groups):
        x[i, : len(f)], mask[i, : len(f)], right[i, : len(f)] = f, True, r
    k = torch.tensor([g[1] for g in groups])
    return torch.tensor(x), torch.tensor(mask), k, torch.tensor(right)


def fit_mlp(groups: list, hidden: int = 128, epochs: int = 60, dropout: float = 0.5, seed: int = 0,
            log=print) -> dict:
    """A candidate scorer with one hidden layer (:class:`model.notate.meter.Scorer`), trained on groups of
    (features, right index or -1, right-signature mask) to give the right candidate the most probability
    and, as much again, the candidates of the written time signature together (what a reader sees first).
    Returns its fitted parameters."""
    import torch

    torch.manual_seed(seed)
    x, mask, k, right = _padded(groups)
    flat = x[mask]
    mean, scale = flat.mean(0), flat.std(0) + 1e-6
    d = x.shape[-1]
    net = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.GELU(approximate="tanh"),
                              torch.nn.Dropout(dropout), torch.nn.Linear(hidden, 1))
    lin = torch.nn.Linear(d, 1)
    params = list(net.parameters()) + list(lin.parameters())
    opt = torch.optim.AdamW(params, 3e-3, weight_decay=1e-2)
    per_epoch = (len(x) + 63) // 64
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * per_epoch)

    def scores(b):
        z = (x[b] - mean) / scale
        return (net(z) + lin(z)).squeeze(-1).masked_fill(~mask[b], -1e9)

    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            b = order[i : i + 64]
            lp = torch.log_softmax(scores(b), -1)
            has = k[b] >= 0
            told = right[b].any(-1)
            loss = lp.new_zeros(())
            if has.any():
                loss = loss - lp[has].gather(1, k[b][has][:, None]).mean()
            if told.any():
                loss = loss - torch.logsumexp(lp[told].masked_fill(~right[b][told], -1e9), -1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if (epoch + 1) % 10 == 0:
            log(f"epoch {epoch + 1}: loss {loss.item():.3f}")
    def short(t):  # six significant digits are plenty
        return np.vectorize(lambda v: float(f"{v:.6g}"))(t.detach().numpy()).tolist()

    return {
        "mlp": {
            "mean": short(mean),
            "scale": short(scale),
            "w1": short(net[0].weight.T),
            "b1": short(net[0].bias),
            "w2": short(net[3].weight[0]),
            "lin": short(lin.weight[0]),
            "bias": (net[3].bias[0] + lin.bias[0]).item(),
        }
    }


def _score_of(fitted):
    from model.notate.meter import Scorer

    return Scorer(fitted if isinstance(fitted, dict) else {"w": fitted})


def accuracy(groups: list, fitted) -> float:
    """Share of the groups (with a right candidate) whose best candidate is the right one."""
    score = _score_of(fitted)
    right = [g for g in groups if g[1] >= 0]
    return float(np.mean([int(np.argmax(score(g[0]))) == g[1] for g in right])) if right else 0.0


def signature_accuracy(groups: list, fitted) -> float:
    """Share of the groups whose best candidate has the written time signature."""
    score = _score_of(fitted)
    return float(np.mean([bool(g[2][int(np.argmax(score(g[0])))]) for g in groups])) if groups else 0.0


def _save(path, features, fitted, train, val, pieces, extra: str = "") -> None:
    """Write fitted weights (an array: a linear scorer; a dict: :func:`fit_mlp`'s) with what they score."""
    out = {"features": list(features)}
    if isinstance(fitted, dict):
        out |= fitted
    else:
        out["w"] = [round(float(v), 5) for v in fitted]
    out |= {
        "trained_on": f"{len(train)} performances ({pieces} training-split pieces{extra})",
        "training_accuracy": f"{accuracy(train, fitted):.1%}",
        "validation_accuracy": f"{accuracy(val, fitted):.1%} of {len(val)} validation performances",
    }
    if train and len(train[0]) > 2:  # meter groups: the time signature alone, as the evaluation counts it
        out["validation_signature_right"] = f"{signature_accuracy(val, fitted):.1%}"
    tmp = Path(f"{path}.tmp")
    tmp.write_text(json.dumps(out, indent=1 if "w" in out else None))
    tmp.replace(path)   # the shipped weights are never left half written
    print(path, out["trained_on"], "; training:", out["training_accuracy"], "; validation:",
          out["validation_accuracy"], out.get("validation_signature_right", ""))


def training_items(pieces: int, excerpts: int, generated: int, log=print) -> list:
    """(performance, written LMX) of the training split (``excerpts`` a piece, or the evaluation's three
    when 3) and of ``generated`` pieces of generated piano music."""
    items = (performances(pieces, "train", log=log) if excerpts == 3
             else excerpt_performances("train", pieces, excerpts, log=log))
    return items + (generated_performances(generated, log=log) if generated else [])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pieces", type=int, default=300)
    ap.add_argument("--excerpts", type=int, default=3, help="excerpts a training piece (3: the evaluation's)")
    ap.add_argument("--generated", type=int, default=0, help="pieces of generated piano music")
    ap.add_argument("--validation-pieces", type=int, default=100)
    ap.add_argument("--mlp", type=int, default=0, help="hidden units of a network scorer (0: linear)")
    ap.add_argument("--out", default=None, help="default: meter_weights.json (_heard.json with --heard)")
    ap.add_argument("--heard", type=Path, default=None,
                    help="fit on recordings of the performances, transcribed; kept in this folder")
    args = ap.parse_args(argv)

    def log(s):
        print(s, file=sys.stderr)

    if args.heard is not None:
        train_items = performances(args.pieces, "train", log=log)
        train_items = heard_performances(train_items, args.heard, "train", log)
    else:
        train_items = training_items(args.pieces, args.excerpts, args.generated, log)
    val_items = performances(args.validation_pieces, "validation", log=log)
    if args.heard is not None:
        val_items = heard_performances(val_items, args.heard, "validation", log)
    train, val = examples(train_items, log), examples(val_items, log)
    out = args.out or (WEIGHTS if args.heard is None else WEIGHTS_HEARD)
    fitted = fit_mlp(train, args.mlp, log=log) if args.mlp > 0 else fit(train)
    generated = f", {args.generated} generated" if args.heard is None and args.generated else ""
    _save(out, FEATURES, fitted, train, val, args.pieces, generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
