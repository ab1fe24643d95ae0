"""Performance MIDI -> a readable score (model.notate): beats through rubato, meter, key, hands, voices,
the route by what the file is, and bad MIDI told in one line."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pretty_midi
import pytest

from model.errors import UnimtError
from model.notate import performance_to_score
from model.tokenizers.lmx import linearize


def _warp(beats: np.ndarray, swing: float = 0.3, seed: int = 0) -> np.ndarray:
    """Beat positions -> seconds under a tempo curve of +-``swing`` around 120 bpm, with a little jitter."""
    rng = np.random.default_rng(seed)
    b = np.arange(0.0, float(beats.max()) + 2.0, 0.01)
    rate = 1.0 + swing * np.sin(2 * np.pi * b / 16.0)  # slower and quicker by up to 30 %
    t = np.concatenate([[0.0], np.cumsum(0.5 * rate[:-1] * 0.01)])
    return np.interp(beats, b, t) + rng.normal(0.0, 0.006, size=beats.size)


def _waltz(bars: int = 12, swing: float = 0.3):
    """One piano track in G major, 3/4: a low bass note on each downbeat, chords on beats 2 and 3, and a
    melody in quarters and eighths above, played with a tempo curve."""
    rng = np.random.default_rng(3)
    scale = [67, 69, 71, 72, 74, 76, 78, 79]
    bass_roots = [43, 48, 50, 43]
    rows = []  # (beat, length, pitch, velocity)
    for bar in range(bars):
        root = bass_roots[bar % 4]
        rows.append((3 * bar, 1.0, root, 90))
        for beat in (1, 2):
            for p in (root + 12 + 4, root + 12 + 7):
                rows.append((3 * bar + beat, 0.9, p, 55))
        pos = 0.0
        while pos < 3.0:
            length = 1.0 if (pos == 0.0 or rng.random() < 0.5) else 0.5
            length = min(length, 3.0 - pos)
            rows.append((3 * bar + pos, length * 0.95, int(rng.choice(scale)), 80 if pos == 0 else 65))
            pos += length
    beats = np.array([r[0] for r in rows])
    ends = np.array([r[0] + r[1] for r in rows])
    on, off = _warp(beats, swing), _warp(ends, swing)
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0, name="Piano")
    for (_, _, p, v), a, b in zip(rows, on, off):
        inst.notes.append(pretty_midi.Note(v, p, max(0.0, float(a)), float(max(b, a + 0.05))))
    pm.instruments.append(inst)
    return pm


def test_a_waltz_played_with_a_tempo_curve_is_written_in_three_four_in_g_on_two_staves():
    notation, info = performance_to_score(_waltz())
    tokens = linearize(notation.score)
    assert info["meter"] == "3/4" and tokens[tokens.index("time") + 1] == "beats:3"
    assert info["key_fifths"] == 1 and "key:fifths:1" in tokens
    assert 11 <= tokens.count("measure") <= 13
    assert "staff:2" in tokens and "clef:F4" in tokens  # two hands
    assert 100 <= info["bpm"] <= 140


def test_the_hands_are_split_by_the_line_not_at_middle_c():
    """A melody that dips below middle C stays in the right hand; a bass that climbs above it in the left."""
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    melody = [72, 71, 69, 67, 65, 64, 62, 59, 57, 59, 60, 62, 64, 65, 67, 72]
    bass = [36, 43, 40, 43, 41, 45, 47, 50, 50, 52, 55, 57, 55, 57, 60, 62]
    for k, (m, b) in enumerate(zip(melody, bass)):
        t = 0.5 * k + 0.01 * (k % 3)
        inst.notes.append(pretty_midi.Note(80, m, t, t + 0.48))
        inst.notes.append(pretty_midi.Note(60, b, t + 0.01, t + 0.48))
    pm.instruments.append(inst)
    notation, _ = performance_to_score(pm)
    upper, lower = notation.score.parts[0], notation.score.parts[1]
    up = [p.midi for n in upper.flatten().notes for p in n.pitches]
    low = [p.midi for n in lower.flatten().notes for p in n.pitches]
    assert sorted(up) == sorted(melody) and sorted(low) == sorted(bass)


def test_two_tracks_are_kept_as_two_staves_on_one_beat_grid():
    rh = pretty_midi.Instrument(0, name="Right")
    lh = pretty_midi.Instrument(0, name="Left")
    for k in range(16):
        rh.notes.append(pretty_midi.Note(80, 60 + (k % 5), 0.5 * k, 0.5 * k + 0.45))
        if k % 2 == 0:
            lh.notes.append(pretty_midi.Note(70, 62 - (k % 3), 0.5 * k + 0.005, 0.5 * k + 0.95))
    pm = pretty_midi.PrettyMIDI()
    pm.instruments += [rh, lh]
    notation, info = performance_to_score(pm)
    assert "2 tracks" in info["route"]
    parts = notation.score.parts
    assert len(parts) == 2
    assert [p.midi for n in parts[0].flatten().notes for p in n.pitches] == [n.pitch for n in rh.notes]
    assert [p.midi for n in parts[1].flatten().notes for p in n.pitches] == [n.pitch for n in lh.notes]
    ends = [sum(m.barDuration.quarterLength for m in p.getElementsByClass("Measure")) for p in parts]
    assert ends[0] == ends[1]


def test_two_voices_on_a_staff_and_chords_kept():
    """Two lines a staff (a chorale on a grand staff) become two voices; a struck triad stays one chord."""
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    top = [(0, 2, 72), (2, 1, 74), (3, 1, 76), (4, 4, 77)]
    inner = [(0, 1, 64), (1, 1, 65), (2, 2, 67), (4, 2, 69), (6, 2, 67)]
    for b, d, p in top + inner:
        inst.notes.append(pretty_midi.Note(70, p, 0.5 * b + 0.003 * (p % 3), 0.5 * (b + d) - 0.03))
    for p in (48, 52, 55):
        inst.notes.append(pretty_midi.Note(60, p, 0.01, 1.9))
    pm.instruments.append(inst)
    notation, _ = performance_to_score(pm)
    tokens = linearize(notation.score)
    assert "voice:2" in tokens
    from music21 import chord

    assert any(isinstance(c, chord.Chord) and len(c.pitches) == 3 for c in notation.score.recurse().notes)


@pytest.mark.parametrize(
    "case", ["no notes", "one note", "10000 notes in one second", "a 10-hour note", "drums only"]
)
def test_bad_midi_gets_a_score_or_one_line(case):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0, is_drum=case == "drums only")
    rng = np.random.default_rng(0)
    if case == "one note":
        inst.notes.append(pretty_midi.Note(80, 64, 0.3, 0.8))
    elif case == "10000 notes in one second":
        for _ in range(10000):
            s = float(rng.uniform(0, 1.0))
            inst.notes.append(
                pretty_midi.Note(int(rng.integers(1, 127)), int(rng.integers(21, 109)), s, s + 0.05)
            )
    elif case == "a 10-hour note":
        inst.notes.append(pretty_midi.Note(80, 60, 0.0, 36000.0))
        inst.notes.append(pretty_midi.Note(80, 64, 0.5, 1.0))
    elif case == "drums only":
        inst.notes.append(pretty_midi.Note(80, 36, 0.0, 0.1))
    pm.instruments.append(inst)
    t = time.perf_counter()
    try:
        notation, info = performance_to_score(pm)
    except UnimtError as exc:
        assert "\n" not in str(exc) and case in ("no notes", "drums only")
        return
    assert time.perf_counter() - t < 20
    assert notation.score.flatten().notes
    assert info["measures"] <= 40  # a held note is not ten hours of tied bars
    linearize(notation.score)  # and it writes out


def _write_tempo_zero(path):
    import mido

    mf = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    tr.append(mido.MetaMessage("set_tempo", tempo=0, time=0))
    for k in range(8):
        tr.append(mido.Message("note_on", note=60 + k, velocity=80, time=0 if k == 0 else 10))
        tr.append(mido.Message("note_off", note=60 + k, velocity=0, time=240))
    mf.tracks.append(tr)
    mf.save(str(path))


def _played_file(path):
    pm = _waltz(bars=4, swing=0.1)
    pm.write(str(path))


@pytest.mark.parametrize("maker", [_write_tempo_zero, _played_file])
def test_the_cli_writes_a_performance_or_says_one_line_and_names_the_route(tmp_path, maker):
    src, out = tmp_path / "in.mid", tmp_path / "out.musicxml"
    maker(src)
    proc = subprocess.run(
        [sys.executable, "-m", "model.cli", "convert", str(src), str(out), "-v"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "Traceback" not in proc.stderr
    if proc.returncode == 0:
        assert out.exists()
        if maker is _played_file:
            assert "MIDI -> score: a performance" in proc.stderr
    else:
        assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0


def test_a_minute_of_piano_is_written_in_a_few_seconds():
    from model.bench import one_minute_of_piano

    pm = one_minute_of_piano()
    rng = np.random.default_rng(1)
    for n in pm.instruments[0].notes:
        j = float(rng.normal(0.0, 0.02))
        n.start, n.end = max(0.0, n.start + j), n.end + j
    t = time.perf_counter()
    _, info = performance_to_score(pm)
    assert time.perf_counter() - t < 8.0
    assert 25 <= info["measures"] <= 65 and info["meter"] in ("2/4", "4/4", "2/2")


def test_a_chorale_played_on_one_track_is_written_as_its_four_lines_on_a_grand_staff():
    """Soprano and alto on the treble staff, tenor and bass on the bass staff, each a voice of its own."""
    import copy

    from music21 import corpus

    from model.data.humanize import humanize
    from model.io.types import Notation
    from model.perform import notation_to_midi

    chorale = corpus.parse("bach/bwv66.6").measures(1, 4)
    exact = notation_to_midi(Notation(chorale), expand=False).pm
    lines = [sorted(n.pitch for n in inst.notes) for inst in exact.instruments]
    assert len(lines) == 4
    played = humanize(exact, np.random.default_rng(0), 0.5)
    pm = pretty_midi.PrettyMIDI()
    one = pretty_midi.Instrument(0, name="Piano")
    notes = (copy.copy(n) for inst in played.instruments for n in inst.notes)
    one.notes = sorted(notes, key=lambda n: n.start)
    pm.instruments.append(one)
    notation, _ = performance_to_score(pm)
    treble, bass = notation.score.parts[0], notation.score.parts[1]
    voices = [
        sorted(p.midi for v in staff.recurse().getElementsByClass("Voice") if v.id == vid for n in v.notes
               for p in n.pitches)
        for staff in (treble, bass)
        for vid in ("1", "2")
    ]
    right = sum(len(set(a) & set(b)) for a, b in zip(voices, lines))
    assert right >= 0.8 * sum(len(set(b)) for b in lines)
    assert "voice:2" in linearize(notation.score)


def test_a_recordings_last_chord_ringing_past_the_bar_line_adds_no_bar():
    """A transcription hears a final chord ring on after its written end; the written end is the bar line
    within the beat before the last sound, so the score keeps its four bars."""
    import copy

    from music21 import corpus

    from model.data.humanize import humanize
    from model.io.types import Notation
    from model.perform import notation_to_midi

    chorale = corpus.parse("bach/bwv66.6").measures(1, 4)
    played = humanize(notation_to_midi(Notation(chorale), expand=False).pm, np.random.default_rng(1), 0.5)
    notes = sorted((copy.copy(n) for inst in played.instruments for n in inst.notes), key=lambda n: n.start)
    last = max(n.start for n in notes)
    for n in notes:
        if n.start > last - 0.05:
            n.end += 0.5  # a beat at the chorale's tempo
    pm = pretty_midi.PrettyMIDI()
    pm.instruments.append(pretty_midi.Instrument(0, name="Piano"))
    pm.instruments[0].notes = notes
    _, heard = performance_to_score(pm, transcribed=True)
    assert (heard["meter"], heard["measures"]) == ("4/4", 4)
    _, played_file = performance_to_score(pm)  # a MIDI file's ends are taken as played
    assert played_file["measures"] == 5


def test_a_waltz_recorded_in_a_room_is_written_in_three_four_in_g_from_what_is_heard():
    """Audio -> score as the product does it: the waltz played by FluidSynth's piano in a living room of the
    held-out family, transcribed by the shipped weights and written with the meter weighed for heard notes
    (offsets where the sound fades, notes missed or added): 3/4, G major, its eight bars."""
    from model.evaluate_rooms import CONDITIONS, record
    from model.inference.pipeline import ModelOptions, notate_midi, transcribe_audio
    from model.io.types import Audio, Midi
    from model.notate.meter import _scorer
    from model.practice import bars
    from model.progress import Reporter
    from model.synth import midi_to_audio

    # the weights for heard notes are shipped and fitted on today's features (else the played ones are used)
    assert _scorer(True) is not None and not np.array_equal(_scorer(True).w, _scorer(False).w)

    stereo = midi_to_audio(Midi(_waltz(8)), sample_rate=16000).samples
    wet, _ = record(stereo.mean(axis=1) if stereo.ndim == 2 else stereo, CONDITIONS["living"],
                    np.random.default_rng(5))
    said = []
    options = ModelOptions(device="cpu", log=said.append)
    heard = transcribe_audio(Audio(wet, 16000), options, Reporter())
    assert heard.note_confidence is not None   # what a recording gives: the route knows the notes were heard
    tokens = linearize(notate_midi(heard, options, Reporter()).score)
    route = said[-1]
    assert "heard in a recording" in route and "3/4" in route and "key signature +1 fifths" in route, said
    assert abs(tokens.count("measure") - 8) <= 1
    # the ruler over the transcription's piano roll counts the bars the score has, three beats each
    ruler = bars(heard)
    assert len(ruler) == tokens.count("measure") and {len(b.beats) for b in ruler[:-1]} == {3}


def test_unimt_eval_writes_recordings_as_scores_beside_the_same_performances_as_midi(tmp_path):
    """``unimt eval --only audio2score``: each performance recorded, transcribed and written through the
    product's own path, scored against its excerpt beside the performance as MIDI."""
    from model.evaluate_audio_score import evaluate_audio_score

    report = evaluate_audio_score(pieces=4, excerpts=1, split="validation", conditions=("dry",),
                                  log=lambda _s: None)
    rows = report["sets"]["recordings"]
    assert set(rows) == {"the performance as MIDI", "recorded, dry"}
    n = rows["the performance as MIDI"]["excerpts"]
    assert n >= 1 and rows["recorded, dry"]["excerpts"] == n
    assert rows["recorded, dry"]["failed"] == 0 and rows["recorded, dry"]["reference_tokens"] > 0
    assert 0.0 <= rows["recorded, dry"]["ser"] < 1.0   # a score of the excerpt, not an empty answer


