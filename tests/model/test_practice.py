"""model.practice through model.api: bars and beats, parts, the rehearsal MIDI, transposition, clicks."""

from __future__ import annotations

import numpy as np
import pytest

from model import api


@pytest.fixture(scope="module")
def chorale():
    from music21 import corpus

    return api.Notation(corpus.parse("bach/bwv66.6"))


def test_bars_of_a_score_follow_the_printed_numbers_and_its_pickup(chorale):
    bars = api.bars(chorale)
    assert [b.number for b in bars[:4]] == ["0", "1", "2", "3"]
    pickup, first = bars[0], bars[1]
    assert pickup.beats == ((0.0, 4),)                       # a one-beat pickup is the bar's 4th beat
    assert first.start == pytest.approx(pickup.end) and [k for _, k in first.beats] == [1, 2, 3, 4]
    assert first.beats[1][0] - first.beats[0][0] == pytest.approx((first.end - first.start) / 4)
    midi = api.notation_to_midi(chorale)
    assert bars[-1].end == pytest.approx(midi.duration, abs=0.01)


def test_bars_of_a_midi_file_come_from_its_beats(chorale):
    midi = api.notation_to_midi(chorale)
    bars = api.bars(midi)
    score_bars = api.bars(chorale)
    # the performance carries the score's meter, its pickup as a bar of its own: the same bars, numbered alike
    assert [b.number for b in bars[:3]] == ["0", "1", "2"] and bars[0].beats == ((0.0, 4),)
    assert [b.start for b in bars] == pytest.approx([b.start for b in score_bars], abs=1e-3)
    assert len(bars[1].beats) == 4
    slow = api.bars(api.rehearsal(midi, 0.5))
    assert [b.start for b in slow] == pytest.approx([2 * b.start for b in bars])


def test_bars_of_a_played_performance_follow_its_beats(chorale):
    """BWV 66.6 played with rubato (slower and faster in turn, every note a little early or late, no tempo
    map: a file at MIDI's default 120 a minute): its bars come from the beats tracked, not from the 120 grid;
    each holds four of the crotchets as played, however stretched."""
    import pretty_midi

    midi = api.notation_to_midi(chorale)

    def warp(t):
        return 1.25 * t + 0.4 * np.sin(t / 2.5)
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    rng = np.random.default_rng(0)
    for inst in midi.pm.instruments:
        played = pretty_midi.Instrument(inst.program, name=inst.name)
        for n in inst.notes:
            t = warp(n.start) + rng.normal(0, 0.015)
            played.notes.append(pretty_midi.Note(int(np.clip(n.velocity + rng.integers(-15, 15), 1, 127)),
                                                 n.pitch, t, warp(n.end) - 0.05))
        pm.instruments.append(played)
    bars = api.bars(api.Midi(pm, None))
    crotchets = np.array([warp(k * 0.625) for k in range(60)])      # the beats as played (96 a minute)
    assert len(bars) >= 8
    for b in bars[:-1]:
        assert np.abs(crotchets - b.start).min() < 0.12                 # bar lines on beats played
        assert np.sum((crotchets >= b.start - 0.12) & (crotchets < b.end - 0.12)) == 4
    lengths = np.diff([b.start for b in bars])
    assert lengths.std() > 0.15 and not np.allclose(lengths, 2.0, atol=0.1)     # the rubato, not a grid


def test_a_rehearsal_scales_transposes_and_mutes_without_touching_the_performance(chorale):
    midi = api.notation_to_midi(chorale)
    before = [(n.start, n.end, n.pitch) for i in midi.pm.instruments for n in i.notes]
    names = api.part_names(midi)
    assert names == ["Soprano", "Alto", "Tenor", "Bass"]
    r = api.rehearsal(midi, 0.5, -2, muted=[names.index("Bass")])
    assert [(n.start, n.end, n.pitch) for i in midi.pm.instruments for n in i.notes] == before
    kept = [(n.start, n.end, n.pitch) for i in midi.pm.instruments[:3] for n in i.notes]
    got = [(n.start, n.end, n.pitch) for i in r.pm.instruments[:3] for n in i.notes]
    np.testing.assert_allclose(np.array(got), np.array([(2 * s, 2 * e, p - 2) for s, e, p in kept]))
    assert r.pm.instruments[3].notes == []
    with pytest.raises(api.BadInputError):
        api.rehearsal(midi, 0.2)
    with pytest.raises(api.BadInputError):
        api.rehearsal(midi, 1.0, 13)


def test_one_piano_track_is_muted_by_hand():
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(0, name="Piano")
    piano.notes = [pretty_midi.Note(80, p, i * 0.5, i * 0.5 + 0.5) for i, p in enumerate((48, 72, 50, 74))]
    pm.instruments.append(piano)
    midi = api.Midi(pm)
    assert api.part_names(midi) == ["Piano (upper)", "Piano (lower)"]
    left_out = api.rehearsal(midi, muted=[1])
    assert [n.pitch for n in left_out.pm.instruments[0].notes] == [72, 74]


def test_a_transposed_score_is_respelled_in_its_new_key(chorale):
    up = api.transpose(chorale, 3)
    key = up.score.parts[0].recurse().getElementsByClass("KeySignature")[0]
    assert key.sharps == 0                                   # F sharp minor up a minor third: A minor
    assert [p.midi for p in up.score.pitches[:8]] == [p.midi + 3 for p in chorale.score.pitches[:8]]
    assert chorale.score.parts[0].recurse().getElementsByClass("KeySignature")[0].sharps == 3   # unchanged
    for semitones, sharps in ((2, 5), (-1, -4), (6, -3), (-12, 3)):    # G# minor, F minor, C minor...
        moved = api.transpose(chorale, semitones).score
        assert moved.parts[0].recurse().getElementsByClass("KeySignature")[0].sharps == sharps, semitones
        assert moved.pitches[0].midi == chorale.score.pitches[0].midi + semitones
    with pytest.raises(api.BadInputError):
        api.transpose(api.Audio(np.zeros(10, np.float32), 44100), 2)


def test_the_click_track_is_one_bar_with_a_click_on_each_beat():
    clicks = api.click_track(3, 0.4, 8000, channels=2)
    assert clicks.shape == (3 * 3200, 2) and clicks.dtype == np.float32
    loud = np.flatnonzero(np.abs(clicks[:, 0]) > 0.3)
    onsets = loud[np.r_[True, np.diff(loud) > 800]]
    assert list(onsets // 3200) == [0, 1, 2]
