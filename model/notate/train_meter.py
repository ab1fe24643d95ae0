"""Fit the learned simple-meter choice of :mod:`model.notate.meter` on humanised performances of the
training split (never the test split), and say how it does on the validation split:

    python -m model.notate.train_meter --pieces 150 [--out model/notate/meter_weights.json]

A multinomial logistic regression over :func:`model.notate.meter.meter_features`; the weights are a few
hundred numbers in JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from model.notate.meter import SIMPLE, WEIGHTS, beat_accents, meter_features


def examples(pieces: int, split: str, seed: int = 0, log=print) -> tuple[np.ndarray, list[str]]:
    """(features, time signature) of the midi2lmx performances of ``split`` whose meter is simple."""
    from model.evaluate import test_examples
    from model.notate.quantise import TPB
    from model.notate.score import analyse
    from model.tokenizers.midi import MidiTokenizer

    tok = MidiTokenizer()
    ids = {t: i for i, t in enumerate(tok.vocab)}
    xs, ys = [], []
    for h, _ in test_examples(pieces, 3, seed, ("midi2lmx",), log, split=split):
        if h["task"] != "midi2lmx" or "time" not in h["tgt_lmx"]:
            continue
        i = h["tgt_lmx"].index("time")
        label = f"{h['tgt_lmx'][i + 1][6:]}/{h['tgt_lmx'][i + 2][10:]}"
        if label not in SIMPLE:
            continue
        a = analyse(tok.decode_window([ids[t] for t in h["src_midi"]], 10.0))
        sub = [d for d in a["divisions"].values() if d > 1]
        if len(sub) >= 2 and np.mean([d in (3, 6) for d in sub]) >= 0.6:
            continue  # read as compound: not this choice's business
        on, end, notes = a["on"], a["end"], a["notes"]
        acc = beat_accents(on, end, notes.pitch, notes.velocity, int(on.max() // TPB) + 1)
        xs.append(meter_features(on, end, acc, len(a["clefs"])))
        ys.append(label)
    return np.asarray(xs), ys


def fit(x: np.ndarray, ys: list[str], l2: float = 0.01, steps: int = 3000) -> dict:
    classes = sorted(set(ys))
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / std
    y = np.zeros((len(ys), len(classes)))
    y[np.arange(len(ys)), [classes.index(c) for c in ys]] = 1.0
    W, b = np.zeros((x.shape[1], len(classes))), np.zeros(len(classes))
    for _ in range(steps):
        logits = z @ W + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) / len(ys)
        W -= 0.5 * (z.T @ g + l2 * W)
        b -= 0.5 * g.sum(axis=0)
    return {"classes": classes, "mean": mean.tolist(), "std": std.tolist(), "W": W.tolist(), "b": b.tolist()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pieces", type=int, default=150)
    ap.add_argument("--out", default=str(WEIGHTS))
    args = ap.parse_args(argv)
    log = lambda s: print(s, file=sys.stderr)  # noqa: E731
    x, ys = examples(args.pieces, "train", log=log)
    w = fit(x, ys)
    vx, vys = examples(max(20, args.pieces // 2), "validation", log=log)
    z = (vx - np.asarray(w["mean"])) / np.asarray(w["std"])
    pred = [w["classes"][k] for k in np.argmax(z @ np.asarray(w["W"]) + np.asarray(w["b"]), axis=1)]
    acc = float(np.mean([a == b for a, b in zip(pred, vys)])) if vys else 0.0
    w["trained_on"] = f"{len(ys)} training-split performances ({args.pieces} pieces)"
    w["validation_accuracy"] = f"{acc:.1%} of {len(vys)} validation performances"
    with open(args.out, "w") as fh:
        json.dump(w, fh)
    print(w["trained_on"], "; validation:", w["validation_accuracy"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
