"""Onsets and note ends onto the beat grid: each beat divided in two, four, eight (duple) or three, six
(triplet), whichever fits its onsets best for the least complexity.

Positions are in ticks, :data:`TPB` to a beat, so every division is exact.
"""

from __future__ import annotations

import numpy as np

from model.notate.beats import Notes, Onsets

TPB = 24  # ticks per beat: divisible by 2, 3, 4, 6 and 8
DIVISIONS = (1, 2, 4, 3, 8, 6)
PENALTY = {1: 0.0, 2: 1.0, 4: 3.0, 3: 6.0, 8: 9.0, 6: 10.0}  # in units of a squared SIGMA
SIGMA = 0.05  # expected timing error (beats) after beat tracking
MERGE_COST = 6.0  # two onsets snapped to one grid point


def beat_positions(times: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Seconds -> beats (fractional), linear between the beats and at the edge periods beyond them."""
    idx = np.arange(beats.size, dtype=np.float64)
    pos = np.interp(times, beats, idx)
    lo, hi = times < beats[0], times > beats[-1]
    pos[lo] = (times[lo] - beats[0]) / (beats[1] - beats[0])
    pos[hi] = idx[-1] + (times[hi] - beats[-1]) / (beats[-1] - beats[-2])
    return pos


def choose_divisions(pos: np.ndarray) -> tuple[np.ndarray, dict[int, int]]:
    """Quantised tick of every onset position and the division chosen for each beat that has onsets."""
    if pos.size == 0:
        return np.zeros(0, dtype=np.int64), {}
    home = np.floor(pos + 1.0 / 16).astype(np.int64)  # a hair before a beat belongs to it
    frac = pos - home
    ticks = np.zeros(pos.size, dtype=np.int64)
    chosen: dict[int, int] = {}
    for b in np.unique(home):
        sel = np.nonzero(home == b)[0]
        f = frac[sel]
        best = None
        for d in DIVISIONS:
            snap = np.round(f * d) / d
            err = float(np.sum(((f - snap) / SIGMA) ** 2))
            merged = sel.size - np.unique(snap).size
            cost = err + PENALTY[d] + MERGE_COST * merged
            if best is None or cost < best[0]:
                best = (cost, d, snap)
        _, d, snap = best
        chosen[int(b)] = d
        ticks[sel] = b * TPB + np.round(snap * TPB).astype(np.int64)
    return ticks, chosen


def quantise_ends(end_pos: np.ndarray, onset_ticks: np.ndarray, chosen: dict[int, int]) -> np.ndarray:
    """Note ends on the grid of the beat they fall in (at least halves), and at least one step after the
    onset."""
    out = np.zeros(end_pos.size, dtype=np.int64)
    for i, p in enumerate(end_pos):
        b = int(np.floor(p + 1.0 / 16))
        d = max(2, chosen.get(b, 2))
        d = d if d in (2, 4, 8, 3, 6) else 2
        t = round((b + round(float(p - b) * d) / d) * TPB)
        od = chosen.get(int(onset_ticks[i] // TPB), 4)
        step = TPB // max(2, od)
        out[i] = max(t, int(onset_ticks[i]) + step)
    return out


def quantise(
    notes: Notes, onsets: Onsets, beats: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """(onset ticks, raw end ticks, divisions) of every note; chord notes share their onset's tick."""
    pos = beat_positions(onsets.time, beats)
    group_ticks, chosen = choose_divisions(pos)
    on = group_ticks[onsets.group] if len(notes) else np.zeros(0, dtype=np.int64)
    shift = 0
    if on.size and on.min() < 0:  # the first onset before the first beat: start the count a beat earlier
        shift = int(-(on.min() // TPB)) * TPB
        on = on + shift
        chosen = {b + shift // TPB: d for b, d in chosen.items()}
    end_pos = beat_positions(notes.end, beats) + shift / TPB
    ends = quantise_ends(end_pos, on, chosen) if len(notes) else np.zeros(0, dtype=np.int64)
    return on, ends, chosen


def legato_ends(on: np.ndarray, end: np.ndarray, voice_key: np.ndarray) -> np.ndarray:
    """Written ends within each voice: a note released shortly before the voice's next onset (a detached
    or staccato note) is written up to that onset; the next onset always cuts a note off."""
    out = end.copy()
    for v in np.unique(voice_key):
        idx = np.nonzero(voice_key == v)[0]
        starts = np.unique(on[idx])
        nxt = np.searchsorted(starts, on[idx], side="right")
        for j, i in enumerate(idx):
            if nxt[j] >= starts.size:
                continue
            n_on = int(starts[nxt[j]])
            ioi = n_on - int(on[i])
            if out[i] >= n_on or n_on - out[i] <= max(TPB // 4, ioi // 2):
                out[i] = n_on
    return out
