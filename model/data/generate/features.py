"""Notation features of a score, counted (for tests and the dataset card)."""

from __future__ import annotations

from collections import Counter


def count_features(score) -> Counter:
    """Count notation features of a score (for tests and the dataset card)."""
    from music21 import chord, clef, dynamics, expressions, key, meter, note, spanner, stream

    c: Counter = Counter()
    for part in score.parts:
        c["staves"] += 1
        for m in part.getElementsByClass(stream.Measure):
            c["measures"] += 1
            if m.voices:
                c["measures_with_voices"] += 1
                c["voices"] += len(m.voices)
            for el in m.recurse():
                if isinstance(el, note.GeneralNote):
                    if el.duration.isGrace:
                        c["grace_notes"] += 1
                        continue
                    if isinstance(el, note.Rest):
                        c["rests"] += 1
                    else:
                        c["notes"] += 1
                    if isinstance(el, chord.Chord):
                        c["chords"] += 1
                    if el.duration.tuplets:
                        c["tuplet_notes"] += 1
                    if el.duration.dots:
                        c["dotted"] += 1
                    if getattr(el, "tie", None) is not None and el.tie.type in ("start", "continue"):
                        c["ties"] += 1
                    for p in getattr(el, "pitches", ()):
                        if p.accidental is not None and p.accidental.displayStatus:
                            c["accidentals"] += 1
                            if p.accidental.name == "natural" or p.accidental.displayStyle == "parentheses":
                                c["naturals_or_cautionary"] += 1
                    for e in el.expressions:
                        if isinstance(e, expressions.Fermata):
                            c["fermatas"] += 1
                        elif isinstance(e, (expressions.Trill, expressions.GeneralMordent, expressions.Turn)):
                            c["ornaments"] += 1
                    c["articulations"] += len(el.articulations)
                elif isinstance(el, clef.Clef) and m.number > 1:
                    c["clef_changes"] += 1
                elif isinstance(el, key.KeySignature) and m.number > 1:
                    c["key_changes"] += 1
                elif isinstance(el, meter.TimeSignature) and m.number > 1:
                    c["time_changes"] += 1
                elif isinstance(el, dynamics.Dynamic):
                    c["dynamics"] += 1
        for sp in part.spanners:
            if isinstance(sp, spanner.Slur):
                c["slurs"] += 1
            elif isinstance(sp, dynamics.DynamicWedge):
                c["wedges"] += 1
    if len(score.parts) == 1:
        c["single_staff_pieces"] += 1
    return c
