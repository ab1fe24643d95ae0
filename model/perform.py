"""Notation -> MIDI: repeats expanded, tempo marks and dynamics honoured.

The MIDI is written in quarter-note ticks (960 per quarter) with a tempo map, so notation editors
and DAWs read the same beats the score has. One track per part.
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from model.errors import LimitError, UnimtError, limit_text
from model.io.formats import MAX_MEASURES
from model.io.types import Midi, Notation

TICKS_PER_QUARTER = 960
DEFAULT_BPM = 120.0  # the MIDI default, and music21's
DEFAULT_VELOCITY = 80


@dataclass(frozen=True)
class ScoreNote:
    """One sounding note of a score, in quarter notes from the start (after repeats)."""

    part: int
    pitch: int
    onset: Fraction
    duration: Fraction
    velocity: int


def expand_repeats(score):
    """The score with repeats and endings written out (the score itself if it has none or they are
    malformed)."""
    from music21 import bar, repeat, spanner

    has_repeats = any(True for _ in score.recurse().getElementsByClass((bar.Repeat, repeat.RepeatExpression)))
    has_endings = any(True for _ in score.recurse().getElementsByClass(spanner.RepeatBracket))
    if not (has_repeats or has_endings):
        return score
    check_repeats(score)
    try:
        return score.expandRepeats()
    except Exception:  # music21 refuses inconsistent repeats; play the score as written
        return score


def check_repeats(score, path=None) -> None:
    """Refuse a score whose repeats make it longer than :data:`MAX_MEASURES` measures, before music21 (or
    Verovio) copies a measure a million times."""
    longest = max((expanded_measures(part) for part in score.parts), default=0)
    if longest > MAX_MEASURES:
        raise LimitError(
            f"the repeats make this score {limit_text(longest)} measures long; at most "
            f"{limit_text(MAX_MEASURES)} are supported",
            path,
        )


def expanded_measures(part) -> int:
    """How many measures ``part`` plays with its repeats written out, at most (counted, not expanded): each
    section closed by a backward repeat plays ``times`` times; a da capo or dal segno plays it all once
    more."""
    from music21 import bar, repeat

    total = section = 0
    jumps = False
    for m in part.getElementsByClass("Measure"):
        if isinstance(m.leftBarline, bar.Repeat) and m.leftBarline.direction == "start":
            section = 0
        total += 1
        section += 1
        jumps = jumps or any(
            isinstance(
                e,
                (
                    repeat.DaCapo,
                    repeat.DalSegno,
                    repeat.DaCapoAlFine,
                    repeat.DaCapoAlCoda,
                    repeat.DalSegnoAlFine,
                    repeat.DalSegnoAlCoda,
                ),
            )
            for e in m.getElementsByClass(repeat.RepeatExpression)
        )
        right = m.rightBarline
        if isinstance(right, bar.Repeat) and right.direction == "end":
            times = right.times if isinstance(right.times, int) and right.times > 0 else 2
            total += section * (times - 1)
            section = 0
    return total * 2 if jumps else total


def _velocity_timeline(part) -> tuple[list[float], list[int]]:
    from music21 import dynamics

    times, vels = [], []
    for d in part.flatten().getElementsByClass(dynamics.Dynamic):
        scalar = d.volumeScalar
        if scalar is None:
            continue
        times.append(float(d.offset))
        vels.append(max(1, min(127, round(scalar * 127))))
    return times, vels


def score_notes(score, expand: bool = True) -> list[ScoreNote]:
    """The sounding notes of a score (ties merged, grace notes left out), sorted by onset."""
    if expand:
        score = expand_repeats(score)
    notes: set[ScoreNote] = set()
    for p, part in enumerate(score.parts):
        times, vels = _velocity_timeline(part)
        open_ties: dict[int, list] = {}  # midi pitch -> [onset, duration, velocity]
        for el in part.flatten().notes:
            if el.duration.isGrace or el.duration.quarterLength <= 0:
                continue
            onset = Fraction(el.offset).limit_denominator(10000)
            dur = Fraction(el.duration.quarterLength).limit_denominator(10000)
            vol = el.volume
            if vol.velocityScalar is not None and vol.velocity is not None:
                velocity = int(vol.velocity)
            else:
                i = bisect.bisect_right(times, float(onset)) - 1
                velocity = vels[i] if i >= 0 else DEFAULT_VELOCITY
            velocity = max(1, min(127, velocity))
            members = el.notes if el.isChord else [el]
            for member in members:
                midi = int(member.pitch.midi)
                if not 0 <= midi <= 127:
                    continue
                tie = member.tie or (el.tie if el.isChord else None)
                kind = tie.type if tie is not None else None
                held = open_ties.get(midi)
                # a tie start held into the next note of its pitch joins it, as music21's stripTies reads
                # files that forget a tie's stop (the chain ends there) or write "start" for "continue"
                if held is not None and held[0] + held[1] == onset:
                    held[1] += dur
                    if kind not in ("start", "continue"):
                        notes.add(ScoreNote(p, midi, held[0], held[1], held[2]))
                        del open_ties[midi]
                    continue
                if held is not None:  # a tie that never arrived: end the held note where it was
                    notes.add(ScoreNote(p, midi, held[0], held[1], held[2]))
                    del open_ties[midi]
                if kind in ("start", "continue"):
                    open_ties[midi] = [onset, dur, velocity]
                else:
                    notes.add(ScoreNote(p, midi, onset, dur, velocity))
        for midi, (onset, dur, velocity) in open_ties.items():
            notes.add(ScoreNote(p, midi, onset, dur, velocity))
    return sorted(notes, key=lambda n: (n.onset, n.part, n.pitch, n.duration))


def tempo_map(score) -> list[tuple[Fraction, float]]:
    """(quarter offset, quarter-note BPM) changes; starts at 0."""
    from music21 import tempo

    changes: dict[Fraction, float] = {}
    for mm in score.flatten().getElementsByClass(tempo.MetronomeMark):
        try:
            bpm = mm.getQuarterBPM()
        except Exception:
            bpm = None
        if bpm and 10 <= bpm <= 400:
            changes.setdefault(Fraction(mm.offset).limit_denominator(10000), float(bpm))
    if 0 not in changes:
        first = changes[min(changes)] if changes else DEFAULT_BPM
        changes[Fraction(0)] = first
    return sorted(changes.items())


def quarters_to_seconds(offsets, tempos: list[tuple[Fraction, float]]) -> list[float]:
    """Quarter-note offsets -> seconds under a tempo map (from :func:`tempo_map`): the one tempo walk
    that playback, the app's playing-measure highlight and the corpus checks share."""
    out = []
    for q in offsets:
        q = float(q)
        secs, prev_q, prev_bpm = 0.0, 0.0, tempos[0][1] if tempos else DEFAULT_BPM
        for at, bpm in tempos[1:]:
            at = float(at)
            if at >= q:
                break
            secs += (at - prev_q) * 60.0 / prev_bpm
            prev_q, prev_bpm = at, bpm
        out.append(secs + (q - prev_q) * 60.0 / prev_bpm)
    return out


