"""Practising with a piece: its bars and beats, its parts, and a rehearsal performance made from its MIDI.

A rehearsal is the same performance slowed down or sped up (every time scaled, so the pitch stays: it is
synthesised again, never resampled), transposed, and with chosen parts left out. The count-in is one bar
of clicks. Nothing here plays sound or knows about windows: it makes MIDI, audio and numbers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from model.errors import BadInputError
from model.io.types import Audio, Midi, Notation
from model.perform import expand_repeats, quarters_to_seconds, tempo_map
from model.progress import ProgressFn
from model.quantize import SPLIT_PITCH, one_piano_track_both_hands

MIN_TEMPO, MAX_TEMPO = 0.25, 2.0      # 25% to 200% of the written tempo
MAX_SEMITONES = 12
CLICK_HZ = (1760.0, 1320.0)           # the first beat of the bar is higher, as on a metronome
CLICK_SECONDS = 0.05
# the two spellings of each transposition (semitones up): the one giving the simpler key signature is used
INTERVALS = {0: ("P1",), 1: ("m2", "A1"), 2: ("M2", "d3"), 3: ("m3", "A2"), 4: ("M3", "d4"), 5: ("P4", "A3"),
             6: ("A4", "d5"), 7: ("P5", "d6"), 8: ("m6", "A5"), 9: ("M6", "d7"), 10: ("m7", "A6"),
             11: ("M7", "d8"), 12: ("P8",)}


@dataclass(frozen=True)
class Bar:
    """One bar as played: its start and end (seconds), its printed number, and its beats.

    ``beats`` holds (time in seconds, beat number within the bar); a pickup's beats carry the numbers
    they have in a full bar (a one-beat pickup in 4/4 is beat 4).
    """

    start: float
    end: float
    number: str
    beats: tuple[tuple[float, int], ...]

    def scaled(self, k: float) -> "Bar":
        """The same bar with every time multiplied by ``k`` (a rehearsal at tempo t plays it at 1/t)."""
        return Bar(self.start * k, self.end * k, self.number, tuple((t * k, b) for t, b in self.beats))


# -- bars and beats -------------------------------------------------------------------------------

def bars(obj) -> list[Bar]:
    """The bars of a score (printed numbers, repeats written out, its tempo marks) or of a MIDI file: a file
    on its beat grid (a notation program's, a sequencer's) by its time signatures and tempo changes, a
    pickup as bar 0; a played performance by the beats tracked through its rubato and the meter found, as
    the score writer (:mod:`model.notate`) finds them. Empty when there are none to find."""
    if isinstance(obj, Notation):
        return _score_bars(obj.score)
    if isinstance(obj, Midi):
        from model.quantize import on_the_grid

        played = not on_the_grid(obj.pm) and any(i.notes for i in obj.pm.instruments)
        heard = obj.note_confidence is not None      # a transcription: its meter found as the writer finds it
        return (_performance_bars(obj.pm, heard) if played else None) or _midi_bars(obj.pm)
    return []


def _performance_bars(pm, transcribed: bool = False) -> list[Bar]:
    """Bars on the beats of a played performance (:func:`model.notate.score.analyse` tracks them; the meter
    and the pickup from :func:`model.notate.meter.choose_meter`, weighed for heard notes when
    ``transcribed``, as the score writer weighs them), numbered from 1 (a pickup: 0); a last bar in which
    no note starts (the last sound ringing on) is left out. Empty when the beats cannot be found."""
    from model.notate.meter import choose_meter
    from model.notate.quantise import TPB
    from model.notate.score import analyse

    try:
        a = analyse(pm)
        beats = np.asarray(a["beats"], dtype=np.float64)
        period = float(np.median(np.diff(beats))) if beats.size > 1 else 0.5
        meter = choose_meter(a["on"], a["end"], a["notes"].pitch, a["notes"].velocity, a["divisions"], period,
                             transcribed)
    except Exception:
        return []
    per_bar = max(1, int(round(meter.bar_ticks / TPB)))
    pickup = int(round(meter.pickup_ticks / TPB)) % per_bar
    end = float(pm.get_end_time())
    if beats.size < 2:
        return []
    step = float(beats[-1] - beats[-2])
    while beats[-1] < end - 1e-6:          # beats on to the end of the last note
        beats = np.append(beats, beats[-1] + step)
    lines = list(range(pickup, len(beats) - 1, per_bar))
    starts = ([0] if pickup else []) + lines
    out = []
    for k, i in enumerate(starts):
        j = starts[k + 1] if k + 1 < len(starts) else len(beats) - 1
        first = per_bar - pickup if (pickup and k == 0) else 0      # a pickup's beats end the bar
        number = str(k if pickup else k + 1)
        out.append(Bar(float(beats[i]), float(beats[j]), number,
                       tuple((float(beats[i + b]), first + b + 1) for b in range(j - i))))
    onsets = [n.start for inst in pm.instruments for n in inst.notes]
    last = max(onsets, default=0.0)
    while len(out) > 1 and out[-1].start > last + 0.25 * step:   # no note starts in it: the last sound rings
        out.pop()
    return out


def _score_bars(score) -> list[Bar]:
    from music21 import meter

    try:
        written = list(score.parts[0].getElementsByClass("Measure"))
        played = expand_repeats(score)
        measures = list(played.parts[0].getElementsByClass("Measure"))
    except Exception:
        return []
    if not measures:
        return []
    suffixes = {(m.number, m.numberSuffix) for m in written}
    tempos = tempo_map(played)
    ts = meter.TimeSignature("4/4")
    out: list[Bar] = []
    last = 0
    for k, m in enumerate(measures):
        if m.timeSignature is not None:
            ts = m.timeSignature
        start_q = float(m.offset)
        length = float(m.duration.quarterLength) or float(ts.barDuration.quarterLength)
        beat = float(ts.beatDuration.quarterLength) or 1.0
        full = float(ts.barDuration.quarterLength) or length
        # a short first bar is a pickup: its beats are the last ones of a full bar
        shift = full - length if k == 0 and length < full else 0.0
        beat_q = [start_q + j * beat - shift for j in range(int(np.ceil((full - 1e-9) / beat)))]
        beat_q = [q for q in beat_q if start_q - 1e-9 <= q < start_q + length - 1e-9]
        nums = [int(round((q - start_q + shift) / beat)) + 1 for q in beat_q]
        times = quarters_to_seconds([start_q, start_q + length, *beat_q], tempos)
        number = m.number if isinstance(m.number, int) and (m.number or not out) else last + 1
        last = number
        suffix = m.numberSuffix if (m.number, m.numberSuffix) in suffixes else None
        out.append(Bar(times[0], times[1], f"{number}{suffix or ''}", tuple(zip(times[2:], nums))))
    return out


def _midi_bars(pm) -> list[Bar]:
    end = float(pm.get_end_time())
    if end <= 0:
        return []
    try:
        downbeats = [float(t) for t in pm.get_downbeats() if t < end]
        beats = [float(t) for t in pm.get_beats() if t < end]
    except Exception:
        return []
    out = []
    for i, start in enumerate(downbeats):
        stop = downbeats[i + 1] if i + 1 < len(downbeats) else max(end, start + 1e-3)
        inside = [t for t in beats if start - 1e-6 <= t < stop - 1e-6]
        out.append(Bar(start, stop, str(i + 1), tuple((t, j + 1) for j, t in enumerate(inside))))
    if len(out) > 1 and 0 < len(out[0].beats) < len(out[1].beats):
        # a first bar shorter than the next is a pickup (a notation program's export): bar 0, its beats the
        # last ones of a full bar
        pad = len(out[1].beats) - len(out[0].beats)
        out = [Bar(b.start, b.end, str(i), tuple((t, k + pad) for t, k in b.beats) if i == 0 else b.beats)
               for i, b in enumerate(out)]
    return out


# -- parts ----------------------------------------------------------------------------------------

def part_names(midi: Midi) -> list[str]:
    """The parts a musician can mute, in order: one per track, or the two hands of a one-track piano
    piece (split at middle C, as the score and the piano roll split them)."""
    return _parts(midi.pm)[0]


def note_parts(midi: Midi) -> list[np.ndarray]:
    """For each track, the part (an index into :func:`part_names`) of each of its notes."""
    return _parts(midi.pm)[1]


def _parts(pm) -> tuple[list[str], list[np.ndarray]]:
    names = []
    for k, inst in enumerate(pm.instruments):
        name = inst.name.strip() if inst.name and inst.name.strip() else None
        names.append(name or ("Drums" if inst.is_drum else f"Track {k + 1}"))
    seen: dict[str, int] = {}
    original = list(names)
    for k, name in enumerate(original):
        c = original.count(name)
        if c > 1:   # two "Piano" tracks are the two staves: upper and lower; more are numbered
            seen[name] = seen.get(name, 0) + 1
            names[k] = f"{name} ({('upper', 'lower')[seen[name] - 1]})" if c == 2 else f"{name} {seen[name]}"
    index = [np.full(len(inst.notes), k, dtype=np.int64) for k, inst in enumerate(pm.instruments)]
    if one_piano_track_both_hands(pm):
        k = pm.instruments.index(next(i for i in pm.instruments if i.notes))
        index = [np.array([0 if n.pitch >= SPLIT_PITCH else 1 for n in inst.notes], dtype=np.int64)
                 for inst in pm.instruments]
        names = [f"{names[k]} (upper)", f"{names[k]} (lower)"]
    return names, index


# -- the rehearsal --------------------------------------------------------------------------------

def check_tempo(tempo: float) -> float:
    if not MIN_TEMPO - 1e-9 <= tempo <= MAX_TEMPO + 1e-9:
        raise BadInputError(f"the tempo must be between {MIN_TEMPO:.0%} and {MAX_TEMPO:.0%}")
    return float(tempo)


def check_semitones(semitones: int) -> int:
    if not -MAX_SEMITONES <= int(semitones) <= MAX_SEMITONES:
        raise BadInputError(f"transposition goes at most {MAX_SEMITONES} semitones up or down")
    return int(semitones)


def rehearsal(midi: Midi, tempo: float = 1.0, semitones: int = 0, muted: Iterable[int] = ()) -> Midi:
    """The performance at ``tempo`` times its speed (0.5 plays it in twice the time), every pitched note
    moved by ``semitones`` (drums stay), and the parts in ``muted`` (see :func:`part_names`) left out.
    The MIDI given is not changed."""
    k = 1.0 / check_tempo(tempo)
    semitones = check_semitones(semitones)
    muted = set(int(m) for m in muted)
    pm = copy.deepcopy(midi.pm)
    for inst, where in zip(pm.instruments, _parts(pm)[1]):
        kept = []
        for note, part in zip(inst.notes, where):
            if int(part) in muted:
                continue
            if not inst.is_drum:
                note.pitch += semitones
                if not 0 <= note.pitch <= 127:
                    continue
            kept.append(note)
        inst.notes = kept
    if k != 1.0:
        # every time scales, the tempo map with it: beats and bars (get_beats) still land on the notes
        end = max(float(pm.get_end_time()), 1.0) + 1.0
        pm.adjust_times([0.0, end], [0.0, end * k])
    return Midi(pm, None)


def transpose(obj, semitones: int):
    """A copy of a score or a MIDI file ``semitones`` higher (lower when negative). A score is transposed
    by music21 (key signatures and spelling follow); a MIDI file moves every pitched note."""
    semitones = check_semitones(semitones)
    if isinstance(obj, Notation):
        if not semitones:
            return Notation(copy.deepcopy(obj.score), obj.source)
        return Notation(obj.score.transpose(spelled_interval(obj.score, semitones)), obj.source)
    if isinstance(obj, Midi):
        return Midi(rehearsal(obj, 1.0, semitones).pm, obj.source)
    raise BadInputError("only a score or MIDI can be transposed; a recording is transposed through its MIDI")


def spelled_interval(score, semitones: int) -> str:
    """The interval (music21's name, "-" going down) that moves ``score`` by ``semitones`` into the key with
    the fewest sharps or flats: up 2 from F sharp minor is G sharp minor (M2, five sharps), not A flat minor
    (d3, seven flats)."""
    from music21 import interval

    sign = "-" if semitones < 0 else ""
    names = [sign + n for n in INTERVALS[abs(int(semitones))]]
    keys = list(score.recurse().getElementsByClass("KeySignature"))[:8]

    def accidentals(name: str) -> int:
        i = interval.Interval(name)
        try:
            return max((abs(k.transpose(i).sharps) for k in keys), default=0)
        except Exception:
            return 99
    return min(names, key=accidentals)


def rehearse(
    midi: Midi,
    tempo: float = 1.0,
    semitones: int = 0,
    muted: Iterable[int] = (),
    soundfont: Optional[str | Path] = None,
    progress: Optional[ProgressFn] = None,
    should_stop=None,
) -> tuple[Midi, Audio]:
    """The rehearsal's MIDI (:func:`rehearsal`) and its sound, synthesised again with FluidSynth."""
    from model.synth import midi_to_audio

    played = rehearsal(midi, tempo, semitones, muted)
    return played, midi_to_audio(played, soundfont, progress=progress, should_stop=should_stop)


def click_track(beats: int, beat_seconds: float, sample_rate: int = 44100, channels: int = 2) -> np.ndarray:
    """One bar of metronome clicks: ``beats`` clicks ``beat_seconds`` apart (the first one higher), as
    float32 samples of shape (beats * beat_seconds * sample_rate, channels)."""
    beats = max(1, int(beats))
    step = max(1, int(round(beat_seconds * sample_rate)))
    out = np.zeros((beats * step, max(1, channels)), np.float32)
    n = min(step, int(CLICK_SECONDS * sample_rate))
    t = np.arange(n) / float(sample_rate)
    envelope = np.exp(-t / (CLICK_SECONDS / 5))
    for b in range(beats):
        click = 0.6 * envelope * np.sin(2 * np.pi * CLICK_HZ[0 if b == 0 else 1] * t)
        out[b * step:b * step + n] += click[:, None].astype(np.float32)
    return out
