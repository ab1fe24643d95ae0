"""Fit the key-signature choice of :mod:`model.notate.key` on humanised performances of the training split
(never the test split), and say how it does on the validation split:

    python -m model.notate.train_key --pieces 1150 --excerpts 8 [--out model/notate/key_weights.json]

Each training piece gives up to ``--excerpts`` excerpts of 1 to 8 measures, each played once by the
training humanisation (:mod:`model.data.humanize`), as the evaluation's performances are made. The label
is the excerpt's printed key signature (a major key and its relative minor share it, so the signature,
not the key, is predicted). A conditional logit (:func:`model.notate.train_meter.fit`) weighs the
features of :data:`model.notate.key.KEY_FEATURES` of the written signature against those of the other
twelve; the weights are a few hundred numbers in JSON.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from model.notate.key import KEY_FEATURES, SIGNATURES, key_features
from model.notate.key import WEIGHTS as KEY_WEIGHTS


def key_examples(items: list) -> list[tuple[np.ndarray, int]]:
    """(feature matrix of the signatures, index of the written one) of (performance, written LMX) pairs."""
    out = []
    for pm, lmx in items:
        notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
        written = next((t for t in lmx if t.startswith("key:fifths:")), "key:fifths:0")
        fifths = int(written.split(":")[-1])
        if not notes or fifths not in SIGNATURES:
            continue
        pitch = np.array([n.pitch for n in notes])
        start = np.array([n.start for n in notes])
        held = np.array([n.end - n.start for n in notes])
        out.append((key_features(pitch, held, start), SIGNATURES.index(fifths)))
    return out


def main(argv=None) -> int:
    from model.notate.train_meter import _save, excerpt_performances, fit, performances

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pieces", type=int, default=1150)
    ap.add_argument("--excerpts", type=int, default=8)
    ap.add_argument("--validation-pieces", type=int, default=303, help="the evaluation's own excerpts")
    ap.add_argument("--l2", type=float, default=0.003)
    ap.add_argument("--out", default=str(KEY_WEIGHTS))
    args = ap.parse_args(argv)

    def log(s):
        print(s, file=sys.stderr)

    train = key_examples(excerpt_performances("train", args.pieces, args.excerpts, log=log))
    val = key_examples(performances(args.validation_pieces, "validation", log=log))
    _save(args.out, KEY_FEATURES, fit(train, l2=args.l2), train, val, args.pieces)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
