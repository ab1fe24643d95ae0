"""MIDI -> notation: the baseline quantiser (music21), used until the model does better.

The result is a valid score: measures, a time signature, a key estimate, notes split across bar
lines with ties, and two staves when the music spans both hands.
"""

from __future__ import annotations

import io
from typing import Optional

from model.errors import UnimtError
from model.io.types import Midi, Notation
from model.progress import ProgressFn, as_reporter

QUARTER_DIVISORS = (4, 3)  # sixteenths and eighth-note triplets


def midi_to_notation(midi: Midi, progress: Optional[ProgressFn] = None, title: Optional[str] = None) -> Notation:
    """Quantise MIDI into a score with music21 (grid of sixteenths and triplets)."""
    from music21 import converter, key, metadata, stream

    report = as_reporter(progress)
    report(0, 3, "quantising")
    buf = io.BytesIO()
    pm = midi.pm
    if not any(inst.notes for inst in pm.instruments):
        raise UnimtError("the MIDI has no notes to write as a score", midi.source)
    pm.write(buf)
    try:
        score = converter.parseData(buf.getvalue(), format="midi", quantizePost=True,
                                    quarterLengthDivisors=QUARTER_DIVISORS)
    except Exception as exc:
        raise UnimtError(f"cannot quantise this MIDI ({type(exc).__name__}: {exc})", midi.source) from None
    report(1, 3, "making notation")
    if not isinstance(score, stream.Score):
        wrapped = stream.Score()
        wrapped.insert(0, score)
        score = wrapped
    try:
        k = score.analyze("key")
        for part in score.parts:
            if not part.recurse().getElementsByClass(key.KeySignature):
                first = part.getElementsByClass(stream.Measure).first()
                if first is not None:
                    first.insert(0, key.KeySignature(k.sharps))
    except Exception:
        pass  # no key is better than a failure
    score.metadata = score.metadata or metadata.Metadata()
    if title:
        score.metadata.title = title
    try:
        score = score.makeNotation()
    except Exception:
        pass
    report(3, 3, "making notation")
    return Notation(score, source=None)
