"""The plan of a piece (phrases with their keys, meters, textures, activity and dynamics) and its writing,
phrase by phrase, hand by hand."""

from __future__ import annotations

import random
from fractions import Fraction as F

from model.data.generate.chorale import _chorale
from model.data.generate.events import _Ev, _Phrase, _Plan, _Slot, _Staff
from model.data.generate.left_hand import _left_hand
from model.data.generate.marks import _melody_ties, _pedal, _rest_bar
from model.data.generate.melody import _decorate, _harmonise, _melody
from model.data.generate.rhythm import _bar_rhythm
from model.data.generate.right_hand import _end, _lower_voice, _rh_arpeggio, _rh_chords, _rh_runs
from model.data.generate.theory import _BPM, _METERS, _dia, _Key, _progression, _wchoice

STYLES: tuple[str, ...] = ("alberti", "block_chords", "arpeggios", "scales", "polyphonic", "chorale", "waltz",
                           "march", "nocturne", "baroque", "mixed", "melody")

# style=None: about 15% single-staff melodies, the rest spread over the piano styles
_STYLE_WEIGHTS = {"alberti": 9, "block_chords": 7, "arpeggios": 8, "scales": 7, "polyphonic": 8, "chorale": 6,
                  "waltz": 7, "march": 6, "nocturne": 7, "baroque": 6, "mixed": 14, "melody": 15}


_STYLE_DEFS = {
    "alberti": dict(
        meters={"4/4": 4, "C": 1, "3/4": 3, "2/4": 2},
        rh={"melody": 6, "harm": 2, "runs": 1},
        lh={"alberti": 8, "block": 1},
        tempo=(100, 152),
        ornaments=0.03,
        graces=0.03,
        pedal=0.1,
    ),
    "block_chords": dict(
        meters={"4/4": 4, "3/4": 3, "2/4": 1, "6/8": 1, "2/2": 1},
        rh={"chords": 5, "harm": 3, "octaves": 1},
        lh={"block": 5, "octaves": 2, "sustained": 1},
        tempo=(66, 120),
        pedal=0.3,
        arpeggiate=0.1,
    ),
    "arpeggios": dict(
        meters={"4/4": 3, "3/4": 2, "6/8": 2, "12/8": 1, "2/4": 1},
        rh={"melody": 3, "arpeggio": 3, "octaves": 1},
        lh={"broken": 6, "held": 1},
        tempo=(60, 132),
        pedal=0.6,
        arpeggiate=0.08,
    ),
    "scales": dict(
        meters={"4/4": 4, "2/4": 2, "3/4": 2, "6/8": 1, "12/8": 1},
        rh={"runs": 6, "melody": 1},
        lh={"block": 3, "octaves": 2, "held": 1, "run": 1, "alberti": 1},
        tempo=(88, 160),
        activity={"fast": 3, "medium": 1},
    ),
    "polyphonic": dict(
        meters={"4/4": 4, "3/4": 2, "2/2": 1, "6/8": 1, "3/2": 0.5},
        rh={"two_voices": 5, "three_voices": 2, "melody": 1},
        lh={"held": 4, "walking": 3, "block": 1},
        tempo=(56, 108),
    ),
    "chorale": dict(
        meters={"4/4": 5, "3/4": 2, "3/2": 0.5, "2/2": 0.5},
        rh={"chorale": 1},
        lh={"chorale": 1},
        tempo=(52, 92),
        activity={"slow": 1},
        pedal=0,
    ),
    "waltz": dict(
        meters={"3/4": 8, "3/8": 1},
        rh={"melody": 4, "harm": 2, "octaves": 1, "two_voices": 0.5},
        lh={"waltz": 8, "held": 1},
        tempo=(120, 184),
        graces=0.06,
        pedal=0.4,
    ),
    "march": dict(
        meters={"2/4": 4, "4/4": 3, "2/2": 2, "6/8": 2},
        rh={"melody": 3, "harm": 3, "chords": 2, "octaves": 1},
        lh={"oompah": 5, "octaves": 3, "block": 1},
        tempo=(96, 132),
        accents=0.12,
        staccato=0.5,
        pedal=0.1,
    ),
    "nocturne": dict(
        meters={"12/8": 2, "6/8": 2, "4/4": 2, "3/4": 2, "9/8": 1},
        rh={"melody": 5, "two_voices": 1, "harm": 1},
        lh={"broken": 7, "held": 1, "sustained": 1},
        tempo=(48, 84),
        ornaments=0.07,
        graces=0.08,
        chromatic=0.3,
        activity={"medium": 3, "slow": 1, "fast": 1},
        pedal=0.8,
        arpeggiate=0.12,
    ),
    "baroque": dict(
        meters={"4/4": 3, "3/4": 2, "2/4": 1, "6/8": 1, "12/8": 1, "3/8": 1, "C": 1},
        rh={"melody": 4, "runs": 1, "two_voices": 1},
        lh={"walking": 4, "held": 1, "run": 1},
        tempo=(72, 132),
        ornaments=0.12,
        graces=0.05,
        activity={"medium": 2, "fast": 2},
        pedal=0,
    ),
    "mixed": dict(
        meters={
            "4/4": 4,
            "3/4": 3,
            "2/4": 2,
            "6/8": 2,
            "12/8": 1,
            "2/2": 1,
            "9/8": 0.5,
            "3/8": 0.5,
            "5/4": 0.4,
            "3/2": 0.3,
            "C": 1,
        },
        rh={
            "melody": 4,
            "harm": 2,
            "octaves": 1,
            "chords": 2,
            "runs": 2,
            "arpeggio": 1,
            "two_voices": 2,
            "three_voices": 1,
            "chorale": 1,
        },
        lh={
            "alberti": 2,
            "block": 2,
            "broken": 2,
            "octaves": 1,
            "waltz": 1,
            "oompah": 1,
            "held": 2,
            "sustained": 1,
            "walking": 1,
            "run": 0.5,
        },
        tempo=(56, 160),
        ornaments=0.05,
        graces=0.05,
        pedal=0.3,
        arpeggiate=0.05,
    ),
    "melody": dict(
        meters={
            "4/4": 4,
            "3/4": 3,
            "2/4": 2,
            "6/8": 2,
            "12/8": 0.5,
            "9/8": 0.5,
            "3/8": 0.5,
            "2/2": 0.5,
            "5/4": 0.3,
            "C": 0.5,
        },
        rh={"melody": 1},
        lh={},
        tempo=(60, 160),
        ornaments=0.05,
        graces=0.06,
    ),
}


