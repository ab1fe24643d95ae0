"""Notes into voices: the lines of polyphonic music (a chorale's soprano, alto, tenor and bass; a motet's
parts) followed through the piece.

:func:`count_voices` says how many lines the music has: the most notes that sound at once, when that is
what the music keeps to (a stray fifth note does not make a fifth voice). :func:`separate` gives every
note one of ``k`` voices, numbered from the top: at each onset the notes struck go, in pitch order, to
the voices that are free, choosing the voices whose last note and usual register are nearest; a voice
still sounding is taken only when no other is free, and voices do not cross a note still held in
another. Notes struck together beyond ``k`` join the nearest voice as a chord.
"""

from __future__ import annotations

import itertools

import numpy as np

MAX_VOICES = 4
LEAP = 1.0  # cost per semitone from the voice's last note
REGISTER = 0.35  # cost per semitone from the voice's usual register
BUSY = 30.0  # taking a voice whose note still sounds
CROSS = 12.0  # a note above a higher voice's held note, or below a lower one's
FRESH = 6.0  # cost per semitone (of the lowest and highest notes' gap) of a voice that has not yet sounded


def sounding_counts(on: np.ndarray, end: np.ndarray, slack: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(onset ticks, how many notes sound at each): notes struck there or held past it by more than
    ``slack``."""
    starts = np.unique(on)
    counts = np.array([int(np.sum((on <= t) & (end > t + slack))) for t in starts], dtype=np.int64)
    return starts, counts


def count_voices(on: np.ndarray, end: np.ndarray, slack: int = 0) -> int:
    """How many lines the notes make: the most that sound at once, unless that happens only at a few
    onsets (an overlap left by legato playing, an ornament)."""
    if on.size == 0:
        return 0
    _, counts = sounding_counts(on, end, slack)
    top = int(counts.max())
    while top > 1 and np.sum(counts >= top) < max(2, 0.03 * counts.size):
        top -= 1
    return top


def _registers(pitch: np.ndarray, on: np.ndarray, end: np.ndarray, k: int) -> np.ndarray:
    """Each voice's usual pitch: from the onsets where ``k`` notes sound (sorted high to low), else from
    the quantiles of all the notes."""
    rows = []
    for t in np.unique(on):
        sel = (on <= t) & (end > t)
        if int(sel.sum()) == k:
            rows.append(np.sort(pitch[sel])[::-1])
    if len(rows) >= 2:
        return np.median(np.asarray(rows, dtype=np.float64), axis=0)
    qs = (np.arange(k) + 0.5) / k
    return np.quantile(pitch.astype(np.float64), 1.0 - qs)


def _cost(ps, vs, t, last, held_pitch, held_until, reg) -> float:
    cost = 0.0
    for p, v in zip(ps, vs):
        if last[v] is None:
            cost += REGISTER * abs(p - reg[v]) + FRESH * 0.1
        else:
            cost += LEAP * abs(p - last[v]) + REGISTER * abs(p - reg[v])
        if held_until[v] > t:
            cost += BUSY
    chosen = set(vs)
    for u in range(len(last)):
        if u in chosen or held_until[u] <= t or held_pitch[u] is None:
            continue
        for p, v in zip(ps, vs):
            if (v > u and p > held_pitch[u]) or (v < u and p < held_pitch[u]):
                cost += CROSS
    return cost


def separate(pitch: np.ndarray, on: np.ndarray, end: np.ndarray, k: int) -> np.ndarray:
    """Voice (0 top .. ``k``-1 bottom) of every note."""
    voice = np.zeros(on.size, dtype=np.int64)
    if on.size == 0 or k <= 1:
        return voice
    reg = _registers(pitch, on, end, k)
    last: list = [None] * k
    held_pitch: list = [None] * k
    held_until = [-(10**9)] * k
    for t in np.unique(on):
        idx = np.nonzero(on == t)[0]
        idx = idx[np.argsort(-pitch[idx], kind="stable")]
        ps = [int(p) for p in pitch[idx]]
        if len(ps) > k:  # more notes than voices: the outer voices take the top and bottom, chords within
            vs = _spread(ps, k, reg)
        else:
            vs = min(
                itertools.combinations(range(k), len(ps)),
                key=lambda c: _cost(ps, c, t, last, held_pitch, held_until, reg),
            )
        for i, v in zip(idx, vs):
            voice[i] = v
        for v in set(vs):
            mine = [i for i, w in zip(idx, vs) if w == v]
            last[v] = int(pitch[mine].min()) if v > 0 else int(pitch[mine].max())
            held_pitch[v] = last[v]
            held_until[v] = int(end[mine].max())
    return voice


def _spread(ps: list, k: int, reg: np.ndarray) -> list:
    """Voices of more notes than voices (high to low): top and bottom notes to the outer voices, each
    inner note to the voice of nearest register, never out of order."""
    out = [0] * len(ps)
    out[-1] = k - 1
    for j in range(1, len(ps) - 1):
        near = int(np.argmin(np.abs(reg - ps[j])))
        out[j] = min(max(near, out[j - 1]), k - 1)
    return out
