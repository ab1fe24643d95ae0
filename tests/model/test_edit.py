"""model.edit through model.api: note edits are pure, land on the file's grid and survive a round trip."""

from __future__ import annotations

import numpy as np
import pytest

from model import api


@pytest.fixture(scope="module")
def midi():
    from music21 import corpus

    return api.notation_to_midi(api.Notation(corpus.parse("bach/bwv66.6")))


def rows(m) -> list[tuple]:
    return [(i, n.start, n.end, n.pitch, n.velocity) for i, inst in enumerate(m.pm.instruments)
            for n in inst.notes]


def test_rows_and_refs_are_inverse(midi):
    n = sum(len(i.notes) for i in midi.pm.instruments)
    first = len(midi.pm.instruments[0].notes)
    assert api.note_ref(midi, 0) == (0, 0) and api.note_ref(midi, first) == (1, 0)
    assert all(api.note_row(midi, api.note_ref(midi, k)) == k for k in range(0, n, 7))
    with pytest.raises(api.BadInputError):
        api.note_ref(midi, n)
    with pytest.raises(api.BadInputError):
        api.delete_note(midi, (len(midi.pm.instruments), 0))


def test_delete_leaves_the_original_and_drops_its_confidence(midi):
    before = rows(midi)
    m = api.Midi(midi.pm, note_confidence=[k / len(before) for k in range(len(before))])
    out = api.delete_note(m, (1, 2))
    assert rows(midi) == before                       # the original is untouched
    assert len(rows(out)) == len(before) - 1
    gone = api.note_row(m, (1, 2))
    assert rows(out) == before[:gone] + before[gone + 1:]
    assert out.note_confidence == m.note_confidence[:gone] + m.note_confidence[gone + 1:]


def test_move_up_two_semitones_and_later_by_a_snapped_beat(midi):
    grid = api.snap_grid(midi)
    assert grid is not None                           # a score's MIDI is on its beat grid
    beat = float(np.diff(midi.pm.get_beats())[0])
    s, e, p, v = api.note_values(midi, (0, 3))
    out = api.move_note(midi, (0, 3), dt=beat + 0.013, semitones=2, grid=grid)
    s2, e2, p2, v2 = api.note_values(out, (0, 3))
    assert p2 == p + 2 and v2 == v
    assert s2 == pytest.approx(s + beat) and e2 - s2 == pytest.approx(e - s)   # snapped; the length kept
    assert api.note_values(midi, (0, 3)) == (s, e, p, v)
    assert api.note_values(api.move_note(midi, (0, 3), semitones=200), (0, 3))[2] == 127


def test_add_goes_to_the_nearest_track_with_no_doubt(midi):
    m = api.Midi(midi.pm, note_confidence=[0.5] * len(rows(midi)))
    low = min(n.pitch for n in midi.pm.instruments[-1].notes)
    out, ref = api.add_note(m, low - 1, 1.0, 1.5, velocity=300)
    assert ref[0] == len(midi.pm.instruments) - 1     # the bass is nearest
    assert api.note_values(out, ref) == (1.0, 1.5, low - 1, 127)
    assert out.note_confidence[api.note_row(out, ref)] == 1.0 and len(out.note_confidence) == len(rows(m)) + 1
    empty = api.Midi(__import__("pretty_midi").PrettyMIDI())
    out, ref = api.add_note(empty, 60, 0.0, 0.0)
    assert ref == (0, 0) and api.note_values(out, ref)[1] == pytest.approx(0.02)


def test_resize_snaps_and_never_inverts(midi):
    grid = api.snap_grid(midi)
    beat = float(np.diff(midi.pm.get_beats())[0])
    s, e, _, _ = api.note_values(midi, (2, 5))
    out = api.resize_note(midi, (2, 5), e + beat - 0.01, grid)
    assert api.note_values(out, (2, 5))[1] == pytest.approx(e + beat)
    out = api.resize_note(midi, (2, 5), s - 3.0, grid)
    assert api.note_values(out, (2, 5))[1] > s


def test_velocity_is_kept_in_range(midi):
    assert api.note_values(api.set_velocity(midi, (0, 0), 0), (0, 0))[3] == 1
    assert api.note_values(api.set_velocity(midi, (0, 0), 64), (0, 0))[3] == 64


def test_a_performance_has_no_grid_and_keeps_its_times():
    from model.notes import notes_to_midi

    rng = np.random.default_rng(1)
    played = api.Midi(notes_to_midi([(60 + k % 12, k * 0.5 + rng.uniform(0.02, 0.05), k * 0.5 + 0.4, 70)
                                     for k in range(40)]))
    assert api.snap_grid(played) is None
    s, _, _, _ = api.note_values(played, (0, 4))
    out = api.move_note(played, (0, 4), dt=0.123, grid=api.snap_grid(played))
    assert api.note_values(out, (0, 4))[0] == pytest.approx(s + 0.123)


def test_beat_at_reads_the_bars(midi):
    bars = api.bars(midi)
    t = bars[2].start + 0.01
    assert api.beat_at(bars, t) == pytest.approx(bars[2].beats[1][0] - bars[2].beats[0][0])
    assert api.beat_at(bars, bars[-1].end + 5) == 0.5 and api.beat_at([], 1.0, 0.25) == 0.25


def test_an_edit_survives_writing_and_reading(midi, tmp_path):
    out = api.move_note(api.delete_note(midi, (0, 0)), (0, 1), semitones=-2)
    api.save(out, tmp_path / "edited.mid")
    back = api.load(tmp_path / "edited.mid")
    assert len(rows(back)) == len(rows(midi)) - 1
    assert api.note_values(back, (0, 1))[2] == api.note_values(midi, (0, 2))[2] - 2


def test_the_score_written_again_after_an_edit_keeps_the_pickup_as_bar_zero(midi):
    """BWV 66.6 opens with a one-beat pickup: written again from edited notes, it is still bar 0 in 4/4, and
    every bar keeps its printed number and its time."""
    from music21 import corpus

    written = api.bars(api.Notation(corpus.parse("bach/bwv66.6")))
    edited = api.move_note(midi, (0, 3), semitones=2)
    score = api.translate(edited, api.Modality.NOTATION)
    for part in score.score.parts:
        m0, m1 = list(part.getElementsByClass("Measure"))[:2]
        assert (m0.number, m1.number) == (0, 1) and m0.duration.quarterLength == 1.0
        assert m0.timeSignature.ratioString == "4/4" and m1.timeSignature is None
    again = api.bars(score)
    assert [b.number for b in again] == [b.number for b in written]
    assert [b.start for b in again] == pytest.approx([b.start for b in written], abs=1e-3)
    assert again[0].beats == ((0.0, 4),)
