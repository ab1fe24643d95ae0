"""Beats from the notes of a performance: a tempo estimate and a dynamic-programming beat tracker.

The notes are grouped into onsets (notes struck within :data:`CHORD_S` of each other); each onset
weighs by its loudness, its size (a chord) and how long it rings. An onset-strength envelope at
:data:`FRAME` s steps gives the tempo (autocorrelation, weighted by a log-normal prior around a
quarter of :data:`PRIOR_PERIOD` s, local tempo from sliding windows so a tempo curve of +-30 % is
followed) and the beats (Ellis 2007: the beat sequence that best lines up with the envelope under a
penalty for beat intervals off the local period). Beats then cover the whole performance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME = 0.01  # envelope step (s)
CHORD_S = 0.045  # notes struck this close together are one onset
PRIOR_PERIOD = 0.5  # the beat period (s) the tempo prior centres on (a quarter at 120 bpm)
PRIOR_OCTAVES = 0.6  # width of the prior, in octaves of tempo
# a beat is a whole number of the fastest regular pulse (the tatum): two or four of them far more often
# than three or six (compound time needs clear evidence)
TATUM_MULTIPLES = {1: 0.75, 2: 1.0, 3: 0.6, 4: 1.0, 6: 0.6, 8: 0.8}
MIN_PERIOD, MAX_PERIOD = 0.22, 1.6
TIGHTNESS = 60.0  # Ellis' alpha: how strongly beat intervals keep to the local period


@dataclass
class Notes:
    """A performance's pitched notes as arrays (sorted by onset, then pitch)."""

    pitch: np.ndarray
    start: np.ndarray
    end: np.ndarray
    velocity: np.ndarray
    track: np.ndarray

    def __len__(self) -> int:
        return int(self.pitch.size)

    def take(self, idx) -> Notes:
        return Notes(self.pitch[idx], self.start[idx], self.end[idx], self.velocity[idx], self.track[idx])


@dataclass
class Onsets:
    """Notes grouped into onsets: ``group[i]`` is the onset of note ``i``; ``time`` and ``weight`` per
    onset."""

    group: np.ndarray
    time: np.ndarray
    weight: np.ndarray


def group_onsets(notes: Notes) -> Onsets:
    """Notes struck within :data:`CHORD_S` of the group's first note are one onset (a chord, a spread
    hand)."""
    n = len(notes)
    group = np.zeros(n, dtype=np.int64)
    if n == 0:
        return Onsets(group, np.zeros(0), np.zeros(0))
    first, g = notes.start[0], 0
    for i in range(1, n):
        if notes.start[i] - first > CHORD_S:
            g += 1
            first = notes.start[i]
        group[i] = g
    count = g + 1
    time = np.zeros(count)
    for k in range(count):
        time[k] = float(np.median(notes.start[group == k]))
    dur = np.minimum(notes.end - notes.start, 2.0)
    loud = np.bincount(group, weights=notes.velocity / 64.0, minlength=count)
    size = np.bincount(group, minlength=count)
    ring = np.zeros(count)
    np.maximum.at(ring, group, dur)
    weight = (
        0.5 + 0.5 * np.minimum(loud, 3.0) / np.maximum(size, 1) + 0.3 * np.log1p(size) + 0.8 * np.sqrt(ring)
    )
    return Onsets(group, time, weight)


def envelope(times: np.ndarray, weights: np.ndarray, length: int) -> np.ndarray:
    """Onset-strength envelope: weighted impulses smoothed by a 20 ms Gaussian."""
    env = np.zeros(length)
    idx = np.clip(np.round(times / FRAME).astype(np.int64), 0, length - 1)
    np.add.at(env, idx, weights)
    k = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    return np.convolve(env, k / k.sum(), mode="same")


