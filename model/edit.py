"""Editing the notes of a MIDI performance: add, delete, move, lengthen and change the velocity of one note.

Every edit is a pure function: it returns a new :class:`model.io.types.Midi` and leaves the one given as it
was, so an editor keeps the old and new objects for undo and redo. A note is named by a :data:`NoteRef`,
(track, index in ``pm.instruments[track].notes``); :func:`note_ref` and :func:`note_row` turn it into and
from its row in the flat order every track's notes come in (the piano roll's order, and the order of
``Midi.note_confidence``). Times snap to a grid when one is given (:func:`snap_grid`: sixteenths and
triplet eighths of the file's own beats), so an edited score-made file stays on its beat grid.
"""

from __future__ import annotations

import copy
from typing import Iterable, Optional, Sequence

import numpy as np

from model.errors import BadInputError
from model.io.types import Midi

NoteRef = tuple[int, int]
DEFAULT_VELOCITY = 80
DEFAULT_LENGTH_S = 0.5      # a new note's length when the beat is not known
MIN_LENGTH_S = 0.02         # no note is shorter than this
MAX_TIME_S = 24 * 3600.0


# -- naming notes ----------------------------------------------------------------------------------

def note_count(midi: Midi) -> int:
    return sum(len(inst.notes) for inst in midi.pm.instruments)


def note_ref(midi: Midi, row: int) -> NoteRef:
    """The note in flat row ``row`` (every track's notes, track by track)."""
    k = int(row)
    if k >= 0:
        for t, inst in enumerate(midi.pm.instruments):
            if k < len(inst.notes):
                return t, k
            k -= len(inst.notes)
    raise BadInputError(f"there is no note {row + 1}: the piece has {note_count(midi)} notes")


def note_row(midi: Midi, ref: NoteRef) -> int:
    """The flat row of note ``ref`` (the inverse of :func:`note_ref`)."""
    track, index = _check(midi, ref)
    return sum(len(inst.notes) for inst in midi.pm.instruments[:track]) + index


def _check(midi: Midi, ref: NoteRef) -> NoteRef:
    track, index = int(ref[0]), int(ref[1])
    insts = midi.pm.instruments
    if not (0 <= track < len(insts) and 0 <= index < len(insts[track].notes)):
        raise BadInputError("that note is not in the piece (it may have been deleted)")
    return track, index


def _copy(midi: Midi) -> Midi:
    conf = list(midi.note_confidence) if midi.note_confidence is not None else None
    return Midi(copy.deepcopy(midi.pm), source=midi.source, note_confidence=conf)


# -- the grid and the beat -----------------------------------------------------------------------

def snap_grid(midi: Midi) -> Optional[np.ndarray]:
    """Sixteenths and triplet eighths of the file's own beats, when the file is on that grid (a score's
    MIDI, or a quantised one); None for a performance played by a person, whose times are kept as they are."""
    from model.quantize import on_the_grid

    pm = midi.pm
    if note_count(midi) == 0 or not on_the_grid(pm):
        return None
    beats = np.asarray(pm.get_beats(), dtype=np.float64)
    if len(beats) < 2:
        return None
    step = np.diff(beats)
    # on past the last note, at the last beat's length: a note can be added or moved after the end
    more = beats[-1] + step[-1] * np.arange(1, 65)
    beats = np.concatenate([beats, more])
    step = np.diff(beats)
    return np.unique(np.concatenate([beats[:-1] + step * k / d for d in (4, 3) for k in range(d)]))


def snap(t: float, grid: Optional[np.ndarray]) -> float:
    """``t`` moved to the nearest point of ``grid`` (unchanged when there is no grid)."""
    t = float(min(max(t, 0.0), MAX_TIME_S))
    if grid is None or len(grid) == 0:
        return t
    i = int(np.clip(np.searchsorted(grid, t), 1, len(grid) - 1))
    lo, hi = float(grid[i - 1]), float(grid[i])
    return lo if t - lo <= hi - t else hi


