"""Left-hand textures: Alberti bass, block and broken chords, octaves, waltz and oom-pah accompaniments, held
bass, sustained chords, walking bass, runs."""

from __future__ import annotations

import math
import random
from fractions import Fraction as F
from typing import Optional

from model.data.generate.events import _Ev, _held, _Phrase, _Slot, _split
from model.data.generate.melody import _pitch, _tones_above
from model.data.generate.theory import _Chord, _dia, _Key, _Meter, _semi, _wchoice


def _bass_dia(key: _Key, chord: _Chord, lo: int, hi: int, prev: Optional[int]) -> int:
    cands = [d for d in range(lo, hi + 1) if key.degree(d) == chord.bass]
    if prev is None:
        return cands[len(cands) // 2]
    return min(cands, key=lambda d: (abs(d - prev), d))


def _walking(rng: random.Random, key: _Key, P, bass: int, nxt: Optional[_Slot], lo: int, nu: int,
             unit: F) -> list[_Ev]:
    """A walking bass of ``nu`` beats from ``bass`` by step towards the next slot's bass (a chromatic
    approach now and then)."""
    out = [_Ev(unit, (P(bass),))]
    target = _bass_dia(nxt.key, nxt.chord, lo, lo + 7, bass) if nxt else bass
    cur = bass
    for i in range(1, nu):
        left = nu - i
        dist = target - cur
        if abs(dist) > left:
            cur += int(math.copysign(1, dist))
        elif dist == 0:
            cur += rng.choice([-1, 1])
        else:
            cur += int(math.copysign(1, dist)) if rng.random() < .8 else -int(math.copysign(1, dist))
        p = P(cur)
        if i == nu - 1 and target - cur == 1 and _semi(target, key.alter(target, {})) - _semi(*p) == 2 \
                and rng.random() < .4:
            p = (p[0], p[1] + 1)
        out.append(_Ev(unit, (p,)))
    return out


def _oompah(rng: random.Random, kind: str, key: _Key, ch: _Chord, P, bass: int, lo: int, meter: _Meter,
            nu: int, unit: F, staccato: bool) -> list[_Ev]:
    """Waltz and oom-pah accompaniments: bass on the strong beats, the chord on the others."""
    chord_notes = tuple(P(d) for d in _tones_above(key, ch, max(bass + 2, lo + 7), 3))
    out = []
    if meter.compound:   # bass on the beat, chord on the last eighth pair
        for i in range(nu):
            out += [_Ev(F(1), (P(bass if i % 2 == 0 else bass - 3),)),
                    _Ev(F(1, 2), chord_notes, arts=["staccato"] if staccato else [])]
        return out
    for i in range(nu):
        if i == 0 or (kind == "oompah" and i % 2 == 0):
            b = bass if (i == 0 or rng.random() < .5) else _tones_above(key, ch, bass - 4, 1)[0]
            pitches = (P(b),) if rng.random() < .7 or b - 7 < lo - 4 else (P(b - 7), P(b))
            out.append(_Ev(unit, pitches))
        else:
            out.append(_Ev(unit, chord_notes, arts=["staccato"] if staccato or rng.random() < .3 else []))
    return out


def _lh_slot(rng: random.Random, kind: str, s: _Slot, meter: _Meter, lo: int, prev: Optional[int],
             nxt: Optional[_Slot], fast: bool, staccato: bool, last: bool) -> tuple[list, int]:
    """Left-hand events for one chord slot; returns (voices, bass dia). voices: one list or two (held
    bass)."""
    key, ch, L = s.key, s.chord, s.length
    P = lambda d: _pitch(key, ch, d)  # noqa: E731
    unit = meter.units[0]
    bass = _bass_dia(key, ch, lo, lo + 7, prev)
    if last:
        pitches = [bass] + _tones_above(key, ch, bass + 2, 2)
        if rng.random() < .4 and bass - 7 >= lo - 4:
            pitches = [bass - 7, bass]
        return [_held(L, tuple(P(d) for d in pitches))], bass
    if kind == "alberti":
        tri = _tones_above(key, ch, max(bass, lo + 5), 3)
        if rng.random() < .25:
            tri = [bass] + _tones_above(key, ch, bass + 3, 2)
        step = F(1, 4) if fast and not meter.compound and L <= 2 else F(1, 2)
        pat = [0, 2, 1, 2, 1, 2] if meter.compound else [0, 2, 1, 2]
        n = int(L / step)
        return [[_Ev(step, (P(tri[pat[i % len(pat)]]),)) for i in range(n)]], tri[0]
    if kind in ("broken", "arp"):
        seq = [bass] + _tones_above(key, ch, bass + 3, 4)
        if meter.compound:
            step, tup, n = F(1, 2), None, int(L * 2)
            if fast and rng.random() < .5:
                step, n = F(1, 4), int(L * 4)
        else:
            choice = _wchoice(rng, {"e": 3, "t": 2 if int(L) == L else 0, "s": 1 if fast else .2})
            step, tup = {"e": (F(1, 2), None), "t": (F(1, 3), (3, 2)), "s": (F(1, 4), None)}[choice]
            n = int(L / step)
        order = list(range(len(seq))) + list(range(len(seq) - 2, 0, -1))
        return [[_Ev(step, (P(seq[order[i % len(order)]]),), tup if not meter.compound else None)
                 for i in range(n)]], bass
    if kind == "block":
        tri = [bass] + _tones_above(key, ch, bass + 2, rng.choice([2, 2, 3]))
        if rng.random() < .3:
            tri = _tones_above(key, ch, max(bass, lo + 5), 3)
        pitches = tuple(P(d) for d in tri)
        if L > unit and rng.random() < .5:
            return [_held(L, pitches)], bass
        out = []
        for _ in range(int(L / unit)):
            ev = _Ev(unit, pitches, arts=["staccato"] if staccato else [])
            out.append(ev)
        return [out], bass
    if kind == "octaves":
        if bass - 7 < lo - 3:
            bass += 7
        pitches = (P(bass - 7), P(bass))
        if L >= 2 * unit and rng.random() < .5:
            return [_held(L, pitches)], bass
        out = []
        fifth = _tones_above(key, ch, bass + 1, 2)[-1] - 7
        for i in range(int(L / unit)):
            d = bass if i % 2 == 0 else fifth
            out.append(_Ev(unit, (P(d - 7), P(d)), arts=["accent"] if i == 0 and rng.random() < .15 else []))
        return [out], bass
    if kind in ("waltz", "oompah"):
        return [_oompah(rng, kind, key, ch, P, bass, lo, meter, int(L / unit), unit, staccato)], bass
    if kind == "held":
        upper = _tones_above(key, ch, bass + 2, 3)
        step = F(1, 2)
        n = int(L / step)
        pat = rng.choice([[0, 1, 2, 1], [0, 2, 1, 2], [1, 0, 2, 0]])
        v1 = [_Ev(step, (P(upper[pat[i % len(pat)]]),)) for i in range(n)]
        v2 = _held(L, (P(bass),))
        return [v1, v2], bass
    if kind == "sustained":
        pitches = [bass] + _tones_above(key, ch, bass + 4, 2)
        return [_held(L, tuple(P(d) for d in pitches))], bass
    if kind == "walking":
        return [_walking(rng, key, P, bass, nxt, lo, int(L / unit), unit)], bass
    if kind == "run":
        n = int(L / F(1, 4)) if not meter.compound else int(L * 4)
        cur = bass
        direction = 1
        out = []
        for _ in range(n):
            out.append(_Ev(F(1, 4), (P(cur),)))
            cur += direction
            if cur > lo + 12:
                direction = -1
        return [out], bass
    raise ValueError(kind)


def _left_hand(
    rng: random.Random, ph: _Phrase, kind: str, prev: Optional[int], fast: bool
) -> tuple[list, int]:
    lo = _dia("D2") + ph.lh_shift
    bars = []
    for bi in range(ph.length):
        b = ph.start + bi
        slots = [s for s in ph.slots if s.bar == b]
        voices_per_slot = []
        for si, s in enumerate(slots):
            idx = ph.slots.index(s)
            nxt = ph.slots[idx + 1] if idx + 1 < len(ph.slots) else None
            last = ph.final and bi == ph.length - 1 and si == len(slots) - 1
            k = kind
            if k == "waltz" and len(ph.meter.units) != 3:
                k = "oompah"
            if k in ("walking", "waltz", "oompah", "block", "octaves") and s.length % ph.meter.units[0]:
                k = "held"
            vs, prev = _lh_slot(rng, k, s, ph.meter, lo, prev, nxt, fast, ph.staccato, last)
            voices_per_slot.append(vs)
        nv = max(len(v) for v in voices_per_slot)
        if nv == 1:
            bars.append([[e for vs in voices_per_slot for e in vs[0]]])
        else:
            v1, v2 = [], []
            for vs in voices_per_slot:
                if len(vs) == 2:
                    v1 += vs[0]
                    v2 += vs[1]
                else:   # one voice slot inside a two-voice bar: the chord's bass goes to voice 2
                    evs = vs[0]
                    total = sum((e.ql for e in evs), F(0))
                    lowest = evs[0].pitches[:1] if evs and evs[0].pitches else ()
                    v1 += evs
                    v2 += _held(total, lowest) if lowest else [_Ev(v) for v in _split(total)]
            bars.append([v1, v2])
    return bars, prev
