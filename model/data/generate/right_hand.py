"""Right-hand textures besides the melody: scales and runs (tuplets too), block chords, arpeggios, and a lower
voice held under a moving one."""

from __future__ import annotations

import random
from fractions import Fraction as F
from typing import Optional

from model.data.generate.events import _Ev, _held, _Phrase, _split
from model.data.generate.melody import _chord_at, _melody, _pick_target, _pitch, _tones, _tones_above
from model.data.generate.rhythm import _bar_rhythm
from model.data.generate.theory import _wchoice


def _rh_runs(rng: random.Random, ph: _Phrase, prev: int, lo: int, hi: int) -> tuple[list[list[_Ev]], int]:
    """Scales and arpeggio runs: 16ths (or triplets / sextuplets / quintuplets per beat)."""
    bars = []
    cur = prev
    direction = 1 if cur < (lo + hi) // 2 else -1
    for bi in range(ph.length):
        b = ph.start + bi
        meter = ph.meter
        evs: list[_Ev] = []
        last_bar = bi == ph.length - 1
        off = F(0)
        for ui, u in enumerate(meter.units):
            slot = _chord_at(ph.slots, b, off)
            if last_bar and ui >= len(meter.units) - (1 if len(meter.units) < 3 else 2):
                # end of the phrase: a chord tone held to the bar end
                rest = meter.bar - off
                t = _pick_target(rng, slot.key, slot.chord, cur, lo, hi, 0,
                                 (0,) if ph.cadence == "auth" else None)
                evs += _held(rest, (_pitch(slot.key, slot.chord, t),))
                cur = t
                break
            if meter.compound:
                kind = _wchoice(rng, {"s": 5, "e": 2, "duo": .3})
                vals = {"s": [(F(1, 4), None)] * 6, "e": [(F(1, 2), None)] * 3,
                        "duo": [(F(3, 4), (2, 3))] * 2}[kind]
            else:
                kind = _wchoice(rng, {"s": 6, "t": 1.5, "x": .6, "q": .5, "e": 1})
                vals = {
                    "s": [(F(1, 4), None)] * 4,
                    "t": [(F(1, 3), (3, 2))] * 3,
                    "x": [(F(1, 6), (6, 4))] * 6,
                    "q": [(F(1, 5), (5, 4))] * 5,
                    "e": [(F(1, 2), None)] * 2,
                }[kind]
                vals = vals * int(u)
            arpeggio = rng.random() < .3
            for j, (ql, tup) in enumerate(vals):
                if j == 0 and not slot.chord.is_tone(slot.key, cur):
                    cur += 1 if direction > 0 else -1
                    if not slot.chord.is_tone(slot.key, cur):
                        cur = _pick_target(rng, slot.key, slot.chord, cur, lo, hi, direction)
                elif j > 0:
                    if arpeggio:
                        nxt = [
                            d
                            for d in _tones(slot.key, slot.chord, lo - 3, hi + 3)
                            if (d - cur) * direction > 0
                        ]
                        cur = (min(nxt) if direction > 0 else max(nxt)) if nxt else cur - direction
                    else:
                        cur += direction
                if cur >= hi + 2:
                    direction = -1
                elif cur <= lo - 2:
                    direction = 1
                evs.append(_Ev(ql, (_pitch(slot.key, slot.chord, cur),), tup))
            off += u
            if rng.random() < .35:
                direction = -direction
        bars.append(evs)
    return bars, cur


