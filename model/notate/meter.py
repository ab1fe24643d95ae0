"""Meter from the quantised onsets: simple or compound beats, beats to the bar, the pickup.

Every beat gets an accent from what starts on it (a chord, a long note, a bass note, a loud note, a
change of harmony). Bars of two or three beats are chosen by how much stronger their first beats are
than the rest; two-beat bars become four-beat ones when every other bar line is clearly stronger still.
Beats divided in three throughout make a compound meter (6/8, 9/8, 12/8); music of long notes is
written with half-note beats (2/2, 3/2, 4/2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

from model.notate.quantise import TPB

WEIGHTS = Path(__file__).with_name("meter_weights.json")  # the learned simple-meter choice (train_meter)
SIMPLE = {"2/4": 2, "3/4": 3, "4/4": 4, "2/2": 4, "3/2": 6, "4/2": 8}  # time signature: quarter beats a bar
PICKUP_COST = 0.06
CLEAR = 0.25  # accent contrast by which duple or triple bars are clear without the learned choice
THREE_MARGIN = 0.05  # triple bars need this much more contrast than duple ones
FOUR_MARGIN = 0.25  # the first of each pair of duple bars stronger by this much: four-beat bars


@dataclass
class Meter:
    numerator: int
    denominator: int
    beat_ql: Fraction  # quarter lengths of one tracked beat (1, or 3/2 in compound meters)
    bar_beats: int  # tracked beats to a bar
    pickup_beats: int  # beats before the first bar line (0: the music starts on a downbeat)

    @property
    def bar_ticks(self) -> int:
        return self.bar_beats * TPB

    @property
    def pickup_ticks(self) -> int:
        return self.pickup_beats * TPB

    @property
    def label(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def beat_accents(
    on: np.ndarray, end: np.ndarray, pitch: np.ndarray, velocity: np.ndarray, n_beats: int
) -> np.ndarray:
    """Accent of each beat from the notes that start exactly on it."""
    acc = np.zeros(n_beats)
    if on.size == 0:
        return acc
    low = np.percentile(pitch, 25)
    vz = (velocity - velocity.mean()) / max(float(velocity.std()), 1.0)
    prev_pcs: frozenset = frozenset()
    for b in range(n_beats):
        sel = on == b * TPB
        if not np.any(sel):
            continue
        dur = (end[sel] - on[sel]) / TPB
        pcs = frozenset(int(p) % 12 for p in pitch[sel])
        acc[b] = (
            1.0
            + 0.3 * np.log1p(sel.sum())
            + 0.8 * np.log1p(float(dur.max()))
            + 0.5 * float(pitch[sel].min() <= low)
            + 0.2 * float(vz[sel].mean())
            + 0.3 * float(bool(prev_pcs) and pcs != prev_pcs)
        )
        prev_pcs = pcs
    return acc


def _contrast(acc: np.ndarray, period: int, phase: int) -> float:
    idx = np.arange(acc.size)
    down = (idx - phase) % period == 0
    if down.all() or not down.any():
        return 0.0
    return float(acc[down].mean() - acc[~down].mean()) - (PICKUP_COST if phase else 0.0)


def _best_phase(acc: np.ndarray, period: int) -> tuple[float, int]:
    return max((_contrast(acc, period, ph), ph) for ph in range(period))


def meter_features(on: np.ndarray, end: np.ndarray, acc: np.ndarray, n_staves: int) -> np.ndarray:
    """What the learned meter choice looks at: bar-line contrasts for bars of 2, 3, 4, 6 and 8 beats, how
    long notes and gaps between onsets are, how finely beats are divided, chords, length, staves."""
    starts = np.unique(on)
    ioi = np.diff(starts) / TPB if starts.size > 1 else np.array([(end.max() - on.min()) / TPB])
    dur = (end - on) / TPB
    pos = starts % TPB
    contrasts = [_best_phase(acc, L)[0] if acc.size > L else 0.0 for L in (2, 3, 4, 6, 8)]
    return np.array(
        contrasts
        + [
            float(np.log2(np.median(ioi) + 1e-3)),
            float(np.log2(np.median(dur) + 1e-3)),
            float(np.log2(np.mean(dur) + 1e-3)),
            float(np.mean(pos == 0)),
            float(np.mean(pos % 12 != 0)),
            float(np.mean(pos % 6 != 0)),
            float(on.size / max(starts.size, 1)),
            float(np.log2(acc.size + 1)),
            float(n_staves >= 2),
            float(np.mean(dur >= 2)),
            float(np.mean(dur >= 4)),
        ]
    )


@lru_cache(maxsize=1)
def _weights():
    if not WEIGHTS.exists():
        return None
    w = json.loads(WEIGHTS.read_text())
    return w["classes"], np.asarray(w["mean"]), np.asarray(w["std"]), np.asarray(w["W"]), np.asarray(w["b"])


def learned_simple_meter(features: np.ndarray, allowed: tuple = tuple(SIMPLE)) -> str | None:
    """The simple time signature (among ``allowed``) the learned choice gives, or None without weights."""
    w = _weights()
    if w is None:
        return None
    classes, mean, std, W, b = w
    logits = ((features - mean) / std) @ W + b
    ok = [k for k, c in enumerate(classes) if c in allowed]
    return classes[max(ok, key=lambda k: logits[k])] if ok else None


def choose_meter(
    on: np.ndarray,
    end: np.ndarray,
    pitch: np.ndarray,
    velocity: np.ndarray,
    divisions: dict[int, int],
    n_staves: int = 1,
) -> Meter:
    """The time signature and pickup of quantised notes (ticks from the first beat)."""
    n_beats = int(on.max() // TPB) + 1 if on.size else 1
    acc = beat_accents(on, end, pitch, velocity, n_beats)
    sub = [d for d in divisions.values() if d > 1]
    compound = len(sub) >= 2 and np.mean([d in (3, 6) for d in sub]) >= 0.6
    ioi = np.diff(np.unique(on)) / TPB if np.unique(on).size > 1 else np.array([(end.max() - on.min()) / TPB])
    long_notes = not compound and float(np.median(ioi)) >= 1.0 and float(np.median((end - on) / TPB)) >= 1.5
    if not compound:
        # clear accents decide duple or triple bars; the learned choice picks the signature within them
        c2, c3 = _best_phase(acc, 2)[0], _best_phase(acc, 3)[0]
        allowed = tuple(SIMPLE)
        if n_beats >= 6 and abs(c3 - c2) > CLEAR:
            allowed = ("3/4", "3/2") if c3 > c2 else ("2/4", "4/4", "2/2", "4/2")
        label = learned_simple_meter(meter_features(on, end, acc, n_staves), allowed)
        if label is not None:
            num, den = (int(x) for x in label.split("/"))
            bar = SIMPLE[label]
            return Meter(num, den, Fraction(1), bar, _best_phase(acc, bar)[1] if acc.size > bar else 0)
    c2, p2 = _best_phase(acc, 2)
    c3, p3 = _best_phase(acc, 3)
    if n_beats < 3:
        bar, phase = (1 if compound else 2), 0
    elif c3 > c2 + THREE_MARGIN:
        bar, phase = 3, p3
    else:
        bar, phase = 2, p2
        if n_beats >= 6 and not long_notes:
            c4a, c4b = _contrast(acc, 4, p2), _contrast(acc, 4, p2 + 2)
            if max(c4a, c4b) > c2 + FOUR_MARGIN:
                bar, phase = 4, (p2 if c4a >= c4b else p2 + 2)
    if compound:
        num = {1: 3, 2: 6, 3: 9, 4: 12}[bar]
        return Meter(num, 8, Fraction(3, 2), bar, phase)
    if long_notes:  # half-note beats: 2/2, 3/2 or 4/2
        if bar == 3:
            return Meter(3, 2, Fraction(1), 6, phase)
        halves, phase = 2, phase % 4
        if n_beats >= 12:
            c8, p8 = max((_contrast(acc, 8, ph), ph) for ph in range(phase, 8, 4))
            if c8 > _contrast(acc, 4, phase) + FOUR_MARGIN:
                halves, phase = 4, p8
        return Meter(halves, 2, Fraction(1), 2 * halves, phase)
    return Meter(bar, 4, Fraction(1), bar, phase)
