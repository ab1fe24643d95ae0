"""Piano notes into two staves (hands), and the notes of a staff into voices.

Hands: a split pitch that moves slowly through the piece (a dynamic programme over onsets), paid for
by each hand's notes straying from where that hand has been playing, by a hand spanning more than a
tenth, and by moving the split; middle C is only a weak preference, so a melody dipping below it or a
bass line climbing above it stays in its hand.

Voices: a staff whose notes sound at most two at a time, and two at a time for a good share of it (two
singers' lines on a staff, a hand's melody over a held note), is written as an upper and a lower voice;
otherwise notes struck together are chords of one voice.
"""

from __future__ import annotations

import numpy as np

SPLITS = np.arange(36, 85)  # candidate split pitches: notes >= split go to the upper staff
MOVE_COST = 0.04  # per semitone the split moves between onsets
SPAN = 14  # a hand reaching further than this pays per semitone
CENTRE_COST = 0.06  # per semitone a note lies from its hand's recent centre (/12 scaled)


def needs_two_staves(pitch: np.ndarray, lines: int = 1) -> bool:
    """Whether the notes need a grand staff: they reach well into both clefs, or go below the treble
    staff's reach (a bass line), or make several lines (``lines``) that go below middle C."""
    if pitch.size == 0:
        return False
    lo, hi = np.percentile(pitch, 3), np.percentile(pitch, 97)
    low = int(pitch.min())
    return bool((lo < 53 and hi > 64) or low < 55 or (lines >= 2 and low < 60 and hi > 64))


def single_clef(pitch: np.ndarray) -> str:
    """'treble' or 'bass' for music on one staff."""
    return "bass" if pitch.size and float(np.median(pitch)) < 57 else "treble"


def _centres(pitch: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Each hand's pitch centre around each onset: the top and the bottom of the onsets where several notes
    sound together (smoothed over onsets), or either side of middle C when there are few such onsets."""
    up, lo = np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    for g in range(n_groups):
        ps = pitch[group == g]
        if ps.size >= 2 and ps.max() - ps.min() >= 5:
            up[g], lo[g] = ps.max(), ps.min()
    if np.sum(~np.isnan(up)) < 3:
        for g in range(n_groups):
            ps = pitch[group == g]
            if np.any(ps >= 60):
                up[g] = ps[ps >= 60].mean()
            if np.any(ps < 60):
                lo[g] = ps[ps < 60].mean()
    out = []
    for arr, default in ((up, 67.0), (lo, 50.0)):
        ok = ~np.isnan(arr)
        if not ok.any():
            out.append(np.full(n_groups, default))
            continue
        filled = np.interp(np.arange(n_groups), np.nonzero(ok)[0], arr[ok])
        k = np.ones(9) / 9.0
        pad = np.pad(filled, 4, mode="edge")
        out.append(np.convolve(pad, k, mode="valid"))
    return out[0], out[1]


def split_hands(pitch: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Staff of every note (0 upper, 1 lower); notes of one onset are split by pitch, never crossed."""
    n_groups = int(group.max()) + 1 if group.size else 0
    if n_groups == 0:
        return np.zeros(0, dtype=np.int64)
    up_c, lo_c = _centres(pitch, group, n_groups)
    S = SPLITS.size
    members = [np.sort(pitch[group == g]) for g in range(n_groups)]
    emit = np.zeros((n_groups, S))
    for g, ps in enumerate(members):
        k = np.searchsorted(ps, SPLITS)  # notes below split j: ps[:k[j]]
        n = ps.size
        du = np.concatenate([[0.0], np.cumsum(np.abs(ps - up_c[g]))])
        dl = np.concatenate([[0.0], np.cumsum(np.abs(ps - lo_c[g]))])
        span_u = np.where(k < n, ps[-1] - ps[np.minimum(k, n - 1)], 0)
        span_l = np.where(k > 0, ps[np.maximum(k - 1, 0)] - ps[0], 0)
        emit[g] = (
            np.maximum(span_u - SPAN, 0)
            + np.maximum(span_l - SPAN, 0)
            + CENTRE_COST * ((du[-1] - du[k]) + dl[k])
            + 0.003 * np.abs(SPLITS - 60.0)
        )
    move = MOVE_COST * np.abs(SPLITS[:, None] - SPLITS[None, :]).astype(np.float64)
    cost = emit[0].copy()
    back = np.zeros((n_groups, S), dtype=np.int64)
    for g in range(1, n_groups):
        tot = cost[:, None] + move
        back[g] = np.argmin(tot, axis=0)
        cost = tot[back[g], np.arange(S)] + emit[g]
    path = np.zeros(n_groups, dtype=np.int64)
    path[-1] = int(np.argmin(cost))
    for g in range(n_groups - 1, 0, -1):
        path[g - 1] = back[g, path[g]]
    split = SPLITS[path][group]
    return (pitch < split).astype(np.int64)


def two_voices(on: np.ndarray, end: np.ndarray) -> bool:
    """Whether a staff's notes read as two voices: never more than two at once, two at once for a share."""
    if on.size < 4:
        return False
    starts = np.unique(on)
    sounding = np.array([int(np.sum((on <= t) & (end > t))) for t in starts])
    return bool(sounding.max() <= 2 and np.mean(sounding == 2) >= 0.3)


def assign_voices(pitch: np.ndarray, on: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Voice (0 upper, 1 lower) of each note of a two-voice staff: the top of two struck together is the
    upper voice; a lone note joins the voice that is free, or the nearer one."""
    voice = np.zeros(on.size, dtype=np.int64)
    last_end, last_pitch = [-1, -1], [None, None]
    for t in np.unique(on):
        idx = np.nonzero(on == t)[0]
        idx = idx[np.argsort(-pitch[idx])]
        if idx.size >= 2:
            voice[idx[0]] = 0
            voice[idx[1:]] = 1
        else:
            i = idx[0]
            busy = [last_end[v] > t for v in (0, 1)]
            if busy[0] and not busy[1]:
                v = 1
            elif busy[1] and not busy[0]:
                v = 0
            elif last_pitch[1] is None:
                v = 0 if last_pitch[0] is None or pitch[i] >= last_pitch[0] - 2 else 1
            else:
                v = int(abs(int(pitch[i]) - last_pitch[1]) < abs(int(pitch[i]) - (last_pitch[0] or 0)))
            voice[i] = v
        for i in idx:
            v = int(voice[i])
            last_end[v] = max(last_end[v], int(end[i])) if last_pitch[v] is not None else int(end[i])
            last_pitch[v] = int(pitch[i])
    return voice
