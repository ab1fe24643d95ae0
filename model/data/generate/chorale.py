"""A four-part chorale split across the two staves."""

from __future__ import annotations

import random
from fractions import Fraction as F
from typing import Optional

from model.data.generate.events import _Ev, _held, _Phrase
from model.data.generate.left_hand import _bass_dia
from model.data.generate.melody import _pick_target, _pitch, _tones
from model.data.generate.theory import _dia


def _chorale(rng: random.Random, ph: _Phrase, prev: Optional[list]) -> tuple[list, list, list]:
    """Four-part chorale: soprano+alto in the right hand, tenor+bass in the left (two voices each)."""
    S_rng, A_rng, T_rng, B_rng = (
        (_dia("E4"), _dia("G5")),
        (_dia("G3"), _dia("C5")),
        (_dia("C3"), _dia("F4")),
        (_dia("E2"), _dia("C4")),
    )
    prev = prev or [_dia("B4"), _dia("E4"), _dia("G3"), _dia("C3")]
    chords = []
    n = len(ph.slots)
    for k, s in enumerate(ph.slots):
        key, ch = s.key, s.chord
        degrees = None
        if k == n - 1:
            degrees = (0, 2) if ph.cadence == "auth" else None
        sop = _pick_target(rng, key, ch, prev[0], *S_rng, 0, degrees)
        bass = _bass_dia(key, ch, B_rng[0], B_rng[1], prev[3])
        best, best_cost = None, None
        for a in _tones(key, ch, max(A_rng[0], sop - 7), min(A_rng[1], sop - 1)):
            for t in _tones(key, ch, max(T_rng[0], a - 7, bass + 1), min(T_rng[1], a - 1)):
                degs = {key.degree(x) for x in (sop, a, t, bass)}
                cost = abs(a - prev[1]) + abs(t - prev[2]) + rng.random() * 1.5
                if ch.degrees[0] not in degs or ch.degrees[1] not in degs:
                    cost += 6
                if ch.seventh and ch.degrees[3] not in degs:
                    cost += 3
                if best_cost is None or cost < best_cost:
                    best, best_cost = (a, t), cost
        if best is None:
            best = (sop - 2, bass + 4)
        chords.append((sop, best[0], best[1], bass))
        prev = [sop, best[0], best[1], bass]
    # voices: events per bar, passing eighths where a voice moves by a third over a quarter slot
    voices = [[[] for _ in range(ph.length)] for _ in range(4)]
    for k, s in enumerate(ph.slots):
        bi = s.bar - ph.start
        for v in range(4):
            d = chords[k][v]
            p = _pitch(s.key, s.chord, d)
            nxt = chords[k + 1][v] if k + 1 < n else None
            if nxt is not None and abs(nxt - d) == 2 and s.length == 1 and rng.random() < .35:
                mid = (d + nxt) // 2
                voices[v][bi] += [_Ev(F(1, 2), (p,)), _Ev(F(1, 2), (_pitch(s.key, s.chord, mid),))]
            else:
                voices[v][bi] += _held(s.length, (p,))
    if ph.final:
        for v in range(4):
            voices[v][-1][-1].fermata = True
    rh = [[voices[0][bi], voices[1][bi]] for bi in range(ph.length)]
    lh = [[voices[2][bi], voices[3][bi]] for bi in range(ph.length)]
    # merge two voices into chords where their rhythms match (hymnal style), sometimes
    for bars in (rh, lh):
        for bi, (v1, v2) in enumerate(bars):
            if len(v1) == len(v2) and all(a.ql == b.ql and a.tie == b.tie for a, b in zip(v1, v2)) \
                    and rng.random() < .5:
                merged = []
                for a, b in zip(v1, v2):
                    ps = tuple(sorted(set(b.pitches + a.pitches)))
                    merged.append(_Ev(a.ql, ps, tie=a.tie, fermata=a.fermata))
                bars[bi] = [merged]
    return rh, lh, prev
