"""The melody: chord tones on strong beats, passing and neighbour tones between, then ornaments, grace notes,
slurs and articulations, and harmonisation in thirds, sixths or octaves."""

from __future__ import annotations

import math
import random
from fractions import Fraction as F

from model.data.generate.events import _Ev, _Phrase, _Slot, _Staff
from model.data.generate.theory import _Chord, _Key, _semi, _wchoice


def _chord_at(slots: list[_Slot], bar: int, off: F) -> _Slot:
    best = None
    for s in slots:
        if s.bar == bar and s.off <= off:
            best = s
        elif best is not None and (s.bar > bar or s.off > off):
            break
    if best is None:
        best = next(s for s in slots if s.bar >= bar)
    return best


def _tones(key: _Key, chord: _Chord, lo: int, hi: int) -> list[int]:
    return [d for d in range(lo, hi + 1) if chord.is_tone(key, d)]


def _tones_above(key: _Key, chord: _Chord, start: int, count: int) -> list[int]:
    out, d = [], start
    while len(out) < count:
        if chord.is_tone(key, d):
            out.append(d)
        d += 1
    return out


def _pitch(key: _Key, chord: _Chord, dia: int) -> tuple:
    return (dia, key.alter(dia, chord.od))


def _pick_target(rng, key, chord, prev, lo, hi, bias, degrees=None) -> int:
    cands = _tones(key, chord, lo, hi)
    if degrees:
        c2 = [d for d in cands if key.degree(d) in degrees]
        cands = c2 or cands
    if not cands:
        return max(lo, min(hi, prev))
    ws = []
    for d in cands:
        dist = d - prev
        w = math.exp(-abs(dist) / 1.6) * (0.45 if dist == 0 else 1.0)
        if dist * bias > 0:
            w *= 1.8
        ws.append((d, w))
    return _wchoice(rng, ws)


def _melody(rng: random.Random, ph: _Phrase, meterless_bars: list[list[tuple]], prev: int, lo: int, hi: int,
            p_chrom: float) -> tuple[list[list[_Ev]], int]:
    """Pitches for a phrase's rhythms: chord tones on strong notes, passing/neighbour tones between."""
    items = []  # (bar, off, ql, tup, rest, strong)
    unit = ph.meter.units[0]
    for bi, rhythm in enumerate(meterless_bars):
        off = F(0)
        for ql, tup, rest in rhythm:
            strong = (off % unit == 0) and (tup is None or off % unit == 0)
            items.append((ph.start + bi, off, ql, tup, rest, strong or ql >= unit))
            off += ql
    notes = [i for i, it in enumerate(items) if not it[4]]
    dias: dict[int, int] = {}
    strong_idx = [i for i in notes if items[i][5]]
    if not strong_idx and notes:
        strong_idx = [notes[0]]
    n_strong = len(strong_idx)
    cur = prev
    for k, i in enumerate(strong_idx):
        bar, off = items[i][0], items[i][1]
        slot = _chord_at(ph.slots, bar, off)
        frac = k / max(1, n_strong - 1)
        bias = 1 if frac < .5 else -1
        if cur > hi - 3:
            bias = -1
        elif cur < lo + 3:
            bias = 1
        degrees = None
        if k == n_strong - 1 and ph.cadence == "auth":
            degrees = (0,) if rng.random() < .7 else (0, 2)
        elif k == n_strong - 1 and ph.cadence == "half":
            degrees = (4, 1, 6)
        cur = _pick_target(rng, slot.key, slot.chord, cur, lo, hi, bias, degrees)
        dias[i] = cur
    # weak notes between targets
    cur = prev
    order = notes
    targets = [i for i in order if i in dias]
    ti = 0
    prev_dia = prev
    for pos, i in enumerate(order):
        if i in dias:
            prev_dia = dias[i]
            ti += 1
            continue
        nxt = targets[ti] if ti < len(targets) else None
        if nxt is None:
            step = rng.choice([-1, 1])
            d = prev_dia + step
        else:
            remaining = sum(1 for j in order[pos:] if j < nxt) + 1
            dist = dias[nxt] - prev_dia
            if dist == 0:
                d = prev_dia + rng.choice([-1, 1])
            elif abs(dist) > remaining:
                d = prev_dia + int(math.copysign(math.ceil(abs(dist) / remaining), dist))
            elif abs(dist) + 2 <= remaining and rng.random() < .3:
                d = prev_dia - int(math.copysign(1, dist))
            else:
                d = prev_dia + int(math.copysign(1, dist))
        d = max(lo - 2, min(hi + 2, d))
        dias[i] = d
        prev_dia = d
    bars: list[list[_Ev]] = [[] for _ in meterless_bars]
    ordered = list(range(len(items)))
    for idx in ordered:
        bar, off, ql, tup, rest, strong = items[idx]
        if rest:
            bars[bar - ph.start].append(_Ev(ql, (), tup))
            continue
        slot = _chord_at(ph.slots, bar, off)
        d = dias[idx]
        p = _pitch(slot.key, slot.chord, d)
        if slot.key.minor and slot.key.degree(d) == 6:   # melodic minor: raised 7th leading up
            nxt = next((dias[j] for j in range(idx + 1, len(items)) if j in dias), None)
            if nxt == d + 1:
                p = (d, slot.key.sig(d % 7) + 1)
        bars[bar - ph.start].append(_Ev(ql, (p,), tup))
    # chromatic lower/upper neighbours before strong notes
    flat = [e for b in bars for e in b]
    for a, b in zip(flat, flat[1:]):
        if not a.pitches or not b.pitches or a.tup or a.ql > 1 or rng.random() >= p_chrom:
            continue
        (da, aa), (db, ab) = a.pitches[0], b.pitches[0]
        gap = _semi(db, ab) - _semi(da, aa)
        if db == da + 1 and gap == 2:
            a.pitches = ((da, aa + 1),)
        elif db == da - 1 and gap == -2 and rng.random() < .3:
            a.pitches = ((da, aa - 1),)
    last = next((e.pitches[0][0] for e in reversed(flat) if e.pitches), prev)
    return bars, last