def notation_to_midi(notation: Notation, expand: bool = True) -> Midi:
    """Perform a score as MIDI: one track per part, tempo map, velocities from dynamics."""
    import mido

    from model.io.midi import read_midi_bytes

    score = notation.score
    try:
        played = expand_repeats(score) if expand else score
        notes = score_notes(played, expand=False)
        tempos = tempo_map(played)
    except UnimtError as exc:
        raise type(exc)(exc.problem, exc.path or notation.source) from None
    except Exception as exc:
        raise UnimtError(
            f"cannot perform this score ({type(exc).__name__}: {exc})", notation.source
        ) from None

    def tick(q: Fraction) -> int:
        return int(round(q * TICKS_PER_QUARTER))

    _check_performance(notes, tempos, notation.source)
    mf = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("track_name", name="tempo", time=0))
    events = [
        (tick(q), mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)) for q, bpm in tempos
    ]
    events += [(tick(q), mido.MetaMessage("time_signature", numerator=n, denominator=d, time=0))
               for q, n, d in meter_map(played)]
    _append_abs(meta, events)
    mf.tracks.append(meta)

    for p, part in enumerate(played.parts):
        track = mido.MidiTrack()
        channel = p if p < 9 else p + 1
        channel %= 16
        inst = part.getInstrument(returnDefault=True)
        program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
        name = part.partName or (inst.instrumentName if inst else None) or f"Part {p + 1}"
        track.append(mido.MetaMessage("track_name", name=str(name)[:64], time=0))
        track.append(mido.Message("program_change", program=int(program) % 128, channel=channel, time=0))
        evs = []
        for n in notes:
            if n.part != p:
                continue
            start, end = tick(n.onset), tick(n.onset + n.duration)
            if end <= start:
                end = start + 1
            evs.append(
                (start, 1, mido.Message("note_on", note=n.pitch, velocity=n.velocity, channel=channel))
            )
            evs.append((end, 0, mido.Message("note_off", note=n.pitch, velocity=0, channel=channel)))
        evs.sort(key=lambda e: (e[0], e[1]))
        _append_abs(track, [(t, m) for t, _, m in evs])
        mf.tracks.append(track)

    buf = io.BytesIO()
    mf.save(file=buf)
    midi = read_midi_bytes(buf.getvalue())
    midi.source = None
    return midi


