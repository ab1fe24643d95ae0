"""The written plan as a music21 score: a grand staff (two PartStaffs in a brace) or one part."""

from __future__ import annotations

from fractions import Fraction as F
from typing import Optional

from model.data.generate.events import _Ev, _Plan, _Staff
from model.data.generate.theory import _LETTERS


def _m21_pitch(dia: int, alt: int, show: bool, paren: bool):
    from music21 import pitch

    name = _LETTERS[dia % 7] + ("#" * alt if alt > 0 else "-" * -alt) + str(dia // 7)
    p = pitch.Pitch(name)
    if show:
        if p.accidental is None:
            p.accidental = pitch.Accidental("natural")
        p.accidental.displayStatus = True
        if paren:
            p.accidental.displayStyle = "parentheses"
    elif p.accidental is not None:
        p.accidental.displayStatus = False
    return p


def _m21_duration(ql: F, tup: Optional[tuple]):
    from music21 import duration

    if tup is None:
        return duration.Duration(quarterLength=ql)
    a, n = tup
    d = duration.Duration(quarterLength=ql * a / n)
    t = duration.Tuplet(a, n, d.type)
    t.setDurationType(d.type, d.dots)
    d.appendTuplet(t)
    return d


_ORN = {"trill": "Trill", "mordent": "Mordent", "inverted-mordent": "InvertedMordent", "turn": "Turn"}
_ARTS = {"staccato": "Staccato", "accent": "Accent", "tenuto": "Tenuto", "strong-accent": "StrongAccent"}


def _m21_event(ev: _Ev, stem: Optional[str]) -> list:
    from music21 import articulations, chord, expressions, note, tie

    out = []
    for gi, g in enumerate(ev.graces):
        gn = note.Note(_m21_pitch(g[0], g[1], ev.gshow[gi], False), type=ev.grace_type)
        gn = gn.getGrace(appoggiatura=not ev.grace_slash)
        if len(ev.graces) > 1:
            gn.duration.slash = False
        if stem:
            gn.stemDirection = stem
        out.append(gn)
    if not ev.pitches:
        n = note.Rest()
        n.duration = _m21_duration(ev.ql, ev.tup)
        if ev.full_rest:
            n.fullMeasure = True
        if ev.hidden:
            n.style.hideObjectOnPrint = True
    elif len(ev.pitches) == 1:
        n = note.Note(_m21_pitch(*ev.pitches[0], ev.show[0], ev.paren[0]))
        n.duration = _m21_duration(ev.ql, ev.tup)
    else:
        n = chord.Chord([_m21_pitch(*p, ev.show[k], ev.paren[k]) for k, p in enumerate(ev.pitches)])
        n.duration = _m21_duration(ev.ql, ev.tup)
    if ev.pitches:
        if ev.tie:
            n.tie = tie.Tie(ev.tie)
        if stem:
            n.stemDirection = stem
        for a in ev.arts:
            n.articulations.append(getattr(articulations, _ARTS[a])())
        if ev.orn:
            n.expressions.append(getattr(expressions, _ORN[ev.orn])())
        if ev.arpeggio and len(ev.pitches) > 1:
            n.expressions.append(expressions.ArpeggioMark())
    if ev.fermata:
        n.expressions.append(expressions.Fermata())
    out.append(n)
    return out


def _m21_staff(plan: _Plan, staff: _Staff, part, first: bool, ev_map: dict) -> None:
    from music21 import bar as m21bar
    from music21 import clef, dynamics, expressions, key, meter, note, spanner, stream, tempo

    n_bars = len(staff.bars)
    make_clef = lambda name: clef.TrebleClef() if name == "treble" else clef.BassClef()  # noqa: E731
    for b, voices in enumerate(staff.bars):
        m = stream.Measure(number=b + 1)
        in_force = (
            staff.mid_clefs[b - 1][1] if b - 1 in staff.mid_clefs else (staff.clefs[b - 1] if b else None)
        )
        if b == 0 or staff.clefs[b] != in_force:
            m.insert(0, make_clef(staff.clefs[b]))

        k = plan.bar_key[b]
        if b == 0 or k != plan.bar_key[b - 1]:
            if b > 0 and k.fifths == plan.bar_key[b - 1].fifths:
                pass   # relative major/minor: same signature
            else:
                m.insert(0, key.KeySignature(k.fifths))
        mt = plan.bar_meter[b]
        if b == 0 or mt != plan.bar_meter[b - 1]:
            ts = meter.TimeSignature(f"{mt.num}/{mt.den}")
            if mt.symbol:
                ts.symbol = mt.symbol
            m.insert(0, ts)
        if b == 0 and first and plan.tempo:
            bpm, unit = plan.tempo
            ref = note.Note(type="quarter", dots=1) if unit == "dotted" else note.Note(type="quarter")
            m.insert(0, tempo.MetronomeMark(number=bpm, referent=ref.duration))
        multi = len(voices) > 1
        stems = ["up", "down", "down"] if len(voices) == 3 else ["up", "down"]
        containers = []
        for vi, voice in enumerate(voices):
            target = m
            if multi:
                target = stream.Voice(id=str(vi + 1))
                containers.append(target)
            for ev in voice:
                objs = _m21_event(ev, stems[vi] if multi else None)
                ev_map[id(ev)] = objs[-1]
                for o in objs:
                    target.append(o)
        for v in containers:
            m.insert(0, v)
        # zero-length objects inside the bar go in after the notes (append would start after them)
        for off, mark in staff.dynamics.get(b, []):
            m.insert(off, dynamics.Dynamic(mark))
        if b in staff.mid_clefs:
            m.insert(staff.mid_clefs[b][0], make_clef(staff.mid_clefs[b][1]))
        if plan.repeats and b == plan.repeats[1]:
            m.rightBarline = m21bar.Repeat(direction="end")
        elif b == n_bars - 1:
            m.rightBarline = m21bar.Barline("final")
        elif b in plan.double_bars:
            m.rightBarline = m21bar.Barline("double")
        if plan.repeats and b == plan.repeats[0]:
            m.leftBarline = m21bar.Repeat(direction="start")
        part.append(m)
    for a, z in staff.slurs:
        if id(a) in ev_map and id(z) in ev_map and a is not z:
            part.insert(0, spanner.Slur(ev_map[id(a)], ev_map[id(z)]))
    for a, z, kind in staff.wedges:
        if id(a) in ev_map and id(z) in ev_map and a is not z:
            w = dynamics.Crescendo(ev_map[id(a)], ev_map[id(z)]) if kind == "cresc" else \
                dynamics.Diminuendo(ev_map[id(a)], ev_map[id(z)])
            part.insert(0, w)
    for a, z in staff.pedals:
        if id(a) in ev_map and id(z) in ev_map:
            ends = [ev_map[id(a)]] if a is z else [ev_map[id(a)], ev_map[id(z)]]
            part.insert(0, expressions.PedalMark(*ends))


def _to_music21(plan: _Plan):
    from music21 import instrument, layout, metadata, stream

    score = stream.Score()
    md = metadata.Metadata()
    md.title = plan.title
    md.composer = ""
    score.insert(0, md)
    ev_map: dict = {}
    piano = instrument.Piano()
    piano.partId = "P1"
    piano.instrumentId = "P1-I1"
    if plan.single:
        part = stream.Part(id="P1")
        part.insert(0, piano)
        _m21_staff(plan, plan.rh, part, True, ev_map)
        score.insert(0, part)
        return score
    rh = stream.PartStaff(id="P1-Staff1")
    lh = stream.PartStaff(id="P1-Staff2")
    rh.insert(0, piano)
    _m21_staff(plan, plan.rh, rh, True, ev_map)
    _m21_staff(plan, plan.lh, lh, False, ev_map)
    score.insert(0, rh)
    score.insert(0, lh)
    score.insert(0, layout.StaffGroup([rh, lh], name="Piano", abbreviation="Pno.", symbol="brace",
                                      barTogether=True))
    return score
