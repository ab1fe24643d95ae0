"""Key signature from the pitch content, and pitch spelling from the key.

The key signature is the seven-note collection (a major scale and its modes) that holds the most of the
duration-weighted pitch classes; ties between neighbouring signatures (a tune that never plays one of
the seven notes) go to the one whose major or relative minor correlates best with the
Krumhansl-Kessler key profiles. Notes are spelled on the line of fifths nearest the key's centre
(leaning to sharps, as raised leading notes in minor keys are written).
"""

from __future__ import annotations

import numpy as np

MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
STEPS = "FCGDAEB"  # the line of fifths from F (position -1) : C is 0


def pitch_class_weights(pitch: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Duration-weighted pitch-class histogram (a long note counts more, but not without bound)."""
    w = 0.2 + np.minimum(np.maximum(seconds, 0.0), 2.0)
    return np.bincount(np.asarray(pitch, dtype=np.int64) % 12, weights=w, minlength=12)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def key_signature(hist: np.ndarray) -> int:
    """Fifths of the key signature (-7..7; in practice -6..6) that fits a pitch-class histogram."""
    total = float(hist.sum())
    if total <= 0:
        return 0
    best = None
    for fifths in range(-6, 7):
        tonic = (7 * fifths) % 12  # the major key of this signature
        scale = {(tonic + s) % 12 for s in (0, 2, 4, 5, 7, 9, 11)}
        fit = sum(float(hist[p]) for p in scale) / total
        ks = max(_corr(hist, np.roll(MAJOR, tonic)), _corr(hist, np.roll(MINOR, (tonic + 9) % 12)))
        score = fit + 0.08 * ks - 0.004 * abs(fifths)
        if best is None or score > best[0]:
            best = (score, fifths)
    return best[1]


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