def _acf_period(
    env: np.ndarray, lo: float, hi: float, centre: float, octaves: float, tatum: bool = False
) -> tuple[float, float]:
    """Best beat period in [lo, hi] s by the envelope's autocorrelation under a log-normal prior; and its
    strength (0 when the window has no rhythm)."""
    x = env - env.mean()
    n = x.size
    a, b = max(1, int(lo / FRAME)), min(n - 1, int(hi / FRAME))
    if b <= a + 1 or not np.any(x):
        return centre, 0.0
    spec = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[:n]
    acf = acf / max(acf[0], 1e-9)
    lags = np.arange(a, b + 1)
    vals = acf[a : b + 1] * (n / (n - lags))  # unbiased
    prior = np.exp(-0.5 * (np.log2(lags * FRAME / centre) / octaves) ** 2)
    score = np.maximum(vals, 0.0) * prior
    # a period whose double and half also correlate is a real pulse: add a share of the harmonics
    for mult in (2, 3):
        h = np.clip(lags * mult, 0, n - 1)
        score = score + 0.25 * np.maximum(acf[h], 0.0) * prior
    if tatum:
        tat = _tatum(acf)
        if tat is not None:
            fit = np.zeros(lags.size)
            for mult, w in TATUM_MULTIPLES.items():
                fit = np.maximum(fit, w * np.exp(-0.5 * ((lags - mult * tat) / (0.04 * lags + 1.0)) ** 2))
            score = score * (0.2 + 0.8 * fit)
    k = int(np.argmax(score))
    best = float(lags[k])
    if 0 < k < score.size - 1:
        y0, y1, y2 = score[k - 1], score[k], score[k + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            best += 0.5 * (y0 - y2) / den
    return best * FRAME, float(max(score[k], 0.0))


def _tatum(acf: np.ndarray) -> float | None:
    """The fastest regular pulse (frames): the strongest autocorrelation peak between 70 and 350 ms, when
    it is a clear one."""
    a, b = int(0.07 / FRAME), min(acf.size - 2, int(0.35 / FRAME))
    if b <= a:
        return None
    seg = acf[a : b + 1]
    peaks = [i for i in range(1, seg.size - 1) if seg[i] >= seg[i - 1] and seg[i] >= seg[i + 1]]
    if not peaks:
        return None
    k = max(peaks, key=lambda i: seg[i])
    return float(a + k) if seg[k] > 0.25 else None


def local_periods(env: np.ndarray, period: float, window_s: float = 8.0, hop_s: float = 1.0) -> np.ndarray:
    """Period (s) at every frame: windowed autocorrelation within +-35 % of the global period, smoothed."""
    n = env.size
    win, hop = int(window_s / FRAME), int(hop_s / FRAME)
    if n <= win:
        return np.full(n, period)
    centres, vals = [], []
    for s in range(0, n - win // 2, hop):
        seg = env[max(0, s - win // 2) : s + win // 2]
        p, strength = _acf_period(seg, period / 1.35, period * 1.35, period, 0.35)
        centres.append(s)
        vals.append(p if strength > 0.05 else period)
    vals = np.asarray(vals)
    if vals.size >= 5:  # a running median, then a short mean: one odd window does not bend the tempo
        pad = np.pad(vals, 2, mode="edge")
        vals = np.median(np.stack([pad[i : i + vals.size] for i in range(5)]), axis=0)
    return np.interp(np.arange(n), np.asarray(centres), vals)


def track_beats(env: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Ellis' dynamic programme: frame indices of the beats (at least two)."""
    n = env.size
    norm = env / max(float(env.std()), 1e-9)
    score = norm.copy()
    back = np.full(n, -1, dtype=np.int64)
    for t in range(n):
        p = periods[t] / FRAME
        lo, hi = int(t - round(2.0 * p)), int(t - round(0.5 * p))
        if hi < 0:
            continue
        lo = max(lo, 0)
        prev = np.arange(lo, hi + 1)
        cost = -TIGHTNESS * np.log((t - prev) / p) ** 2
        cand = score[lo : hi + 1] + cost
        j = int(np.argmax(cand))
        if cand[j] > 0:
            score[t] = norm[t] + cand[j]
            back[t] = prev[j]
    p_end = round(float(periods[-1]) / FRAME)
    tail = max(0, n - p_end)
    t = tail + int(np.argmax(score[tail:]))
    beats = [t]
    while back[beats[-1]] >= 0:
        beats.append(int(back[beats[-1]]))
    return np.asarray(beats[::-1], dtype=np.int64)


def beat_times(notes: Notes, onsets: Onsets) -> np.ndarray:
    """Beat times (s) covering the performance: from at or before its first onset to past its last note."""
    if onsets.time.size == 0:
        return np.arange(0.0, 2.01, PRIOR_PERIOD)
    first, last = float(onsets.time.min()), float(onsets.time.max())
    t_extra = [0.0] if 0.06 < first < 2.0 else []  # the file's own start counts as a (weak) onset
    times = np.concatenate([onsets.time, t_extra])
    weights = np.concatenate([onsets.weight, [0.6] * len(t_extra)])
    length = int(last / FRAME) + int(1.0 / FRAME) + 1
    env = envelope(times, weights, length)
    if onsets.time.size < 3 or last - first < 0.3:
        period = PRIOR_PERIOD if onsets.time.size < 2 else _short_period(onsets.time)
        beats = np.array([min(first, 0.0 if t_extra else first)])
    else:
        period, _ = _acf_period(env, MIN_PERIOD, MAX_PERIOD, PRIOR_PERIOD, PRIOR_OCTAVES, tatum=True)
        periods = local_periods(env, period)
        beats = track_beats(env, periods) * FRAME
        period = float(np.median(np.diff(beats))) if beats.size > 2 else period
        beats = _on_the_start(beats, 0.0 if t_extra else first)
    return _cover(beats, period, 0.0 if t_extra else first, last)


def _on_the_start(beats: np.ndarray, origin: float) -> np.ndarray:
    """Beats moved by half a beat when the music's start falls between two of them (a tracker that
    locked onto the off-beats of even eighths): the first note, or the file's start, is on a beat."""
    if beats.size < 3:
        return beats
    p = float(beats[1] - beats[0])
    k = int(np.searchsorted(beats, origin))
    if 0 < k < beats.size:
        frac = (origin - beats[k - 1]) / (beats[k] - beats[k - 1])
    else:
        ref = beats[0] if k == 0 else beats[-1]
        frac = ((origin - ref) / p) % 1.0
    if 0.3 < frac < 0.7:
        return (beats[:-1] + beats[1:]) / 2.0
    return beats


def _short_period(times: np.ndarray) -> float:
    """A few onsets: the quarter nearest the prior that their spacing suggests."""
    ioi = float(np.median(np.diff(np.sort(times))))
    if ioi < 0.05:
        return PRIOR_PERIOD
    mult = 2.0 ** np.round(np.log2(PRIOR_PERIOD / ioi))
    return float(np.clip(ioi * mult, MIN_PERIOD, MAX_PERIOD))


def _cover(beats: np.ndarray, period: float, first: float, last: float) -> np.ndarray:
    """Extend a beat sequence at the local period to start at or before ``first`` and end a beat past
    ``last``."""
    beats = [float(b) for b in beats]
    if len(beats) == 1:
        beats.append(beats[0] + period)
    p0 = beats[1] - beats[0]
    while beats[0] > first + 0.35 * p0:
        beats.insert(0, beats[0] - p0)
    p1 = beats[-1] - beats[-2]
    while beats[-1] < last + p1:
        beats.append(beats[-1] + p1)
    return np.asarray(beats)
