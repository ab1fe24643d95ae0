"""Dynamics as people play: new velocities (15-127) for a performance, shaped by phrase, voice and accent.

:func:`dynamics` returns a copy of a performance (``pretty_midi.PrettyMIDI``, usually from
:func:`model.data.humanize.humanize`, whose timing and pedal it keeps) with every pitched note's velocity
drawn again:

* a level for the excerpt, from pp to ff (velocity 25-110), that moves in terraces: each phrase (2-6 s)
  may step 8-30 up or down (subito piano, a forte entry);
* a phrase shape: a swell (crescendo to a peak 30-80 % of the way, then diminuendo), a long crescendo or
  a long diminuendo, 5-30 velocity steps deep;
* voices: within a chord (notes struck within 35 ms) the top note, when it stands 3 or more semitones
  above the next, is the melody (+5..+20), the bottom is the bass (-12..0) and the notes between are
  inner voices (-25..-5), so soft inner voices sit under a loud melody;
* accents: one chord in 6-14 gets +10..+30 (sforzando), and downbeat-like chords after a gap +0..+8;
* per-note variation (sd 4).

Velocities are clipped to 15-127; over many excerpts they cover the whole range. Notes, order, timing and
control changes (the sustain pedal held through harmonies by humanize) stay as they are, so labels made
from the performance stay aligned. Everything comes from the generator passed in.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["dynamics", "VELOCITY_RANGE"]

VELOCITY_RANGE = (15, 127)
_CHORD_S = 0.035


def _groups(starts: np.ndarray) -> np.ndarray:
    """Chord index of each note (in the order given): onsets within 35 ms of the chord's first note."""
    order = np.argsort(starts, kind="stable")
    group = np.zeros(starts.size, dtype=np.int64)
    g, first = -1, -np.inf
    for i in order:
        if starts[i] - first > _CHORD_S:
            g, first = g + 1, starts[i]
        group[i] = g
    return group


def _roles(group: np.ndarray, pitches: np.ndarray) -> np.ndarray:
    """0 inner, 1 melody (top note clearly above the rest, or a lone note), 2 bass (lowest of a chord)."""
    role = np.zeros(pitches.size, dtype=np.int64)
    for g in np.unique(group):
        idx = np.nonzero(group == g)[0]
        if idx.size == 1:
            role[idx] = 1
            continue
        srt = idx[np.argsort(pitches[idx])]
        role[srt[0]] = 2
        if pitches[srt[-1]] - pitches[srt[-2]] >= 3:
            role[srt[-1]] = 1
    return role


def _phrase_curve(rng: np.random.Generator, t: np.ndarray, end: float, level: float) -> np.ndarray:
    """The level at times ``t``: terraced phrase levels plus each phrase's shape."""
    curve = np.full(t.size, level, dtype=np.float64)
    a = 0.0
    while a < end + 1e-6:
        b = a + rng.uniform(2.0, 6.0)
        if rng.random() < 0.35:
            level = float(np.clip(level + rng.choice([-1.0, 1.0]) * rng.uniform(8.0, 30.0), 20.0, 115.0))
        sel = (t >= a) & (t < b)
        x = (t[sel] - a) / (b - a)
        depth = rng.uniform(5.0, 30.0)
        shape = rng.random()
        if shape < 0.6:                                        # swell
            peak = rng.uniform(0.3, 0.8)
            s = np.where(x < peak, x / peak, (1.0 - x) / (1.0 - peak))
        elif shape < 0.8:                                      # crescendo
            s = x
        else:                                                  # diminuendo
            s = 1.0 - x
        curve[sel] = level + depth * (s - 0.5)
        a = b
    return curve


def dynamics(pm, rng: np.random.Generator, level: float | None = None, params: dict | None = None):
    """A copy of ``pm`` with velocities as a person plays them (see the module's docstring); ``level`` fixes
    the excerpt's starting level (velocity) instead of drawing it."""
    out = copy.deepcopy(pm)
    notes = [n for inst in out.instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        return out
    starts = np.array([n.start for n in notes], dtype=np.float64)
    pitches = np.array([n.pitch for n in notes], dtype=np.int64)
    group = _groups(starts)
    role = _roles(group, pitches)
    level = float(rng.uniform(25.0, 110.0)) if level is None else float(level)
    v = _phrase_curve(rng, starts, float(starts.max()), level)
    v += np.select([role == 1, role == 2], [rng.uniform(5.0, 20.0), rng.uniform(-12.0, 0.0)],
                   rng.uniform(-25.0, -5.0))
    n_groups = int(group.max()) + 1
    accented = rng.random(n_groups) < rng.uniform(1 / 14, 1 / 6)
    accent = np.where(accented, rng.uniform(10.0, 30.0, n_groups), 0.0)
    first_of = np.array([starts[group == g].min() for g in range(n_groups)])
    gap_before = np.diff(first_of, prepend=-np.inf)
    accent += np.where(gap_before > 0.4, rng.uniform(0.0, 8.0, n_groups), 0.0)
    v += accent[group] + rng.standard_normal(v.size) * 4.0
    v = np.clip(np.round(v), *VELOCITY_RANGE).astype(int)
    for n, vel in zip(notes, v, strict=True):
        n.velocity = int(vel)
    if params is not None:
        params["dynamics"] = (round(level), int(v.min()), int(v.max()))
    return out