def beat_at(bars: Iterable, t: float, default: float = DEFAULT_LENGTH_S) -> float:
    """The length in seconds of the beat playing at ``t``, from bars (:class:`model.practice.Bar`); the
    default when no bar holds ``t``."""
    for bar in bars:
        if bar.start - 1e-6 <= t < bar.end and bar.beats:
            return float((bar.end - bar.start) / len(bar.beats))
    return float(default)


# -- edits ---------------------------------------------------------------------------------------

def delete_note(midi: Midi, ref: NoteRef) -> Midi:
    """The piece without note ``ref``."""
    track, index = _check(midi, ref)
    row = note_row(midi, ref)
    out = _copy(midi)
    del out.pm.instruments[track].notes[index]
    if out.note_confidence is not None and row < len(out.note_confidence):
        del out.note_confidence[row]
    return out


def add_note(midi: Midi, pitch: int, start: float, end: float, velocity: int = DEFAULT_VELOCITY,
             track: Optional[int] = None) -> tuple[Midi, NoteRef]:
    """The piece with one more note, and the new note's ref. ``track`` None: the pitched track whose notes
    lie nearest in pitch (a new track when there is none)."""
    import pretty_midi

    pitch = _pitch(pitch)
    start = float(min(max(start, 0.0), MAX_TIME_S))
    end = max(float(end), start + MIN_LENGTH_S)
    out = _copy(midi)
    insts = out.pm.instruments
    if track is None:
        track = _nearest_track(insts, pitch)
    if track is None or not 0 <= track < len(insts):
        insts.append(pretty_midi.Instrument(program=0, name="Piano"))
        track = len(insts) - 1
    insts[track].notes.append(pretty_midi.Note(velocity=_velocity(velocity), pitch=pitch, start=start,
                                               end=end))
    ref = (track, len(insts[track].notes) - 1)
    if out.note_confidence is not None:
        out.note_confidence.insert(note_row(out, ref), 1.0)     # a person placed it: no doubt
    return out, ref


def move_note(midi: Midi, ref: NoteRef, dt: float = 0.0, semitones: int = 0,
              grid: Optional[np.ndarray] = None) -> Midi:
    """Note ``ref`` moved by ``dt`` seconds (its start snapped to ``grid``) and ``semitones``; its length
    stays."""
    track, index = _check(midi, ref)
    out = _copy(midi)
    note = out.pm.instruments[track].notes[index]
    length = note.end - note.start
    start = snap(note.start + float(dt), grid) if dt else note.start
    note.start, note.end = start, start + length
    note.pitch = _pitch(note.pitch + int(semitones))
    return out


def resize_note(midi: Midi, ref: NoteRef, end: float, grid: Optional[np.ndarray] = None) -> Midi:
    """Note ``ref`` ending at ``end`` (snapped to ``grid``), never shorter than a short moment."""
    track, index = _check(midi, ref)
    out = _copy(midi)
    note = out.pm.instruments[track].notes[index]
    end = snap(float(end), grid)
    note.end = max(end, note.start + MIN_LENGTH_S)
    return out


def set_velocity(midi: Midi, ref: NoteRef, velocity: int) -> Midi:
    """Note ``ref`` played at ``velocity`` (1-127)."""
    track, index = _check(midi, ref)
    out = _copy(midi)
    out.pm.instruments[track].notes[index].velocity = _velocity(velocity)
    return out


def note_values(midi: Midi, ref: NoteRef) -> tuple[float, float, int, int]:
    """(start, end, pitch, velocity) of note ``ref``."""
    track, index = _check(midi, ref)
    n = midi.pm.instruments[track].notes[index]
    return float(n.start), float(n.end), int(n.pitch), int(n.velocity)


def _pitch(p) -> int:
    return int(min(max(int(round(p)), 0), 127))


def _velocity(v) -> int:
    return int(min(max(int(round(v)), 1), 127))


def _nearest_track(insts: Sequence, pitch: int) -> Optional[int]:
    best, key = None, None
    for t, inst in enumerate(insts):
        if inst.is_drum:
            continue
        d = min((abs(n.pitch - pitch) for n in inst.notes), default=127)
        if key is None or d < key:
            best, key = t, d
    return best
