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
"""

from __future__ import annotations

from model.tokenizers.staff_symbols import _BEAM_SET, _DUR_SYMS, _MARK_SET, _PITCH_SET, _VOICE_SYMS

_ATTACHED = _BEAM_SET | _MARK_SET | frozenset(_DUR_SYMS) | frozenset(_VOICE_SYMS)


def _notes(seq: list[str]) -> list[tuple[tuple[str, int], int, int, set[str]]]:
    """((pitch, voice), measure, end of its symbols, its marks) of every pitched note of a staff's symbols,
    in order; a chord member is in its head's voice."""
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
            out.append(((s, voice), measure, end, set(seq[k + 1:end])))
            k = end
            continue
        k += 1
    return out


def complete_ties(seq: list[str], reach: int = 1) -> list[str]:
    """A staff's symbols with each tie read at its end given its start (see the module's note)."""
    notes = _notes(seq)
    adds: dict[int, list[str]] = {}
    for n, (pitch, measure, _, marks) in enumerate(notes):
        if "tied:stop" in marks:
            before = next((m for m in range(n - 1, -1, -1) if notes[m][0] == pitch), None)
            if before is not None and measure - notes[before][1] <= reach \
                    and "tied:start" not in notes[before][3]:
                adds.setdefault(notes[before][2], []).append("tied:start")
                notes[before][3].add("tied:start")
    if not adds:
        return list(seq)
    out = []
    for k, s in enumerate(seq):
        out += adds.get(k, [])
        out.append(s)
    return out + adds.get(len(seq), [])


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