def meter_map(score) -> list[tuple[Fraction, int, int]]:
    """(quarter offset, numerator, denominator) for each time signature the performance starts a bar in,
    repeats written out. A pickup is written as a bar of its own length (one crotchet: 1/4), then the
    meter: how notation programs export an anacrusis, so the MIDI's bars fall where the score's do."""
    from music21 import meter

    try:
        measures = list(score.parts[0].getElementsByClass("Measure"))
    except Exception:
        return []
    out: list[tuple[Fraction, int, int]] = []
    ts, last = None, None
    for k, m in enumerate(measures):
        if m.timeSignature is not None:
            ts = m.timeSignature
        if ts is None:
            ts = meter.TimeSignature("4/4")
        sig = (int(ts.numerator), int(ts.denominator))
        length = Fraction(m.duration.quarterLength).limit_denominator(96)
        full = Fraction(ts.barDuration.quarterLength).limit_denominator(96)
        if k == 0 and 0 < length < full:
            for den in (sig[1], 8, 16, 32):
                num = length * den / 4
                if num.denominator == 1:
                    sig = (int(num), den)
                    break
        if sig != last:
            out.append((Fraction(m.offset).limit_denominator(96), *sig))
            last = sig
    return out


def _check_performance(notes: list[ScoreNote], tempos, source) -> None:
    """Refuse a performance past the notes or seconds unimt supports, before its MIDI is built."""
    from model.io.formats import MAX_NOTES, MAX_PERFORMED_SECONDS
    from model.io.midiscan import duration_text

    if len(notes) > MAX_NOTES:
        raise LimitError(
            f"the score plays {limit_text(len(notes))} notes; at most {limit_text(MAX_NOTES)} are supported",
            source,
        )
    end = max((n.onset + n.duration for n in notes), default=Fraction(0))
    seconds = quarters_to_seconds([end], tempos)[0]
    if seconds > MAX_PERFORMED_SECONDS:
        raise LimitError(
            f"the score plays for {duration_text(seconds)}; at most "
            f"{duration_text(MAX_PERFORMED_SECONDS)} are supported",
            source,
        )


def _append_abs(track, events) -> None:
    """Append (absolute tick, message) pairs as delta-timed messages, plus end_of_track."""
    import mido

    now = 0
    for t, msg in sorted(events, key=lambda e: e[0]):
        track.append(msg.copy(time=t - now))
        now = t
    track.append(mido.MetaMessage("end_of_track", time=0))


def midi_bytes(midi: Midi) -> bytes:
    buf = io.BytesIO()
    midi.pm.write(buf)
    return buf.getvalue()


def quarter_ticks(midi_data: bytes) -> Optional[int]:
    import mido

    return mido.MidiFile(file=io.BytesIO(midi_data)).ticks_per_beat
