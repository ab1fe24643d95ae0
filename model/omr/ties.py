"""Ties read at their end only, given their start.

A tie is one curve from a note to the next note of the same pitch; MusicXML (and LMX) writes it twice, as
``tied:start`` on the first note and ``tied:stop`` on the second. The reader often reads one end and not
the other: in 360 readings of validation-split excerpts it read 351 starts and 427 stops where there were
627 and 582. In a staff's symbols, a note read with a stop gets a start on the last note of the same pitch
(letter and octave) and voice before it, when that note is at most ``reach`` bar lines away. LMX SER on
those readings: 14.95% -> 14.88% (single staves 9.5% -> 9.25% clean, 8.4% -> 8.1% MuseScore 3). Giving a
read start its stop as well added as many wrong stops as right ones and was left out.

Pedal lines are read at one end too, and a pedal line left open runs to the end of the score in every
notation program (the Maple Leaf Rag's three pages, which have no pedal marks, were read with a line from
measure 8 to 40 and another from 55 to the end). :func:`pair_pedals` keeps a staff's pedal marks only as
start-stop pairs within its system.

A tie between two chords is a curve per note, and the reader often reads one or two of them:
:func:`tie_chords` ties every note of the chord when a tie was read on any (validation LMX SER, reader12,
``python -m tools.reader_steps``: 9.55% -> 9.54%, single staves clean 5.00% -> 4.95%, degraded 5.34% ->
5.29%).
"""

from __future__ import annotations

from model.tokenizers.lmx_vocab import ACCIDENTALS
from model.tokenizers.staff_symbols import _BEAM_SET, _DUR_SYMS, _MARK_SET, _PITCH_SET, _VOICE_SYMS

_ATTACHED = _BEAM_SET | _MARK_SET | frozenset(_DUR_SYMS) | frozenset(_VOICE_SYMS)
_ACCIDENTALS = frozenset(ACCIDENTALS)


def _notes(seq: list[str]) -> list[tuple[tuple[str, int], int, int, set[str], int]]:
    """((pitch, voice), measure, end of its symbols, its marks, where its pitch is) of every pitched note
    of a staff's symbols, in order; a chord member is in its head's voice."""
    out, measure, voice, k = [], 0, 1, 0
    while k < len(seq):
        s = seq[k]
        if s == "measure":
            measure += 1
        if s in _PITCH_SET and not (k and seq[k - 1].startswith("grace")):
            end = k + 1
            while end < len(seq) and seq[end] in _ATTACHED:
                if seq[end] in _VOICE_SYMS and not (k and seq[k - 1] == "chord"):
                    voice = _VOICE_SYMS[seq[end]][0]
                end += 1
            out.append(((s, voice), measure, end, set(seq[k + 1:end]), k))
            k = end
            continue
        k += 1
    return out


def complete_ties(seq: list[str], reach: int = 1) -> list[str]:
    """A staff's symbols with each tie read at its end given its start (see the module's note)."""
    notes = _notes(seq)
    adds: dict[int, list[str]] = {}
    for n, (pitch, measure, _, marks, _) in enumerate(notes):
        if "tied:stop" in marks:
            before = next((m for m in range(n - 1, -1, -1) if notes[m][0] == pitch), None)
            if before is not None and measure - notes[before][1] <= reach \
                    and "tied:start" not in notes[before][3]:
                adds.setdefault(notes[before][2], []).append("tied:start")
                notes[before][3].add("tied:start")
    return _insert(seq, adds)


def _insert(seq: list[str], adds: dict[int, list[str]]) -> list[str]:
    if not adds:
        return list(seq)
    out = []
    for k, s in enumerate(seq):
        out += adds.get(k, [])
        out.append(s)
    return out + adds.get(len(seq), [])


def _chords(seq: list[str], notes) -> list[tuple[int, int, list[int]]]:
    """(voice, measure, indices into ``notes``) of every note and chord of a staff, in order."""
    out: list[tuple[int, int, list[int]]] = []
    for n, ((_, voice), measure, _, _, k) in enumerate(notes):
        j = k - 1
        while j >= 0 and seq[j] in _ACCIDENTALS:
            j -= 1
        if j >= 0 and seq[j] == "chord" and out:
            out[-1][2].append(n)
        else:
            out.append((voice, measure, [n]))
    return out


def tie_chords(seq: list[str]) -> list[str]:
    """A staff's symbols with every note of a tied chord tied: where a chord is followed in its voice by
    the same chord, and a tie was read between them on any of its notes, each note gets its start and its
    stop (in the training split's staff symbols a chord tied on some of its notes is tied on all of them
    259 times in 261)."""
    notes = _notes(seq)
    chords = _chords(seq, notes)
    adds: dict[int, list[str]] = {}
    last: dict[int, tuple[int, list[int]]] = {}
    for voice, measure, members in chords:
        before = last.get(voice)
        last[voice] = (measure, members)
        if before is None or len(members) < 2 or measure - before[0] > 1:
            continue
        pitches = sorted(notes[n][0][0] for n in members)
        if pitches != sorted(notes[n][0][0] for n in before[1]):
            continue
        starts = ["tied:start" in notes[n][3] for n in before[1]]
        stops = ["tied:stop" in notes[n][3] for n in members]
        if not any(starts) and not any(stops) or all(starts) and all(stops):
            continue
        for n, done in zip(before[1], starts):
            if not done:
                adds.setdefault(notes[n][2], []).append("tied:start")
                notes[n][3].add("tied:start")
        for n, done in zip(members, stops):
            if not done:   # a stop goes before any start of the same note
                end = notes[n][2]
                at = next((j for j in range(notes[n][4] + 1, end) if seq[j] == "tied:start"), end)
                adds.setdefault(at, []).append("tied:stop")
                notes[n][3].add("tied:stop")
    return _insert(seq, adds)


def pair_pedals(seq: list[str]) -> list[str]:
    """A staff's symbols without the pedal marks that do not pair up in it: a ``pedal:stop`` with no start
    before it, a ``pedal:start`` with no stop after it (a start while down is a change: both kept)."""
    keep = [True] * len(seq)
    down: int | None = None
    for k, s in enumerate(seq):
        if s == "pedal:start":
            down = k
        elif s == "pedal:stop":
            if down is None:
                keep[k] = False
            down = None
    if down is not None:
        keep[down] = False
    return [s for s, kept in zip(seq, keep) if kept]


def drop_dangling_ends(tokens: list[str], first: bool, last: bool) -> list[str]:
    """A read system's LMX without the tie and slur ends that can have no partner in the score: a stop in the
    score's first measure with no start before it (``first``), a start in its last measure with no stop after
    it (``last``). Nothing is drawn for them on any page, and a notation program drops them."""
    from model.tokenizers.lmx import unpaired_curve_ends

    bars = [k for k, t in enumerate(tokens) if t == "measure"]
    opening = bars[1] if len(bars) > 1 else len(tokens)
    closing = bars[-1] if bars else 0
    drop = {k for k in unpaired_curve_ends(tokens)
            if (first and k < opening and tokens[k].endswith(":stop"))
            or (last and k >= closing and tokens[k].endswith(":start"))}
    return [t for k, t in enumerate(tokens) if k not in drop]
