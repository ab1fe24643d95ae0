"""Meter from the quantised notes: the time signature, the note value of a tracked beat, and where the
bar lines fall, chosen together.

Every candidate (time signature, tracked beat's note value, bar-line phase) is scored over the whole
performance by what a musician hears as a bar: notes rarely sound across a bar line or across the
bar's beats, bar lines fall on onsets that are accented (chords, long notes, low bass notes, loud
notes), the last note ends on a bar line, triplet-divided beats belong to compound meters, and the
beat implies a tempo near 120 quarters a minute. A candidate's score is a weighted sum of these
features (or, where fitted so, that plus a small network over them: :class:`Scorer`); the weights
(:data:`WEIGHTS`) are fitted on humanised performances of the training split by
:mod:`model.notate.train_meter` (a conditional logit: the right candidate against all the others).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

from model.notate.quantise import TPB

WEIGHTS = Path(__file__).with_name("meter_weights.json")
# fitted on recordings of the performances, transcribed as the product hears them (notes missed or added,
# offsets where the sound fades): used for ``transcribed`` notes
WEIGHTS_HEARD = Path(__file__).with_name("meter_weights_heard.json")
# time signature: (numerator, denominator, quarters a bar, quarters a beat of the bar)
LABELS = {
    "2/4": (2, 4, 2.0, 1.0),
    "3/4": (3, 4, 3.0, 1.0),
    "4/4": (4, 4, 4.0, 1.0),
    "2/2": (2, 2, 4.0, 2.0),
    "3/2": (3, 2, 6.0, 2.0),
    "4/2": (4, 2, 8.0, 2.0),
    "3/8": (3, 8, 1.5, 1.5),
    "6/8": (6, 8, 3.0, 1.5),
    "9/8": (9, 8, 4.5, 1.5),
    "12/8": (12, 8, 6.0, 1.5),
}
BEAT_VALUES = (0.5, 1.0, 1.5, 2.0)  # quarters a tracked beat may be
QUARTER_S = (0.2, 1.6)  # the range of quarter-note durations (s) a candidate may imply
FEATURES = (
    [f"label {k}" for k in LABELS]
    + [f"beat {b}" for b in BEAT_VALUES]
    + [
        "tempo off 120",
        "triplets in a compound beat",
        "triplets in a simple beat",
        "pickup",
        "notes across bar lines",
        "notes across beats",
        "bar lines on onsets",
        "downbeat accent",
        "ends on a bar line",
        "end off the bar line",
        "end within a beat of the bar line",
        "long notes on bar lines",
        "long notes on beats",
        "bass notes on bar lines",
        "short notes",
        "long notes x half-note beat",
        "long notes x eighth-note beat",
        "bars",
    ]
    + [f"{k} x {f}" for k in LABELS for f in ("note length", "short notes", "chords", "bars")]
)


@dataclass
class Meter:
    numerator: int
    denominator: int
    beat_ql: Fraction  # quarter lengths of one tracked beat
    bar_ticks: int
    pickup_ticks: int  # ticks before the first bar line (0: the music starts on a downbeat)

    @property
    def label(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    @property
    def pickup_beats(self) -> float:
        return round(self.pickup_ticks / TPB, 3)


@dataclass
class Candidate:
    label: str
    beat_ql: float
    bar_ticks: int
    phase: int


def onset_accents(on: np.ndarray, end: np.ndarray, pitch: np.ndarray, velocity: np.ndarray):
    """(onset ticks, accent of each): how many notes start there, how long the longest rings, whether a
    low bass note starts there, how loud they are."""
    starts, inv = np.unique(on, return_inverse=True)
    low = np.percentile(pitch, 25) if pitch.size else 0
    vz = (velocity - velocity.mean()) / max(float(velocity.std()), 1.0) if velocity.size else velocity
    size = np.bincount(inv, minlength=starts.size)
    longest = np.zeros(starts.size)
    np.maximum.at(longest, inv, (end - on) / TPB)
    bass = np.zeros(starts.size)
    np.maximum.at(bass, inv, (pitch <= low).astype(np.float64))
    loud = np.bincount(inv, weights=vz, minlength=starts.size) / np.maximum(size, 1)
    acc = 0.3 * np.log1p(size) + 0.8 * np.log1p(longest) + 0.5 * bass + 0.2 * loud
    return starts, acc


def candidates(period_s: float, compound: bool = False) -> list[Candidate]:
    """Every (time signature, beat value, phase) whose beat implies a plausible tempo; phases in eighths."""
    out = []
    for b in BEAT_VALUES:
        if not QUARTER_S[0] <= period_s / b <= QUARTER_S[1]:
            continue
        step = 0.5 / b * TPB
        for label, (_, _, bar_q, _) in LABELS.items():
            bar = bar_q / b * TPB
            if bar != int(bar) or step != int(step):
                continue
            for ph in range(0, int(bar), int(step)):
                out.append(Candidate(label, b, int(bar), ph))
    return out


def _crossing(on: np.ndarray, end: np.ndarray, phase: int, unit: int) -> np.ndarray:
    """Whether each note sounds across a line of the grid ``phase + k * unit``."""
    nxt = phase + (np.floor((on - phase) / unit) + 1) * unit
    return end > nxt


def candidate_features(
    c: Candidate, on, end, pitch, starts, acc, divisions: dict, period_s: float, last_end: int,
    ring: bool = False,
) -> np.ndarray:
    """The feature vector (:data:`FEATURES`) of one candidate. ``ring``: the last notes may sound up to a
    beat past their written end (a transcription hears a final chord ring on), so the music ends on a
    bar line when one lies within the beat before its last sound."""
    _, _, bar_q, beat_q = LABELS[c.label]
    b = c.beat_ql
    unit = int(round(beat_q / b * TPB))
    across_bar = _crossing(on, end, c.phase, c.bar_ticks)
    across_beat = _crossing(on, end, c.phase, unit) & ~across_bar
    down = (starts - c.phase) % c.bar_ticks == 0
    beat = ((starts - c.phase) % unit == 0) & ~down
    contrast = (float(acc[down].mean()) if down.any() else 0.0) - (
        float(acc[beat].mean()) if beat.any() else float(acc.mean())
    )
    first_bar = c.phase + int(np.ceil((starts[0] - c.phase) / c.bar_ticks)) * c.bar_ticks
    lines = np.arange(first_bar, starts[-1] + 1, c.bar_ticks)
    on_lines = float(np.isin(lines, starts).mean()) if lines.size else 0.0
    if ring:
        line = c.phase + np.floor((last_end - c.phase) / c.bar_ticks) * c.bar_ticks
        if last_end - unit <= line and line > int(on.max()):
            last_end = int(line)
    r = (last_end - c.phase) % c.bar_ticks
    long = (end - on) >= np.percentile(end - on, 85)
    bass = pitch <= np.percentile(pitch, 15)
    long_down = float(np.mean((on[long] - c.phase) % c.bar_ticks == 0))
    long_beat = float(np.mean((on[long] - c.phase) % unit == 0))
    sub = [d for d in divisions.values() if d > 1]
    trip = float(np.mean([d in (3, 6) for d in sub])) if sub else 0.0
    dur_q = (end - on) / TPB * b
    med = float(np.log2(max(np.median(dur_q), 1e-3)))
    onehot_l = [float(c.label == k) for k in LABELS]
    short = float(np.mean(dur_q < 0.5))
    chords = float(np.log2(on.size / starts.size))
    bars = float(np.log2(1.0 + min((starts[-1] - starts[0]) / c.bar_ticks, 8.0)))  # as in excerpts
    onehot_b = [float(b == v) for v in BEAT_VALUES]
    return np.array(
        onehot_l
        + onehot_b
        + [
            float(np.log2(period_s / b / 0.5)) ** 2,
            trip * float(beat_q == 1.5 and b == 1.5),
            trip * float(beat_q != 1.5),
            float(c.phase > 0),
            float(across_bar.mean()),
            float(across_beat.mean()),
            on_lines,
            contrast,
            float(r == 0),
            min(r, c.bar_ticks - r) / c.bar_ticks,
            float(min(r, c.bar_ticks - r) <= unit // 2),
            long_down,
            long_beat,
            float(np.mean((on[bass] - c.phase) % c.bar_ticks == 0)) if bass.any() else 0.0,
            float(np.mean(dur_q < 0.25)),
            med * float(beat_q == 2.0),
            med * float(beat_q == 1.5),
            bars,
        ]
        + [v * f for v in onehot_l for f in (med, short, chords, bars)]
    )


def all_features(on, end, pitch, velocity, divisions: dict, period_s: float, ring: bool = False):
    """(candidates, feature matrix) of quantised notes (``ring``: see :func:`candidate_features`)."""
    starts, acc = onset_accents(on, end, pitch, velocity)
    cands = candidates(period_s) or [Candidate("4/4", 1.0, 4 * TPB, 0)]
    last_end = int(end.max())
    x = np.stack(
        [
            candidate_features(c, on, end, pitch, starts, acc, divisions, period_s, last_end, ring)
            for c in cands
        ]
    )
    return cands, x


def gelu(x: np.ndarray) -> np.ndarray:
    """The tanh form of GELU (as ``torch.nn.GELU(approximate="tanh")``, which the scorer is trained with)."""
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


class Scorer:
    """A candidate's score from its features: a linear map (``w``), plus, when fitted (``mlp``), a small
    network over the standardised features: one hidden layer of GELU units (see
    :func:`model.notate.train_meter.fit_mlp`)."""

    def __init__(self, fitted: dict):
        self.w = np.asarray(fitted["w"], dtype=np.float64) if "w" in fitted else None
        m = fitted.get("mlp")
        self.mlp = {k: np.asarray(v, dtype=np.float64) for k, v in m.items()} if m else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.mlp is None:
            return x @ self.w
        m = self.mlp
        z = (x - m["mean"]) / m["scale"]
        return gelu(z @ m["w1"] + m["b1"]) @ m["w2"] + z @ m["lin"] + float(m["bias"])


@lru_cache(maxsize=2)
def _scorer(heard: bool = False) -> Scorer | None:
    path = WEIGHTS_HEARD if heard else WEIGHTS
    if not path.exists():
        return _scorer() if heard else None
    fitted = json.loads(path.read_text())
    if fitted.get("features") != FEATURES:
        return None
    return Scorer(fitted)


# before the weights are fitted (and as a fallback): bar lines where notes do not cross them
DEFAULT = dict.fromkeys(FEATURES, 0.0) | {
    "tempo off 120": -4.0,
    "pickup": -1.0,
    "notes across bar lines": -8.0,
    "notes across beats": -3.0,
    "bar lines on onsets": 2.0,
    "downbeat accent": 1.5,
    "ends on a bar line": 1.0,
    "triplets in a compound beat": 3.0,
    "triplets in a simple beat": -3.0,
    "label 4/4": 0.5,
}


def choose_meter(
    on: np.ndarray,
    end: np.ndarray,
    pitch: np.ndarray,
    velocity: np.ndarray,
    divisions: dict[int, int],
    period_s: float = 0.5,
    transcribed: bool = False,
) -> Meter:
    """The time signature, beat value and pickup of quantised notes (ticks from the first beat);
    ``transcribed``: the notes were heard in a recording (whose last chord rings past its written end, whose
    note lengths are where the sound faded): weighed by :data:`WEIGHTS_HEARD`."""
    if on.size == 0:
        return Meter(4, 4, Fraction(1), 4 * TPB, 0)
    cands, x = all_features(on, end, pitch, velocity, divisions, period_s, ring=transcribed)
    score = _scorer(transcribed) or Scorer({"w": [DEFAULT[f] for f in FEATURES]})
    best = cands[int(np.argmax(score(x)))]
    num, den, _, _ = LABELS[best.label]
    return Meter(num, den, Fraction(best.beat_ql).limit_denominator(8), best.bar_ticks, best.phase)