def _decorate(rng: random.Random, ph: _Phrase, bars: list[list[_Ev]], staff: _Staff, style: dict,
              lo: int) -> None:
    """Ornaments, grace notes, articulations and slurs on a single melodic line."""
    p_orn = style.get("ornaments", .04)
    p_grace = style.get("graces", .04)
    unit = ph.meter.units[0]
    multi = ph.rh in ("two_voices", "three_voices")
    for bi, bar in enumerate(bars):
        off = F(0)
        for ev in bar:
            strong = off % unit == 0
            onset = off
            off += ev.ql
            if not ev.pitches or ev.tie in ("stop", "continue") or ev.tup:
                continue
            dia, alt = ev.pitches[-1]
            r = rng.random()
            if ev.ql >= 1 and r < p_orn:
                ev.orn = "trill"
            elif ev.ql >= F(1, 2) and strong and r < p_orn * 2:
                ev.orn = rng.choice(["mordent", "inverted-mordent", "inverted-mordent", "turn"])
            elif rng.random() < p_grace:
                key = ph.key
                if rng.random() < .75:
                    g = dia + (1 if rng.random() < .6 else -1)
                    ev.graces = [(g, key.sig(g % 7))]
                    ev.grace_type = rng.choice(["eighth", "eighth", "16th"])
                    ev.grace_slash = rng.random() < .8
                else:
                    ev.graces = [(dia - 2, key.sig((dia - 2) % 7)), (dia - 1, key.sig((dia - 1) % 7))]
                    ev.grace_type = "16th"
                    ev.grace_slash = False
            if ph.staccato and ev.ql <= F(1, 2) and rng.random() < .7:
                ev.arts.append("staccato")
            elif strong and rng.random() < style.get("accents", .04):
                ev.arts.append(rng.choice(["accent", "accent", "accent", "strong-accent"]))
                if not multi and onset > 0 and rng.random() < .3:
                    staff.dynamics.setdefault(ph.start + bi, []).append(
                        (onset, rng.choice(["sf", "sfz", "fp"]))
                    )
            elif ev.ql >= 1 and rng.random() < .03:
                ev.arts.append("tenuto")
    if ph.legato or (not ph.staccato and rng.random() < .5):
        for bar in bars:
            run: list[_Ev] = []
            for ev in bar + [None]:
                if ev is not None and ev.pitches:
                    run.append(ev)
                    continue
                if len(run) >= 2 and rng.random() < .7:
                    if len(run) > 4 and rng.random() < .5:
                        cut = rng.randrange(2, len(run) - 1)
                        staff.slurs += [(run[0], run[cut - 1]), (run[cut], run[-1])]
                    else:
                        staff.slurs.append((run[0], run[-1]))
                run = []
    elif ph.staccato:
        for bar in bars:
            for a, b in zip(bar, bar[1:]):
                if (
                    a.pitches
                    and b.pitches
                    and a.ql < 1
                    and "staccato" in b.arts
                    and "staccato" not in a.arts
                    and rng.random() < 0.15
                ):
                    staff.slurs.append((a, b))


def _harmonise(rng: random.Random, ph: _Phrase, bars: list[list[_Ev]], mode: str, floor: int) -> None:
    """Add chord tones under melody notes (thirds/sixths/full chords) or octaves."""
    for bi, bar in enumerate(bars):
        off = F(0)
        for ev in bar:
            o = off
            off += ev.ql
            if not ev.pitches or ev.tup or ev.tie or ev.ql < F(1, 2):
                continue
            dia, alt = ev.pitches[-1]
            slot = _chord_at(ph.slots, ph.start + bi, o)
            if mode == "octaves":
                if dia - 7 >= floor:
                    ev.pitches = (_octave(dia - 7, dia, alt),) + ev.pitches
                continue
            if rng.random() > (.8 if ev.ql >= 1 else .45):
                continue
            if not slot.chord.is_tone(slot.key, dia):
                continue
            below = [d for d in _tones(slot.key, slot.chord, max(floor, dia - 7), dia - 2)]
            if not below:
                continue
            k = 1 if (ev.ql < 1 or rng.random() < .5) else 2
            chosen = (
                sorted(below[-k:]) if rng.random() < 0.6 else sorted(rng.sample(below, min(k, len(below))))
            )
            ev.pitches = tuple(_pitch(slot.key, slot.chord, d) for d in chosen) + ev.pitches


def _octave(d: int, top: int, alt: int) -> tuple:
    return (d, alt)
