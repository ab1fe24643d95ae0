"""Pitches as the page draws them under an octave clef, and back.

A treble clef with a small 8 below it (``clef:G2-8``, the tenor's clef in choral scores) sounds an octave
below where its notes stand; ``clef:G2+8``, ``clef:F4-8`` and the others move by their own octaves. A staff
reader that must label the notes of such a staff with the pitches they sound has to carry the small 8 at the
staff's opening across every note after it: a global change that it learns slowly, and that unlearns the
plain treble staves while it does (reader18 and reader19, README). Read as drawn, the notes are labelled by
where they stand, as under the plain clef, and only the clef's own glyph differs: a local symbol like any
other. :func:`as_drawn` rewrites one staff's symbol sequence (:func:`model.tokenizers.staff_symbols.
staff_sequences`) so; :func:`as_sounding` is its inverse, applied to what the reader reads before the
system's LMX is assembled.
"""

from __future__ import annotations

import re

from model.tokenizers.lmx_vocab import CLEFS

_PITCH = re.compile(r"^([A-G])(\d)$")


def _moved(seq: list[str], sign: int) -> list[str]:
    out, octaves = [], 0
    for s in seq:
        if s in CLEFS:
            octaves = CLEFS[s][2]
        elif octaves and (m := _PITCH.match(s)):
            octave = int(m.group(2)) + sign * octaves
            s = f"{m.group(1)}{octave}" if 0 <= octave <= 9 else s
        out.append(s)
    return out


def as_drawn(seq: list[str]) -> list[str]:
    """One staff's symbols with each pitch after an octave clef written where it stands on the staff (a
    ``G2-8`` staff's sounding C4 is drawn as a treble clef's C5)."""
    return _moved(seq, -1)


def as_sounding(seq: list[str]) -> list[str]:
    """The inverse of :func:`as_drawn`: pitches read where they stand, given the octaves their clef sounds."""
    return _moved(seq, 1)