def _phrase_lengths(rng: random.Random, measures: int) -> list[int]:
    out, left = [], measures
    while left > 0:
        n = 4 if left >= 6 or left == 4 else left
        if left >= 6 and rng.random() < .15:
            n = 2
        out.append(n)
        left -= n
    return out


def _slots_for(rng: random.Random, ph: _Phrase, per_unit: bool) -> list[tuple]:
    """(bar, off, length) of the chord slots of a phrase."""
    out = []
    units = ph.meter.units
    for bi in range(ph.length):
        b = ph.start + bi
        if per_unit:
            if bi == ph.length - 1 and len(units) >= 2:   # cadence: one chord, then the final one held
                out += [(b, F(0), units[0]), (b, units[0], ph.meter.bar - units[0])]
            else:
                off = F(0)
                for u in units:
                    out.append((b, off, u))
                    off += u
            continue
        halves = ph.meter.halves()
        two = halves and (bi == ph.length - 1 or rng.random() < .35)
        if two:
            h = sum(units[:halves[0]], F(0))
            out += [(b, F(0), h), (b, h, ph.meter.bar - h)]
        else:
            out.append((b, F(0), ph.meter.bar))
    return out


def _plan(rng: random.Random, measures: int, style: str) -> _Plan:
    sd = _STYLE_DEFS[style]
    single = style == "melody"
    minor = rng.random() < .35
    fifths = _wchoice(rng, {0: 4, 1: 4, -1: 4, 2: 3, -2: 3, 3: 2, -3: 2, 4: 1.2, -4: 1.2, 5: .5, -5: .5,
                            6: .2, -6: .2, 7: .05, -7: .05})
    key = _Key(fifths, minor)
    meter = _METERS[_wchoice(rng, sd["meters"])]
    lengths = _phrase_lengths(rng, measures)
    phrases = []
    start = 0
    p_key_change = .3 if style == "mixed" else .2
    p_time_change = .25 if style == "mixed" else .1
    dyn_levels = ["pp", "p", "mp", "mf", "f", "ff"]
    level = rng.choice([1, 2, 3, 3, 4])
    for pi, n in enumerate(lengths):
        final = pi == len(lengths) - 1
        if pi > 0 and rng.random() < p_key_change:
            rel = _wchoice(rng, {"dom": 3, "sub": 2, "rel": 3, "par": 1, "any": 1})
            if rel == "dom":
                key = _Key(key.fifths + 1, key.minor)
            elif rel == "sub":
                key = _Key(key.fifths - 1, key.minor)
            elif rel == "rel":
                key = _Key(key.fifths, not key.minor)
            elif rel == "par":
                key = _Key(key.fifths + (3 if key.minor else -3), not key.minor)
            else:
                key = _Key(rng.randint(-5, 5), rng.random() < .35)
            if abs(key.fifths) > 7:
                key = _Key(key.fifths - 12 * (1 if key.fifths > 0 else -1), key.minor)
        if pi > 0 and rng.random() < p_time_change:
            meter = _METERS[_wchoice(rng, {k: v for k, v in _STYLE_DEFS["mixed"]["meters"].items()
                                           if _METERS[k] != meter})]
        rh = _wchoice(rng, sd["rh"])
        lh = _wchoice(rng, sd["lh"]) if sd["lh"] else ""
        if rh == "chorale" or lh == "chorale":
            rh = lh = "chorale" if not single else "melody"
        if style != "mixed" and not single and rng.random() < .15:   # a contrasting phrase
            rh = _wchoice(rng, _STYLE_DEFS["mixed"]["rh"])
            lh = _wchoice(rng, _STYLE_DEFS["mixed"]["lh"])
            if rh == "chorale":
                lh = "chorale"
            elif lh == "chorale":
                lh = "block"
        activity = _wchoice(rng, sd.get("activity", {"slow": 1, "medium": 3, "fast": 1}))
        cadence = "auth" if final or rng.random() < .4 else "half"
        staccato = rng.random() < sd.get("staccato", .15)
        legato = not staccato and rng.random() < .5
        lh_shift = 7 if lh in ("broken", "held", "alberti", "block", "run") and rng.random() < .2 else 0
        dyn = None
        if pi == 0 and rng.random() < .8 or pi > 0 and rng.random() < .5:
            level = max(0, min(5, level + rng.choice([-2, -1, 1, 1, 2]) if pi else level))
            dyn = dyn_levels[level]
        ph = _Phrase(start, n, key, meter, rh, lh, activity, cadence, staccato, legato, lh_shift, dyn, final)
        per_unit = rh == "chorale"
        spans = _slots_for(rng, ph, per_unit)
        p_sec = sd.get("secondary", .25)
        prog = _progression(rng, key, len(spans), cadence, p_sec)
        ph.slots = [_Slot(b, o, ln, c, key) for (b, o, ln), c in zip(spans, prog)]
        phrases.append(ph)
        start += n
    bar_key = [ph.key for ph in phrases for _ in range(ph.length)]
    bar_meter = [ph.meter for ph in phrases for _ in range(ph.length)]
    tempo = None
    if rng.random() < .6:
        lo, hi = sd["tempo"]
        bpm = rng.choice([b for b in _BPM if lo <= b <= hi])
        compound = phrases[0].meter.compound
        if compound:
            bpm = rng.choice([b for b in _BPM if lo // 3 <= b <= hi // 2] or [60])
        tempo = (bpm, "quarter" if not compound else "dotted")
    kind = {"alberti": "Sonatina", "block_chords": "Song", "arpeggios": "Study", "scales": "Etude",
            "polyphonic": "Invention", "chorale": "Chorale", "waltz": "Waltz", "march": "March",
            "nocturne": "Nocturne", "baroque": "Prelude", "mixed": "Piece", "melody": "Melody"}[style]
    title = f"{kind} in {phrases[0].key.name().replace('-', ' ')}"
    plan = _Plan(
        style,
        single,
        phrases,
        _Staff([]),
        None if single else _Staff([]),
        bar_key,
        bar_meter,
        tempo,
        title,
        rng.random() < 0.7,
    )
    for ph in phrases[1:]:
        b = ph.start - 1
        if (bar_key[b] != bar_key[b + 1] and rng.random() < .75) or rng.random() < .06:
            plan.double_bars.add(b)
    if len(phrases) >= 2 and rng.random() < .1:
        end = rng.randrange(len(phrases))
        begin = rng.randint(0, end)
        start_bar = phrases[begin].start if begin > 0 or rng.random() < .3 else None
        plan.repeats = (start_bar, phrases[end].start + phrases[end].length - 1)
    return plan


def _write(rng: random.Random, plan: _Plan, sd: dict) -> None:
    """Fill the staves of a plan phrase by phrase."""
    rh, lh = plan.rh, plan.lh
    bass_clef_melody = plan.single and rng.random() < .35
    if bass_clef_melody:
        mel_lo, mel_hi = _dia("F2"), _dia("D4")
    else:
        mel_lo, mel_hi = _dia("E4"), _dia("A5") if rng.random() < .7 else _dia("C6")
    prev = (mel_lo + mel_hi) // 2
    bass_prev = None
    chorale_prev = None
    for ph in plan.phrases:
        style = dict(sd)
        fast = ph.activity == "fast"
        rhythms = [
            _bar_rhythm(rng, ph.meter, ph.activity, _end(ph, bi), start_rest=bi == 0 and rng.random() < 0.2)
            for bi in range(ph.length)
        ]
        rh_bars: list[list[list[_Ev]]]
        lh_bars = None
        if ph.rh == "chorale":
            rh_bars, lh_bars, chorale_prev = _chorale(rng, ph, chorale_prev)
        elif ph.rh == "runs":
            line, prev = _rh_runs(rng, ph, prev, mel_lo, mel_hi + 2)
            rh_bars = [[b] for b in line]
        elif ph.rh == "arpeggio":
            rh_bars = [[b] for b in _rh_arpeggio(rng, ph, mel_lo - 2, mel_hi + 3)]
        elif ph.rh == "chords":
            line, prev = _rh_chords(rng, ph, prev, mel_lo, mel_hi, style)
            rh_bars = [[b] for b in line]
        else:
            lo = mel_lo + (3 if ph.rh in ("two_voices", "three_voices") else 0)
            line, prev = _melody(rng, ph, rhythms, prev, lo, mel_hi, style.get("chromatic", .15))
            _melody_ties(rng, line)
            _decorate(rng, ph, line, rh, style, mel_lo)
            if ph.rh in ("harm", "octaves"):
                _harmonise(rng, ph, line, "octaves" if ph.rh == "octaves" else "harm", _dia("G3"))
            if ph.rh == "two_voices":
                v2 = _lower_voice(rng, ph, line, _dia("A3"), 2, rng.random() < .5, rng.choice([0, 0, .3]))
                rh_bars = [[a, b] for a, b in zip(line, v2)]
            elif ph.rh == "three_voices":
                v2 = _lower_voice(rng, ph, line, _dia("D4"), 1, False)
                v3 = _lower_voice(rng, ph, v2, _dia("G3"), 1, True)
                rh_bars = [[a, b, c] for a, b, c in zip(line, v2, v3)]
            else:
                rh_bars = [[b] for b in line]
        if plan.single:
            rh.bars += rh_bars
        else:
            if lh_bars is None:
                lh_bars, bass_prev = _left_hand(rng, ph, ph.lh, bass_prev, fast)
            rh.bars += rh_bars
            lh.bars += lh_bars
            if ph.lh not in ("walking", "run") and rng.random() < sd.get("pedal", .15):
                _pedal(ph, lh)
        p_arp = sd.get("arpeggiate", .02)
        for staff in (rh, lh):
            for bar in (staff.bars[ph.start:] if staff is not None else []):
                for voice in bar:
                    for ev in voice:
                        if len(ev.pitches) >= 3 and ev.tie in (None, "start") and rng.random() < p_arp:
                            ev.arpeggio = True
        # dynamics and wedges (right hand staff)
        if ph.dynamic:
            rh.dynamics.setdefault(ph.start, []).append((F(0), ph.dynamic))
        if ph.length >= 2 and rng.random() < .25:
            b0 = ph.start + rng.randrange(0, ph.length - 1)
            evs = [e for e in rh.bars[b0][0] if e.pitches] + [e for e in rh.bars[b0 + 1][0] if e.pitches][:1]
            if len(evs) >= 2:
                rh.wedges.append((evs[0], evs[-1], rng.choice(["cresc", "cresc", "dim"])))
    # a hand (or the melody) resting for a whole bar
    n = len(rh.bars)
    if not plan.single and n >= 3 and rng.random() < .05:
        _rest_bar(rh, 0, plan.bar_meter[0].bar)
    elif plan.single:
        for ph in plan.phrases[1:]:
            if ph.start < n - 1 and rng.random() < .15:
                _rest_bar(rh, ph.start, plan.bar_meter[ph.start].bar)
    # final fermata
    if plan.final_fermata:
        for staff in (rh, lh):
            if staff is None:
                continue
            for voice in staff.bars[-1][:1]:
                if voice and voice[-1].pitches:
                    voice[-1].fermata = True
