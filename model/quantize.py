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


def midi_to_notation(
    midi: Midi, progress: Optional[ProgressFn] = None, title: Optional[str] = None
) -> Notation:
    """Quantise MIDI into a score with music21 (grid of sixteenths and triplets)."""
    from music21 import converter, key, metadata, stream

    report = as_reporter(progress)
    report(0, 3, "quantising")
    buf = io.BytesIO()
    pm = midi.pm
    if not any(inst.notes for inst in pm.instruments):
        raise UnimtError("the MIDI has no notes to write as a score", midi.source)
    piano = _piano_hands(pm)
    (piano or pm).write(buf)
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
    if piano is not None and len(score.parts) == 2:
        score = _grand_staff(score)
    _pickup_as_bar_zero(score)
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


def _pickup_as_bar_zero(score) -> None:
    """A first bar shorter than the meter that follows it (how notation programs export a pickup: a bar
    with a time signature of its own length) becomes the pickup it was: bar 0, in the meter of the piece,
    so the bars keep their printed numbers."""
    from music21 import stream

    parts = list(score.parts)
    firsts = [list(p.getElementsByClass(stream.Measure))[:2] for p in parts]
    if not parts or any(len(ms) < 2 for ms in firsts):
        return
    pickup, meter = firsts[0][0].timeSignature, firsts[0][1].timeSignature
    if pickup is None or meter is None:
        return
    short = float(pickup.barDuration.quarterLength)
    full = float(meter.barDuration.quarterLength)
    if not 0 < short < full:
        return
    for p, (m0, m1) in zip(parts, firsts):
        if m0.timeSignature is not None:
            m0.remove(m0.timeSignature)
        ts = m1.timeSignature
        if ts is not None:
            m1.remove(ts)
            m0.insert(0, ts)
        m0.paddingLeft = full - short
        for m in p.getElementsByClass(stream.Measure):
            if isinstance(m.number, int):
                m.number -= 1


SPLIT_PITCH = 60  # middle C: notes from here up go to the upper staff when the hands are not given


def one_piano_track_both_hands(pm) -> bool:
    """True when the MIDI is one non-drum piano track (programs 0-7) with notes on both sides of middle C:
    the notation will split it into two hands at :data:`SPLIT_PITCH` (and the app colours it so)."""
    tracks = [i for i in pm.instruments if i.notes]
    if len(tracks) != 1 or tracks[0].is_drum or tracks[0].program > 7:
        return False
    pitches = [n.pitch for n in tracks[0].notes]
    return any(p >= SPLIT_PITCH for p in pitches) and any(p < SPLIT_PITCH for p in pitches)


def _piano_hands(pm):
    """A copy of a piano MIDI with exactly two tracks, upper and lower hand; None if it is not piano music.

    Piano music is one or two non-drum tracks with piano programs (0-7). Two tracks keep their notes
    (the higher one becomes the upper staff); one track is split at middle C.
    """
    import copy

    import pretty_midi

    tracks = [i for i in pm.instruments if i.notes]
    if not 1 <= len(tracks) <= 2 or any(i.is_drum or i.program > 7 for i in tracks):
        return None
    if len(tracks) == 2:
        upper, lower = sorted(tracks, key=lambda i: -sum(n.pitch for n in i.notes) / len(i.notes))
        hands = (list(upper.notes), list(lower.notes))
    else:
        if not one_piano_track_both_hands(pm):
            return None   # one hand only: a single staff is right
        notes = tracks[0].notes
        hands = ([n for n in notes if n.pitch >= SPLIT_PITCH], [n for n in notes if n.pitch < SPLIT_PITCH])
    out = copy.deepcopy(pm)
    out.instruments = []
    for name, notes in zip(("Piano upper", "Piano lower"), hands):
        inst = pretty_midi.Instrument(program=tracks[0].program, name=name)
        inst.notes = [copy.copy(n) for n in notes]
        inst.control_changes = [copy.copy(c) for c in tracks[0].control_changes]
        out.instruments.append(inst)
    return out


def _grand_staff(score):
    """Two quantised hand parts -> one piano part on two staves (a braced grand staff)."""
    from music21 import clef, instrument, layout, stream

    new = stream.Score()
    if score.metadata is not None:
        new.insert(0, score.metadata)
    staves = []
    for part, cl in zip(score.parts, (clef.TrebleClef(), clef.BassClef())):
        ps = stream.PartStaff()
        for el in part:
            if isinstance(el, instrument.Instrument):
                continue
            ps.insert(part.elementOffset(el), el)
        ps.insert(0, instrument.Piano())
        first = ps.getElementsByClass(stream.Measure).first()
        if first is not None:
            for old in first.getElementsByClass(clef.Clef):
                first.remove(old)
            first.insert(0, cl)
        staves.append(ps)
        new.insert(0, ps)
    new.insert(0, layout.StaffGroup(staves, name="Piano", abbreviation="Pno.", symbol="brace",
                                    barTogether=True))
    return new


def on_the_grid(pm, tolerance_s: float = 0.012, share: float = 0.9) -> bool:
    """Whether a MIDI file is already metrically clean (written out by a notation program or a sequencer's
    quantise): at least ``share`` of its note onsets lie within ``tolerance_s`` of a sixteenth or a triplet
    eighth of its own tempo map. The quantiser reads such a file almost exactly; a performance played by a
    person (timing off the grid by tens of milliseconds) is what the model is for."""
    import numpy as np

    onsets = np.array(sorted(n.start for inst in pm.instruments if not inst.is_drum for n in inst.notes))
    if len(onsets) == 0:
        return True
    beats = np.asarray(pm.get_beats(), dtype=np.float64)
    if len(beats) < 2:
        return False
    step = np.diff(beats)
    beats = np.concatenate([beats, beats[-1] + step[-1] * np.arange(1, 64)])   # past the last tempo event
    step = np.diff(beats)
    grid = np.unique(np.concatenate([beats[:-1] + step * k / d for d in (4, 3) for k in range(d)]))
    idx = np.clip(np.searchsorted(grid, onsets), 1, len(grid) - 1)
    dist = np.minimum(np.abs(onsets - grid[idx - 1]), np.abs(onsets - grid[idx]))
    return float(np.mean(dist <= tolerance_s)) >= share
