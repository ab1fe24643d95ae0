"""Metrics: SER edit distances and note F1 on hand-checked cases."""

from __future__ import annotations

import pretty_midi
import pytest

from model.metrics import SER, NoteF1, edit_distance


def test_edit_distance_cases():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a"]) == 1 and edit_distance(["a", "b"], ["a", "b"]) == 0


def test_ser_is_micro_averaged():
    ser = SER()
    ser.add(["a", "b", "c", "d"], ["a", "b", "c", "d"])    # 0 errors of 4
    ser.add(["x"], ["a", "b", "c", "d", "e", "f"])         # 6 errors of 6
    assert ser.value == pytest.approx(6 / 10)


def _pm(notes):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(80, p, s, e) for p, s, e in notes]
    pm.instruments.append(inst)
    return pm


def test_note_f1_with_tolerances():
    ref = _pm([(60, 0.0, 1.0), (64, 1.0, 2.0), (67, 2.0, 3.0), (72, 3.0, 4.0)])
    est = _pm([(60, 0.03, 1.0), (64, 1.2, 2.0), (67, 2.0, 2.3), (73, 3.0, 4.0)])
    f = NoteF1()
    f.add(est, ref)
    assert f.onset == [2, 4, 4] and f.onset_f1 == pytest.approx(0.5)       # 60 and 67 match onsets
    assert f.onset_offset == [1, 4, 4]                                   # 67 ends too early
    f.add(_pm([]), _pm([]))
    assert f.summary()["pieces"] == 2
