"""Key signature from the pitch content, and pitch spelling from the key.

Each key signature (-6..6 fifths) is scored by how much of the duration-weighted pitch content its
seven notes hold (with a minor key's raised sixth and seventh), how well its major key and relative
minor correlate with the Krumhansl-Kessler and Temperley key profiles, and whether the bass dwells on,
starts or ends on a tonic of the signature (major, minor or a church mode's final); the weights
(:data:`WEIGHTS`) are fitted on humanised performances of the training split by
:mod:`model.notate.train_meter`. Notes are spelled on the line of fifths nearest the key's centre
(leaning to sharps, as raised leading notes in minor keys are written).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
TEMPERLEY_MAJOR = np.array([5, 2, 3.5, 2, 4.5, 4, 2, 4.5, 2, 3.5, 1.5, 4])
TEMPERLEY_MINOR = np.array([5, 2, 3.5, 4.5, 2, 4, 2, 4.5, 3.5, 2, 1.5, 4])
STEPS = "FCGDAEB"  # the line of fifths from F (position -1) : C is 0
WEIGHTS = Path(__file__).with_name("key_weights.json")
SIGNATURES = tuple(range(-6, 7))
# finals of the signature's modes: semitones above its major tonic
FINALS = {"major": 0, "minor": 9, "dorian": 2, "mixolydian": 7, "phrygian": 4}
KEY_FEATURES = (
    ["in the scale", "in the scale or a raised minor step", "Krumhansl major", "Krumhansl minor"]
    + ["Temperley major", "Temperley minor"]
    + [f"bass on the {m} final" for m in FINALS]
    + [f"last bass on the {m} final" for m in FINALS]
    + [f"first bass on the {m} final" for m in FINALS]
    + [f"signature {f}" for f in SIGNATURES]
)


def pitch_class_weights(pitch: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Duration-weighted pitch-class histogram (a long note counts more, but not without bound)."""
    w = 0.2 + np.minimum(np.maximum(seconds, 0.0), 2.0)
    return np.bincount(np.asarray(pitch, dtype=np.int64) % 12, weights=w, minlength=12)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def key_features(pitch: np.ndarray, seconds: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The features (:data:`KEY_FEATURES`) of every signature of :data:`SIGNATURES`, one row each."""
    pitch = np.asarray(pitch, dtype=np.int64)
    hist = pitch_class_weights(pitch, seconds)
    total = max(float(hist.sum()), 1e-9)
    low = pitch <= np.percentile(pitch, 25)
    bass = np.bincount(pitch[low] % 12, weights=0.2 + np.minimum(seconds[low], 2.0), minlength=12)
    bass = bass / max(float(bass.sum()), 1e-9)
    last_t, first_t = float(start.max()), float(start.min())
    last_pc = int(pitch[start >= last_t - 0.05].min()) % 12
    first_pc = int(pitch[start <= first_t + 0.05].min()) % 12
    rows = []
    for fifths in SIGNATURES:
        tonic = (7 * fifths) % 12
        scale = [(tonic + s) % 12 for s in (0, 2, 4, 5, 7, 9, 11)]
        raised = [(tonic + 9 + 9) % 12, (tonic + 9 + 11) % 12]  # the relative minor's raised 6th and 7th
        inside = float(hist[scale].sum()) / total
        finals = [(tonic + f) % 12 for f in FINALS.values()]
        rows.append(
            [inside, inside + float(hist[raised].sum()) / total]
            + [_corr(hist, np.roll(MAJOR, tonic)), _corr(hist, np.roll(MINOR, (tonic + 9) % 12))]
            + [
                _corr(hist, np.roll(TEMPERLEY_MAJOR, tonic)),
                _corr(hist, np.roll(TEMPERLEY_MINOR, (tonic + 9) % 12)),
            ]
            + [float(bass[f]) for f in finals]
            + [float(last_pc == f) for f in finals]
            + [float(first_pc == f) for f in finals]
            + [float(fifths == f) for f in SIGNATURES]
        )
    return np.asarray(rows)


@lru_cache(maxsize=1)
def _weights() -> np.ndarray | None:
    if not WEIGHTS.exists():
        return None
    w = json.loads(WEIGHTS.read_text())
    return np.asarray(w["w"], dtype=np.float64) if w.get("features") == list(KEY_FEATURES) else None


def key_signature(pitch: np.ndarray, seconds: np.ndarray, start: np.ndarray) -> int:
    """Fifths of the key signature (-6..6) of notes (MIDI pitches, held seconds, onset seconds)."""
    if np.asarray(pitch).size == 0:
        return 0
    x = key_features(pitch, seconds, start)
    w = _weights()
    if w is None:  # the scale that holds the most, then the profiles, then the fewest accidentals
        w = np.zeros(len(KEY_FEATURES))
        w[0], w[2], w[3] = 1.0, 0.04, 0.04
        w[-len(SIGNATURES) :] = -0.004 * np.abs(np.asarray(SIGNATURES))
    return SIGNATURES[int(np.argmax(x @ w))]


def spell(pitch: int, fifths: int) -> tuple[str, int, int]:
    """(step, alter, octave) of a MIDI pitch in a key of ``fifths``: the spelling on the line of fifths
    nearest
    the key's centre."""
    pc = pitch % 12
    centre = fifths + 2.5
    best = None
    for pos in range(-15, 20):
        if (7 * pos) % 12 != pc:
            continue
        d = abs(pos - centre)
        if best is None or d < best[0]:
            best = (d, pos)
    pos = best[1]
    step = STEPS[(pos + 1) % 7]
    alter = (pos + 1) // 7
    natural_pc = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[step]
    octave = (pitch - natural_pc - alter) // 12 - 1
    return step, alter, octave