def _rh_chords(rng: random.Random, ph: _Phrase, prev: int, lo: int, hi: int, style: dict) -> tuple[list, int]:
    """Block chords in the right hand: a slow top line, 3-4 note chords under it."""
    rhythms = [_bar_rhythm(rng, ph.meter, "slow", _end(ph, bi), tuplets=False) for bi in range(ph.length)]
    bars, last = _melody(rng, ph, rhythms, prev, lo + 4, hi, 0)
    for bi, bar in enumerate(bars):
        off = F(0)
        for ev in bar:
            o = off
            off += ev.ql
            if not ev.pitches:
                continue
            slot = _chord_at(ph.slots, ph.start + bi, o)
            top = ev.pitches[-1][0]
            if not slot.chord.is_tone(slot.key, top):
                continue
            n = rng.choice([2, 3, 3]) if ev.ql >= F(1, 2) else 1
            below = _tones(slot.key, slot.chord, top - 7, top - 1)[-n:]
            ev.pitches = tuple(_pitch(slot.key, slot.chord, d) for d in below) + ev.pitches
    # repeated chords keep ties consistent: tied notes must have the same pitches
    flat = [e for b in bars for e in b]
    for a, b in zip(flat, flat[1:]):
        if a.tie in ("start", "continue") and b.pitches:
            b.pitches = a.pitches
    return bars, last


def _rh_arpeggio(rng: random.Random, ph: _Phrase, lo: int, hi: int) -> list[list[_Ev]]:
    bars = []
    for bi in range(ph.length):
        b = ph.start + bi
        evs: list[_Ev] = []
        off = F(0)
        last_bar = bi == ph.length - 1
        compound = ph.meter.compound
        triplets = not compound and rng.random() < .35
        for ui, u in enumerate(ph.meter.units):
            slot = _chord_at(ph.slots, b, off)
            if last_bar and ui == len(ph.meter.units) - 1 and ui > 0:
                top = _tones_above(slot.key, slot.chord, lo, 3)
                evs += _held(u, tuple(_pitch(slot.key, slot.chord, d) for d in top))
                off += u
                continue
            start = _tones_above(slot.key, slot.chord, lo + rng.randrange(0, 3), 1)[0]
            if compound:
                n, ql, tup = 6, F(1, 4), None
            elif triplets:
                n, ql, tup = 3 * int(u), F(1, 3), (3, 2)
            else:
                n, ql, tup = 4 * int(u), F(1, 4), None
            seq = _tones_above(slot.key, slot.chord, start, n)
            if rng.random() < .4:   # up and down
                half = (n + 1) // 2
                seq = seq[:half] + seq[:half][::-1][1:n - half + 1]
                seq = (seq + seq)[:n]
            seq = [d for d in seq]
            seq = [d if d <= hi + 3 else d - 7 for d in seq]
            evs += [_Ev(ql, (_pitch(slot.key, slot.chord, d),), tup) for d in seq]
            off += u
        bars.append(evs)
    return bars


def _lower_voice(rng: random.Random, ph: _Phrase, upper: list[list[_Ev]], floor: int, gap: int,
                 held: bool, p_hide: float = 0.0) -> list[list[_Ev]]:
    """A voice under ``upper``: per chord slot a held chord tone (or two halves), below the upper voice.

    With ``p_hide`` a slot is an invisible rest instead (the voice comes and goes, as in real scores).
    """
    bars = []
    for bi, ubar in enumerate(upper):
        b = ph.start + bi
        slots = [s for s in ph.slots if s.bar == b]
        evs: list[_Ev] = []
        for s in slots:
            # lowest pitch of the upper voice during the slot
            off, mins = F(0), []
            for ev in ubar:
                if s.off <= off < s.off + s.length or (off < s.off < off + ev.ql):
                    mins += [p[0] for p in ev.pitches]
                off += ev.ql
            ceiling = (min(mins) if mins else floor + 9) - gap
            cands = _tones(s.key, s.chord, floor, ceiling)
            if not cands or rng.random() < p_hide:
                evs += [_Ev(v, hidden=bool(cands)) for v in _split(s.length)]
                continue
            parts = [s.length]
            if not held and s.length >= 2 and s.length % 2 == 0:
                parts = [s.length / 2] * 2
            elif not held and s.length == 3:
                parts = [F(2), F(1)] if rng.random() < .5 else [F(1)] * 3
            for pl in parts:
                d = rng.choice(cands[-3:])
                evs += _held(pl, (_pitch(s.key, s.chord, d),))
        bars.append(evs)
    return bars


def _end(ph: _Phrase, bi: int) -> Optional[str]:
    if bi != ph.length - 1:
        return None
    return "final" if ph.cadence == "auth" and ph.final else "phrase"