def test_the_meter_scorer_learns_what_a_weighted_sum_cannot():
    """fit_mlp's scorer (the shipped meter choice's kind) picks the right candidate when that depends on
    two features together (the right one has both or neither), which a conditional logit cannot tell; the
    numpy scorer the product runs gives the network's choice."""
    from model.notate.meter import Scorer
    from model.notate.train_meter import accuracy, fit, fit_mlp, signature_accuracy

    rng = np.random.default_rng(0)
    groups = []
    for _ in range(300):
        x = rng.integers(0, 2, size=(6, 2)).astype(float)
        x[:, 1] = np.where(rng.random(6) < 0.5, x[:, 0], 1 - x[:, 0])
        agree = np.nonzero(x[:, 0] == x[:, 1])[0]
        if agree.size == 0:
            continue
        k = int(agree[0])
        x[np.setdiff1d(agree, [k]), 1] = 1 - x[np.setdiff1d(agree, [k]), 0]  # one right candidate a group
        x = np.concatenate([x, rng.normal(size=(6, 1))], axis=1)
        groups.append((x, k, np.arange(6) == k))
    train, held = groups[:200], groups[200:]
    fitted = fit_mlp(train, hidden=16, epochs=60, dropout=0.0, log=lambda *_: None)
    assert accuracy(held, fit(train)) < 0.5
    assert accuracy(held, fitted) > 0.9
    assert signature_accuracy(held, fitted) == accuracy(held, fitted)
    assert isinstance(Scorer(fitted)(held[0][0]), np.ndarray)

