"""Key signature from the pitch content, and pitch spelling from the key.

Each key signature (-6..6 fifths) is scored by a conditional logit over features read relative to its
major tonic: how much of the duration-weighted pitch content its seven notes hold (with a minor key's
raised sixth and seventh), how well its major key and relative minor correlate with the
Krumhansl-Kessler and Temperley key profiles, and on each of the 12 degrees above its tonic: the
pitch-class histogram, the bass line (lowest sounding note at each onset), the first and last bass
note, the last top note, and the roots of the major triads, minor triads and dominant sevenths that
sound; last, a prior for each signature, shifted by the texture (chords, notes sounding, note rate,
register, range). The weights (:data:`WEIGHTS`) are fitted on humanised performances of training-split
excerpts by :mod:`model.notate.train_key`. Notes are spelled on the line of fifths nearest the key's
centre (leaning to sharps, as raised leading notes in minor keys are written).
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
# pitch-class statistics of the notes, each read on the 12 degrees above a candidate signature's major tonic
DEGREE_GROUPS = (
    "pitch classes",  # duration-weighted
    "bass",  # the lowest sounding note at each onset, weighted by the time to the next onset
    "first bass",
    "last bass",
    "last top",  # the highest note of the last onset
    "major triads",  # roots of the major triads sounding at onsets
    "minor triads",
    "dominant sevenths",
)
PROFILE_FEATURES = (
    "in the scale",
    "in the scale or a raised minor step",
    "Krumhansl major",
    "Krumhansl minor",
    "Temperley major",
    "Temperley minor",
)
# the texture of the music, which changes how often each signature is used (fiddle tunes lean to sharps,
# vocal polyphony to none or one flat): each is crossed with the candidate signature
TEXTURE = ("chords", "notes sounding", "notes a second", "register", "range")
KEY_FEATURES = (
    list(PROFILE_FEATURES)
    + [f"{g} {d}" for g in DEGREE_GROUPS for d in range(12)]
    + [f"signature {f}" for f in SIGNATURES]
    + [f"signature {f} x {t}" for f in SIGNATURES for t in TEXTURE]
)
_TRIADS = {  # intervals above the root
    "major triads": (0, 4, 7),
    "minor triads": (0, 3, 7),
    "dominant sevenths": (0, 4, 10),
}


def pitch_class_weights(pitch: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Duration-weighted pitch-class histogram (a long note counts more, but not without bound)."""
    w = 0.2 + np.minimum(np.maximum(seconds, 0.0), 2.0)
    return np.bincount(np.asarray(pitch, dtype=np.int64) % 12, weights=w, minlength=12)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def _unit(v: np.ndarray) -> np.ndarray:
    s = float(v.sum())
    return v / s if s > 0 else v


def sounding(pitch: np.ndarray, seconds: np.ndarray, start: np.ndarray, chord_s: float = 0.045):
    """(onset times, 12-bit mask of the pitch classes sounding at each, lowest and highest pitch there,
    seconds to the next onset): notes struck within ``chord_s`` of an onset's first note belong to it."""
    order = np.argsort(start, kind="stable")
    p, s = pitch[order], start[order]
    e = s + np.maximum(seconds[order], 0.0)
    firsts = [0]
    for i in range(1, s.size):
        if s[i] - s[firsts[-1]] > chord_s:
            firsts.append(i)
    times = s[firsts]
    group = np.searchsorted(np.asarray(firsts), np.arange(s.size), side="right") - 1
    bits = (1 << (p % 12)).astype(np.int64)
    masks = np.zeros(times.size, dtype=np.int64)
    low = np.full(times.size, 999, dtype=np.int64)
    high = np.full(times.size, -1, dtype=np.int64)
    # notes held from an earlier onset sound too (at most 64 onsets back, beyond that a note is pedalled)
    for i in range(s.size):
        g = int(group[i])
        k = g + int(np.searchsorted(times[g:], e[i] - 0.05, side="left"))
        sl = slice(g, min(max(k, g + 1), g + 64))
        masks[sl] |= bits[i]
        low[sl] = np.minimum(low[sl], p[i])
        high[g] = max(high[g], p[i])
    nxt = np.append(times[1:], e.max())
    return times, masks, low, high, np.clip(nxt - times, 0.02, 2.0)


