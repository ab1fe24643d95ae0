"""Notation details once the notes stand: pedal, rests, ties, clef changes where the left hand climbs, and
accidentals (with cautionary ones); then a check that every voice fills its measure."""

from __future__ import annotations

import random
from fractions import Fraction as F

from model.data.generate.events import _add_tie, _Ev, _Phrase, _Plan, _Staff
from model.data.generate.theory import _dia


def _pedal(ph: _Phrase, staff: _Staff) -> None:
    """Sustain pedal per chord slot, from the slot's first bass note to its last."""
    for bi in range(ph.length):
        b = ph.start + bi
        voice = staff.bars[b][-1]
        onsets, off = [], F(0)
        for ev in voice:
            onsets.append((off, ev))
            off += ev.ql
        for s in ph.slots:
            if s.bar != b:
                continue
            evs = [ev for o, ev in onsets if s.off <= o < s.off + s.length and ev.pitches]
            if evs:
                staff.pedals.append((evs[0], evs[-1]))


def _rest_bar(staff: _Staff, b: int, bar: F) -> None:
    """Replace bar ``b`` of a staff by a whole-measure rest (ties into and out of it removed)."""
    if b > 0:
        for v in staff.bars[b - 1]:
            if v and v[-1].tie in ("start", "continue"):
                v[-1].tie = None if v[-1].tie == "start" else "stop"
    if b + 1 < len(staff.bars):
        for v in staff.bars[b + 1]:
            if v and v[0].tie in ("stop", "continue"):
                v[0].tie = None if v[0].tie == "stop" else "start"
    staff.bars[b] = [[_Ev(bar, full_rest=True)]]


def _melody_ties(rng: random.Random, bars: list[list[_Ev]]) -> None:
    """Syncopation/suspensions: the first note of a bar tied from the last note of the bar before."""
    for a, b in zip(bars, bars[1:]):
        if not a or not b:
            continue
        x, y = a[-1], b[0]
        if x.pitches and y.pitches and not x.tup and not y.tup and x.tie is None and y.tie is None \
                and len(b) > 1 and rng.random() < .15:
            y.pitches = x.pitches
            _add_tie(x, "start")
            _add_tie(y, "stop")


def _lh_ties(rng: random.Random, staff: _Staff) -> None:
    """Repeated held bass notes across a bar line are often tied."""
    for a, b in zip(staff.bars, staff.bars[1:]):
        for va, vb in zip(a, b):
            if not va or not vb:
                continue
            x, y = va[-1], vb[0]
            if x.pitches and x.pitches == y.pitches and not x.tup and not y.tup and x.tie in (None, "stop") \
                    and y.tie in (None, "start") and x.ql >= 1 and rng.random() < .5:
                _add_tie(x, "start")
                _add_tie(y, "stop")


def _clefs(plan: _Plan) -> None:
    """Clef per bar: the left hand goes to the treble clef when it climbs (with hysteresis)."""
    def mean(bar):
        ds = [p[0] for v in bar for e in v for p in e.pitches]
        return sum(ds) / len(ds) if ds else None
    if plan.single:
        ds = [mean(b) for b in plan.rh.bars]
        ds = [d for d in ds if d is not None]
        m = sum(ds) / max(1, len(ds))
        plan.rh.clefs = ["bass" if m < _dia("C4") else "treble"] * len(plan.rh.bars)
        return
    plan.rh.clefs = ["treble"] * len(plan.rh.bars)
    cur = "bass"
    for b, bar in enumerate(plan.lh.bars):
        segments = [(F(0), bar)]
        halves = plan.bar_meter[b].halves()
        if len(bar) == 1 and halves:   # one voice: the clef may change at the half bar
            h = sum(plan.bar_meter[b].units[:halves[0]], F(0))
            off, first, second = F(0), [], []
            for e in bar[0]:
                (first if off < h else second).append(e)
                off += e.ql
            if sum((e.ql for e in first), F(0)) == h and first and second and first[-1].tie in (None, "stop"):
                segments = [(F(0), [first]), (h, [second])]
        for off, seg in segments:
            m = mean(seg)
            if m is not None:
                if cur == "bass" and m >= _dia("D4") + .5:
                    cur = "treble"
                elif cur == "treble" and m < _dia("A3"):
                    cur = "bass"
            if off == 0:
                plan.lh.clefs.append(cur)
            elif cur != plan.lh.clefs[-1]:
                plan.lh.mid_clefs[b] = (off, cur)


def _accidentals(rng: random.Random, staff: _Staff, bar_key: list) -> None:
    """Decide which accidentals are shown (key, earlier accidentals in the bar, ties, cautionary)."""
    prev_altered: dict[int, int] = {}
    for b, voices in enumerate(staff.bars):
        key = bar_key[b]
        if b > 0 and bar_key[b] != bar_key[b - 1]:
            prev_altered = {}
        state: dict[int, int] = {}
        cur_altered: dict[int, int] = {}
        items = []
        for vi, voice in enumerate(voices):
            off = F(0)
            for ev in voice:
                ev.show = [False] * len(ev.pitches)
                ev.paren = [False] * len(ev.pitches)
                ev.gshow = [False] * len(ev.graces)
                for gi in range(len(ev.graces)):
                    items.append((off, gi - len(ev.graces), vi, ev, gi))
                if ev.pitches:
                    items.append((off, 0, vi, ev, None))
                off += ev.ql
        doc_items = list(items)
        items.sort(key=lambda t: (t[0], t[1], t[2]))
        for _off, _, _vi, ev, gi in items:
            pitches = [ev.graces[gi]] if gi is not None else ev.pitches
            for k, (dia, alt) in enumerate(pitches):
                sig = key.sig(dia % 7)
                tied_in = gi is None and ev.tie in ("stop", "continue")
                if tied_in:
                    show = False
                else:
                    expected = state.get(dia, sig)
                    show = alt != expected
                    if not show and dia not in state and dia in prev_altered and prev_altered[dia] != alt \
                            and rng.random() < .8:
                        show = True
                        if gi is None:
                            ev.paren[k] = rng.random() < .25
                    state[dia] = alt
                if alt != sig:
                    cur_altered[dia] = alt
                elif dia in cur_altered and not tied_in:
                    del cur_altered[dia]
                if gi is None:
                    ev.show[k] = show
                else:
                    ev.gshow[gi] = show
        # readers that infer alters in document order (voice after voice) must see the same pitches
        dstate: dict[int, int] = {}
        for _off, _, _vi, ev, gi in doc_items:
            pitches = [ev.graces[gi]] if gi is not None else ev.pitches
            for k, (dia, alt) in enumerate(pitches):
                if gi is None and ev.tie in ("stop", "continue"):
                    continue
                if alt != dstate.get(dia, key.sig(dia % 7)):
                    if gi is None:
                        ev.show[k] = True
                    else:
                        ev.gshow[gi] = True
                dstate[dia] = alt
        prev_altered = cur_altered


def _check_full(plan: _Plan) -> None:
    for staff in (plan.rh, plan.lh):
        if staff is None:
            continue
        for b, voices in enumerate(staff.bars):
            bar = plan.bar_meter[b].bar
            for v in voices:
                total = sum((e.ql for e in v), F(0))
                if total != bar:
                    raise AssertionError(f"bar {b + 1}: voice lasts {total}, bar is {bar}")
