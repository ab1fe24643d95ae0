"""LMX tokens -> MusicXML text (the delinearizer); the grammar is documented in :mod:`model.tokenizers.lmx`.

Decoding is forgiving: any sequence of vocabulary tokens gives well-formed partwise MusicXML that
music21 reads and writes back. Tokens that cannot be placed (a ``dot`` outside a note, a ``chord`` with no
note to join, a ``backup`` longer than the measure so far, a ``forward`` past the bar line and the notes)
are dropped or clipped; a part without a time signature gets a hidden 4/4 where music21 needs one; what
music21 could not write in an overfull measure moves within it (:class:`_BarLine`). It runs in two passes:
tokens -> per-measure, per-part events (:mod:`model.tokenizers.lmx_events`); then events -> XML with
divisions chosen so every duration is an integer (:mod:`model.tokenizers.lmx_part_writer`, with the rules for
durations and bar lines in :mod:`model.tokenizers.lmx_bar`).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from model.tokenizers.lmx_bar import _measure_lengths, _note_value, _sub
from model.tokenizers.lmx_events import _Note, _Parser, _Segment
from model.tokenizers.lmx_part_writer import _PartWriter
from model.tokenizers.lmx_vocab import (
    group_value,
    parse_ratio,
)


def _open_tuplets_of_128ths(segments: list[_Segment | None]) -> None:
    """Drop the ratio of the notes of a tuplet of 128ths left incomplete in its voice and measure.

    music21 completes such a tuplet by splitting the next note (or the rest it fills the voice with) in two,
    and the pieces have no note value that MusicXML can write.
    """
    for seg in segments:
        runs: dict[tuple[int, str], list[_Note]] = {}  # (staff, voice) -> its notes of one tuplet so far
        for ev in seg.events if seg else []:
            n = ev.note
            if ev.kind != "note" or n.chord or n.grace:
                continue
            key = (n.staff, n.voice)
            run = runs.get(key)
            if run and (run[0].type, run[0].ratio, run[0].dots) != (n.type, n.ratio, n.dots):
                _close_tuplet(runs.pop(key))
            if n.type == "128th" and n.ratio:
                runs.setdefault(key, []).append(n)
        for run in runs.values():
            _close_tuplet(run)


def _close_tuplet(notes: list[_Note]) -> None:
    """Drop the ratio of ``notes`` (one tuplet's, in a row) unless they fill whole tuplets."""
    first = notes[0]
    whole = group_value(first.type, None, first.dots) * parse_ratio(first.ratio)[1]
    if sum(group_value(n.type, n.ratio, n.dots) for n in notes) % whole:
        for n in notes:
            n.ratio = None


def _part_layout(segments: list[_Segment | None]) -> tuple[int, int]:
    """Return (divisions, staves) of one part."""
    den = 1
    staves = 1
    for seg, measure_len in zip(segments, _measure_lengths(segments)):
        if seg is None:
            continue
        values = [measure_len]  # the bar line (a forward may go to it)
        for ev in seg.events:
            if ev.kind == "note":
                values.append(_note_value(ev.note, measure_len))
                staves = max(staves, ev.note.staff)
            elif ev.kind in ("backup", "forward"):
                values += [group_value(t, r, d) for t, r, d in ev.data["groups"]]
            elif ev.kind in ("clef", "direction"):
                staves = max(staves, ev.data.get("staff", 1))
        for v in values:
            den = den * v.denominator // math.gcd(den, v.denominator)
    return den, staves


def _no_empty_grace_measures(part: ET.Element, div: int) -> None:
    """A measure of grace notes only (a model can write one) gets a quarter rest after them: grace
    notes need a note to lean on, and readers (music21) fail on a measure that lasts no time."""
    for m in part.findall("measure"):
        notes = m.findall("note")
        if notes and all(n.find("grace") is not None for n in notes) and m.find("forward") is None:
            rest = _sub(m, "note")
            _sub(rest, "rest")
            _sub(rest, "duration", str(div))
            _sub(rest, "voice", "1")
            _sub(rest, "type", "quarter")


def delinearize(tokens: list[str], title: str | None = None) -> str:
    """Turn LMX tokens into partwise MusicXML text (forgiving: see the module docstring).

    Args:
        tokens: LMX token strings, all in the vocabulary.
        title: the score's title (``movement-title``, what notation editors show), if any.

    Returns:
        MusicXML 4.0 text.
    """
    parser = _Parser()
    for tok in tokens:
        parser.feed(tok)
    measures = parser.measures or [[_Segment()]]
    n_parts = max(len(m) for m in measures)
    root = ET.Element("score-partwise", version="4.0")
    if title:
        _sub(root, "movement-title", title)
    part_list = _sub(root, "part-list")
    for p in range(n_parts):
        sp = _sub(part_list, "score-part", id=f"P{p + 1}")
        _sub(sp, "part-name", f"Part {p + 1}")
    for p in range(n_parts):
        segments = [m[p] if p < len(m) else None for m in measures]
        _open_tuplets_of_128ths(segments)
        div, staves = _part_layout(segments)
        part = _sub(root, "part", id=f"P{p + 1}")
        _PartWriter(segments, div, staves, True).write(part)
        _no_empty_grace_measures(part, div)
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
            '"http://www.musicxml.org/dtds/partwise.dtd">\n' + ET.tostring(root, encoding="unicode"))