def degree_statistics(pitch: np.ndarray, seconds: np.ndarray, start: np.ndarray) -> dict[str, np.ndarray]:
    """The statistics of :data:`DEGREE_GROUPS`, each a 12-vector over absolute pitch classes."""
    pitch = np.asarray(pitch, dtype=np.int64)
    seconds, start = np.asarray(seconds, dtype=np.float64), np.asarray(start, dtype=np.float64)
    _, masks, low, high, wait = sounding(pitch, seconds, start)
    out = {"pitch classes": _unit(pitch_class_weights(pitch, seconds))}
    out["bass"] = _unit(np.bincount(low % 12, weights=wait, minlength=12))
    out["first bass"] = np.eye(12)[low[0] % 12]
    out["last bass"] = np.eye(12)[low[-1] % 12]
    out["last top"] = np.eye(12)[high[-1] % 12]
    roots = np.arange(12)
    for name, ivs in _TRIADS.items():
        want = np.zeros(12, dtype=np.int64)
        for iv in ivs:
            want |= 1 << ((roots + iv) % 12)
        has = (masks[:, None] & want[None, :]) == want[None, :]
        out[name] = (has * wait[:, None]).sum(axis=0) / max(float(wait.sum()), 1e-9)
    return out


def texture(pitch: np.ndarray, seconds: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The statistics of :data:`TEXTURE`: the share of onsets struck within 45 ms of the one before (chords),
    log2 of the mean number of notes sounding, log2 of notes a second, mean pitch and pitch range (octaves
    from middle C and from two octaves)."""
    s = np.sort(start)
    span = max(float(np.max(start + seconds) - s[0]), 1.0)
    chords = float(np.mean(np.diff(s) < 0.045)) if s.size > 1 else 0.0
    held = float(np.clip(seconds, 0.0, 4.0).sum()) / span
    return np.array(
        [
            chords,
            float(np.log2(max(held, 1.0))),
            float(np.log2(pitch.size / span)),
            (float(pitch.mean()) - 60.0) / 12.0,
            (float(np.ptp(pitch)) - 24.0) / 12.0,
        ]
    )


def key_features(pitch: np.ndarray, seconds: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The features (:data:`KEY_FEATURES`) of every signature of :data:`SIGNATURES`, one row each."""
    pitch = np.asarray(pitch, dtype=np.int64)
    seconds, start = np.asarray(seconds, dtype=np.float64), np.asarray(start, dtype=np.float64)
    tex = texture(pitch, seconds, start)
    hist = pitch_class_weights(pitch, seconds)
    total = max(float(hist.sum()), 1e-9)
    stats = degree_statistics(pitch, seconds, start)
    rows = []
    for fifths in SIGNATURES:
        tonic = (7 * fifths) % 12
        scale = [(tonic + s) % 12 for s in (0, 2, 4, 5, 7, 9, 11)]
        raised = [(tonic + 9 + 9) % 12, (tonic + 9 + 11) % 12]  # the relative minor's raised 6th and 7th
        inside = float(hist[scale].sum()) / total
        row = [inside, inside + float(hist[raised].sum()) / total]
        row += [_corr(hist, np.roll(MAJOR, tonic)), _corr(hist, np.roll(MINOR, (tonic + 9) % 12))]
        minor = (tonic + 9) % 12
        row += [_corr(hist, np.roll(TEMPERLEY_MAJOR, tonic)), _corr(hist, np.roll(TEMPERLEY_MINOR, minor))]
        for g in DEGREE_GROUPS:
            row += list(np.roll(stats[g], -tonic))
        onehot = [float(fifths == f) for f in SIGNATURES]
        row += onehot + [v * t for v in onehot for t in tex]
        rows.append(row)
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
