"""The performance -> score route end to end (see :mod:`model.notate`)."""

from __future__ import annotations

import itertools

import numpy as np

from model.errors import BadInputError, LimitError
from model.io.types import Notation
from model.notate.assemble import Event, Part, Staff, build_score
from model.notate.beats import Notes, beat_times, group_onsets
from model.notate.hands import needs_two_staves, single_clef, split_hands
from model.notate.key import key_signature
from model.notate.meter import choose_meter
from model.notate.quantise import TPB, legato_ends, quantise
from model.notate.voices import MAX_VOICES, count_voices, separate
from model.progress import ProgressFn, as_reporter

MAX_NOTES = 100_000  # more than any piano piece; beyond it the file is not a performance
MAX_HELD_S = 20.0  # a note held longer is written as if released after this
MAX_MEASURES = 3000


def _tracks(pm) -> list:
    return [inst for inst in pm.instruments if not inst.is_drum and inst.notes]


def describe_route(pm) -> str:
    """How a MIDI file will be written as a score (for ``-v``)."""
    tracks = _tracks(pm)
    if len(tracks) == 1:
        return "one track: beats, meter and key from the notes, hands split by pitch and continuity"
    return f"{len(tracks)} tracks: each kept as its own staff on one shared beat grid"


def collect_notes(pm, source=None) -> Notes:
    """The pitched notes of every non-drum track as arrays, sorted, with held notes and duplicates tamed."""
    tracks = _tracks(pm)
    rows = [(n.pitch, n.start, n.end, n.velocity, k) for k, inst in enumerate(tracks) for n in inst.notes]
    if not rows:
        raise BadInputError("the MIDI has no notes to write as a score", source)
    if len(rows) > MAX_NOTES:
        raise LimitError(
            f"the MIDI has {len(rows):,} notes; at most {MAX_NOTES:,} can be written as a score", source
        )
    arr = np.array(rows, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise BadInputError("the MIDI has notes at impossible times", source)
    arr = arr[np.lexsort((arr[:, 0], arr[:, 1]))]
    start = np.maximum(arr[:, 1], 0.0)
    last = float(start.max())
    end = np.minimum(
        np.maximum(arr[:, 2], start + 0.03), np.minimum(start + MAX_HELD_S, last + MAX_HELD_S / 2)
    )
    notes = Notes(
        arr[:, 0].astype(np.int64), start, end, arr[:, 3].astype(np.int64), arr[:, 4].astype(np.int64)
    )
    # one key struck twice within 20 ms (a doubled event) is one note
    keep = np.ones(len(notes), dtype=bool)
    seen: dict = {}
    for i in range(len(notes)):
        k = (int(notes.track[i]), int(notes.pitch[i]))
        if k in seen and notes.start[i] - notes.start[seen[k]] < 0.02:
            keep[i] = False
            notes.end[seen[k]] = max(notes.end[seen[k]], notes.end[i])
        else:
            seen[k] = i
    return notes.take(np.nonzero(keep)[0])


def _voices(pitch, on, end) -> np.ndarray:
    """Voices of one staff's notes: two lines when it has two, else one voice (notes together are chords)."""
    if on.size >= 4 and count_voices(on, end, TPB // 4) == 2:
        return separate(pitch, on, end, 2)
    return np.zeros(on.size, dtype=np.int64)


def _events(pitch, on, end) -> list:
    """Notes of one voice -> events (notes struck together are one chord, ending with its longest note)."""
    out = []
    for t in np.unique(on):
        sel = on == t
        out.append(Event(int(t), int(end[sel].max()), tuple(sorted({int(p) for p in pitch[sel]}))))
    for a, b in itertools.pairwise(out):
        a.end = min(a.end, b.on)
    return out


def analyse(pm, source=None, report=None) -> dict:
    """Everything but the meter, key and writing: notes, onsets, beats, quantised onsets and ends, staves,
    voices."""
    report = report or (lambda *_: None)
    report(0, 5, "finding the beat")
    notes = collect_notes(pm, source)
    onsets = group_onsets(notes)
    beats = beat_times(notes, onsets)
    report(1, 5, "quantising")
    on, end, divisions = quantise(notes, onsets, beats)
    if int(on.max()) // TPB > MAX_MEASURES * 4:
        raise LimitError(f"the performance is longer than {MAX_MEASURES} measures", source)
    tracks = sorted({int(t) for t in notes.track})
    report(2, 5, "hands and voices")
    lines, voice = False, np.zeros(len(notes), dtype=np.int64)
    if len(tracks) == 1:
        k = count_voices(on, end, TPB // 4)
        if needs_two_staves(notes.pitch, k):
            lines = 2 <= k <= MAX_VOICES
            if lines:  # a few lines (a chorale, a motet): the upper half on the treble staff
                v = separate(notes.pitch, on, end, k)
                upper = (k + 1) // 2
                staff = (v >= upper).astype(np.int64)
                voice = v - upper * staff
            else:
                staff = split_hands(notes.pitch, onsets.group)
            clefs = ["treble", "bass"]
        else:
            staff = np.zeros(len(notes), dtype=np.int64)
            clefs = [single_clef(notes.pitch)]
        layout = [("Piano", list(range(len(clefs))))]
    else:
        means = {t: float(notes.pitch[notes.track == t].mean()) for t in tracks}
        staff = np.array([tracks.index(int(t)) for t in notes.track], dtype=np.int64)
        clefs = [single_clef(notes.pitch[notes.track == t]) for t in tracks]
        layout = _multi_layout(pm, tracks, means)
    if not lines:
        for s in range(len(clefs)):
            sel = np.nonzero(staff == s)[0]
            voice[sel] = _voices(notes.pitch[sel], on[sel], end[sel])
        # one track a staff, a staff of two lines: the staves are a reduction's, written as lines
        lines = len(tracks) > 1 and bool(voice.max(initial=0) > 0)
    end = legato_ends(on, end, staff * 4 + voice)
    return {
        "notes": notes,
        "beats": beats,
        "on": on,
        "end": end,
        "divisions": divisions,
        "staff": staff,
        "voice": voice,
        "clefs": clefs,
        "layout": layout,
        "lines": lines,
    }


def performance_to_score(
    pm, title: str | None = None, progress: ProgressFn | None = None, source=None, transcribed: bool = False
) -> tuple[Notation, dict]:
    """Write a performance (a ``PrettyMIDI``) as a score. Returns the notation and what was found
    (route, meter, key, beats per minute, measures). ``transcribed``: the notes were heard in a recording
    (their ends are less sure than a played MIDI file's)."""
    report = as_reporter(progress)
    a = analyse(pm, source, report)
    notes, on, end, staff, voice, beats = a["notes"], a["on"], a["end"], a["staff"], a["voice"], a["beats"]
    report(3, 5, "meter and key")
    period = float(np.median(np.diff(beats))) if beats.size > 1 else 0.5
    meter = choose_meter(on, end, notes.pitch, notes.velocity, a["divisions"], period, transcribed)
    fifths = key_signature(notes.pitch, notes.end - notes.start, notes.start)
    staves = []
    for s, clef in enumerate(a["clefs"]):
        st = Staff(clef, lines=a["lines"])
        for v in range(int(voice.max()) + 1 if voice.size else 1):
            sel = (staff == s) & (voice == v)
            if np.any(sel):
                st.voices.append(_events(notes.pitch[sel], on[sel], end[sel]))
        if not st.voices:
            st.voices.append([])
        staves.append(st)
    parts = [Part(name, [staves[i] for i in idx]) for name, idx in a["layout"]]
    report(4, 5, "writing the score")
    score = build_score(parts, meter, fifths, title)
    info = {
        "route": describe_route(pm),
        "meter": meter.label,
        "key_fifths": fifths,
        "pickup_beats": meter.pickup_beats,
        "bpm": round(60.0 / period * float(meter.beat_ql), 1),
        "measures": len(score.parts[0].getElementsByClass("Measure")) if score.parts else 0,
    }
    report(5, 5, "writing the score")
    return Notation(score, source=None), info


def _multi_layout(pm, tracks: list, means: dict) -> list:
    """Parts of a multi-track file: two piano tracks are one grand staff (the higher on top); every other
    track is its own part, in the file's order."""
    insts = _tracks(pm)
    if len(tracks) == 2 and all(insts[t].program <= 7 for t in tracks):
        hi, lo = sorted(range(2), key=lambda i: -means[tracks[i]])
        return [("Piano", [hi, lo])]
    out = []
    for i, t in enumerate(tracks):
        name = insts[t].name.strip() or ("Piano" if insts[t].program <= 7 else f"Part {i + 1}")
        out.append((name[:40], [i]))
    return out
