"""Clef changes written into training excerpts, as piano music has them.

Piano scores change clef all the time: a left hand that climbs is written in the treble clef for a few
bars (often from a system's start), a right hand that falls in the bass clef. The corpus excerpts the
reader learns on rarely do, and a reader that has only seen a bass clef on a grand staff's lower staff
reads a treble clef there as a bass clef, and every pitch after it wrong. :func:`vary_clefs` rewrites an
excerpt's LMX so that one staff takes the other clef (treble <-> bass) over a run of measures, from the
excerpt's start or from a measure inside it, and back; the notes of that staff in the run move by whole
octaves towards the middle of the new clef, as a copyist would choose the clef for them. Everything else
(voices, beams, ties, accidentals) is left as written, so the labels stay exact.
"""

from __future__ import annotations

import re

import numpy as np

_PITCH = re.compile(r"^([A-G])(\d)$")
_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
OTHER = {"clef:G2": "clef:F4", "clef:F4": "clef:G2"}
CENTRE = {"clef:G2": 71, "clef:F4": 50}   # the MIDI pitch of the middle line: B4 and D3
_PREFIX = ("print-object:no", "grace", "grace:slash", "chord")   # tokens before a note's pitch or rest
_NOT_NOTE = ("clef:", "key:", "dynamics:", "wedge:", "pedal:", "barline:", "repeat:", "ending:")


def _notes(tokens: list[str]) -> list[list[int]]:
    """[index of the note's first token, of its pitch token or -1 for a rest, measure, staff] of every note
    and rest. A note's staff is the ``staff:N`` among its own tokens or, without one, the staff of the note
    before it (the LMX writes a note's staff only when it changes); the ``staff:N`` of a clef or a
    direction is not a note's."""
    out: list[list[int]] = []
    measure, staff, in_note, start = -1, 1, False, None
    for i, t in enumerate(tokens):
        if t == "measure":
            measure += 1
        if t in _PREFIX:
            start = i if start is None else start
            continue
        if _PITCH.match(t) or t == "rest":
            out.append([i if start is None else start, i if t != "rest" else -1, measure, staff])
            in_note, start = True, None
            continue
        start = None
        if t.startswith(_NOT_NOTE) or t in ("measure", "backup", "forward", "time", "metronome"):
            in_note = False
        elif t.startswith("staff:") and in_note:
            staff = int(t.split(":")[1])
            out[-1][3] = staff
    return out


def _shift(token: str, octaves: int) -> str:
    m = _PITCH.match(token)
    octave = min(max(int(m.group(2)) + octaves, 0), 8)
    return f"{m.group(1)}{octave}"


def _midi(token: str) -> int:
    m = _PITCH.match(token)
    return 12 * (int(m.group(2)) + 1) + _STEP[m.group(1)]


def _clefs(tokens: list[str]) -> tuple[list[tuple[int, str, int]], set[int]]:
    """(index, clef, staff) of each clef in the excerpt's first measure, and the staves with more than one
    clef (they change clef somewhere)."""
    first_measure_end = tokens.index("measure", 1) if "measure" in tokens[1:] else len(tokens)
    clefs = [(i, t, int(tokens[i + 1].split(":")[1])) for i, t in enumerate(tokens[:-1])
             if t.startswith("clef:") and tokens[i + 1].startswith("staff:")]
    staves = [s for _, _, s in clefs]
    return [c for c in clefs if c[0] < first_measure_end], {s for s in staves if staves.count(s) > 1}


def vary_clefs(tokens: list[str], rng: np.random.Generator) -> list[str]:
    """``tokens`` with one staff in the other clef over a run of measures (unchanged when the excerpt's
    clefs are not treble and bass ones, or the chosen staff already changes clef)."""
    header, changing = _clefs(tokens)
    choices = [(i, t, s) for i, t, s in header if t in OTHER]
    if not choices:
        return tokens
    # a grand staff's lower staff goes to the treble clef more often than its upper one to the bass clef
    weights = np.array([2.0 if t == "clef:F4" else 1.0 for _, t, _ in choices])
    at, old, staff = choices[int(rng.choice(len(choices), p=weights / weights.sum()))]
    if staff in changing:
        return tokens
    new = OTHER[old]
    notes = [n for n in _notes(tokens) if n[3] == staff]
    measures = tokens.count("measure")
    if not notes or measures < 1:
        return tokens
    m0 = 0 if measures == 1 or rng.random() < 0.4 else int(rng.integers(1, measures))
    m1 = measures if rng.random() < 0.5 or m0 + 1 >= measures else int(rng.integers(m0 + 1, measures + 1))
    inside = [n for n in notes if m0 <= n[2] < m1]
    pitched = [tokens[p] for _, p, _, _ in inside if p >= 0]
    if not inside:
        return tokens
    octaves = 0
    if pitched:
        median = float(np.median([_midi(t) for t in pitched]))
        octaves = int(np.clip(round((CENTRE[new] - median) / 12.0), -2, 2))
    out = list(tokens)
    for _, p, _, _ in inside:
        if p >= 0:
            out[p] = _shift(out[p], octaves)
    inserts = []
    if m0 == 0:
        out[at] = new
    else:
        inserts.append((inside[0][0], [new, f"staff:{staff}"]))
    after = [n for n in notes if n[2] >= m1]
    if after:
        inserts.append((after[0][0], [old, f"staff:{staff}"]))
    for index, toks in sorted(inserts, reverse=True):
        out[index:index] = toks
    return out


OCTAVE = {"clef:G2": "clef:G2-8"}   # the tenor's treble clef, an octave lower than written


def octave_clef(tokens: list[str], rng: np.random.Generator) -> list[str]:
    """``tokens`` with one treble-clef staff written in the tenor's clef (``G2-8``, a small 8 below): the
    page looks the same but every pitch of that staff sounds, and is labelled, an octave lower. Trecento
    and Renaissance tenors are written so, and a reader that has rarely seen the small 8 reads them an
    octave high. Unchanged when no staff is in the treble clef throughout, or the excerpt has several parts
    (their staves are numbered alike)."""
    if "part" in tokens:
        return tokens
    header, changing = _clefs(tokens)
    choices = [(i, t, s) for i, t, s in header if t in OCTAVE and s not in changing]
    if not choices:
        return tokens
    at, old, staff = choices[int(rng.integers(len(choices)))]
    out = list(tokens)
    out[at] = OCTAVE[old]
    for _, p, _, s in _notes(tokens):
        if p >= 0 and s == staff:
            out[p] = _shift(out[p], -1)
    return out
