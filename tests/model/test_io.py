"""Readers and writers of every format: real files, round trips, dispatch by extension."""

from __future__ import annotations

import mido
import numpy as np
import pretty_midi
import pytest

from model.errors import BadInputError, UnsupportedFormatError
from model.io import Modality, load, modality_of, save
from model.io.types import Audio, Midi


@pytest.mark.parametrize("ext,modality", [
    ("musicxml", Modality.NOTATION), ("mxl", Modality.NOTATION), ("mid", Modality.MIDI),
    ("wav", Modality.AUDIO), ("flac", Modality.AUDIO), ("ogg", Modality.AUDIO), ("mp3", Modality.AUDIO),
    ("png", Modality.IMAGE), ("pdf", Modality.IMAGE), ("jpg", Modality.IMAGE), ("tif", Modality.IMAGE),
])
def test_load_every_format(files, ext, modality):
    obj = load(files[ext])
    assert obj.modality is modality
    assert modality_of(files[ext]) is modality


def test_notation_round_trip_keeps_notes(files, chorale, tmp_path):
    from model.perform import score_notes

    for ext in ("musicxml", "mxl"):
        back = load(files[ext])
        assert score_notes(back.score) == score_notes(chorale.score)
        assert len(back.score.parts) == 4


def test_a_score_held_as_text_is_written_as_is_until_parsed_then_as_changed(files, chorale, tmp_path):
    """A score read from images comes as MusicXML text: written as that text while music21 has not parsed
    it; once asked for (and so maybe changed), it is the score that is written."""
    from model.io.notation import lazy_notation
    from model.perform import score_notes

    text = files["musicxml"].read_text(encoding="utf-8")
    lazy = lazy_notation(text)
    save(lazy, tmp_path / "as-is.musicxml")
    assert (tmp_path / "as-is.musicxml").read_text(encoding="utf-8") == text and lazy.musicxml == text
    assert score_notes(lazy.score) == score_notes(chorale.score) and lazy.musicxml is None
    lazy.score.parts[0].partName = "Changed"
    save(lazy, tmp_path / "changed.mxl")
    assert load(tmp_path / "changed.mxl").score.parts[0].partName == "Changed"
    with pytest.raises(BadInputError, match="broken.png"):   # the error names the scan it was read from
        _ = lazy_notation("<score-partwise><part", read_from=tmp_path / "broken.png").score


def test_audio_formats_agree_in_length(files):
    ref = load(files["wav"])
    assert ref.sample_rate == 44100 and ref.channels == 2
    for ext in ("flac", "ogg", "mp3"):
        a = load(files[ext])
        assert abs(a.duration - ref.duration) < 0.1, ext
    mono = ref.mono(16000)
    assert mono.ndim == 1 and abs(len(mono) / 16000 - ref.duration) < 0.01
    assert np.abs(mono).max() > 0.05


def test_tiff_multipage_and_pdf_dpi(files):
    tif = load(files["tif"])
    assert tif.page_count == 2 and tif.page(1).dtype == np.uint8
    lo, hi = load(files["pdf"], dpi=72), load(files["pdf"], dpi=144)
    assert hi.page(0).shape[0] == pytest.approx(2 * lo.page(0).shape[0], abs=2)
    assert lo.page(0).shape[0] == 842 and abs(lo.page(0).shape[1] - 595) <= 1  # A4 at 72 dpi


def _midi_with_tempo_map_and_pedal(path, midi_type):
    mf = mido.MidiFile(type=midi_type, ticks_per_beat=480)
    t = mido.MidiTrack()
    t.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0))
    t.append(mido.Message("control_change", control=64, value=127, time=0))
    t.append(mido.Message("note_on", note=60, velocity=90, time=0))
    t.append(mido.Message("note_off", note=60, velocity=0, time=480))   # 0.5 s
    t.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(60), time=0))
    t.append(mido.Message("note_on", note=64, velocity=40, time=0))
    t.append(mido.Message("note_off", note=64, velocity=0, time=480))   # 1.0 s at 60 bpm
    t.append(mido.Message("control_change", control=64, value=0, time=0))
    mf.tracks.append(t)
    mf.save(path)


@pytest.mark.parametrize("midi_type", [0, 1])
def test_midi_tempo_map_pedal_and_velocity(tmp_path, midi_type):
    path = tmp_path / "t.mid"
    _midi_with_tempo_map_and_pedal(path, midi_type)
    m = load(path)
    notes = sorted(m.pm.instruments[0].notes, key=lambda n: n.start)
    assert [(n.pitch, round(n.start, 3), round(n.end, 3), n.velocity) for n in notes] == [
        (60, 0.0, 0.5, 90), (64, 0.5, 1.5, 40)]
    pedal = [(round(c.time, 3), c.value) for c in m.pm.instruments[0].control_changes if c.number == 64]
    assert pedal == [(0.0, 127), (1.5, 0)]
    save(m, tmp_path / "out.mid")
    again = load(tmp_path / "out.mid")
    assert [(n.pitch, round(n.start, 3), round(n.end, 3)) for n in again.pm.instruments[0].notes] == [
        (n.pitch, round(n.start, 3), round(n.end, 3)) for n in notes]
    assert len([c for c in again.pm.instruments[0].control_changes if c.number == 64]) == 2


def test_image_writers(files, tmp_path):
    img = load(files["pdf"])
    (p,) = save(img, tmp_path / "x.png")
    assert load(p).page(0).shape == img.page(0).shape
    (s,) = save(img, tmp_path / "x.svg")
    assert s.read_text().startswith("<svg")
    (d,) = save(img, tmp_path / "x.pdf")
    assert load(d).page_count == 1


def test_multipage_png_is_numbered(tmp_path):
    from model.io.types import ScoreImage

    img = ScoreImage.from_arrays([np.full((20, 30), 255, np.uint8), np.zeros((20, 30), np.uint8)])
    written = save(img, tmp_path / "pages.png")
    assert [w.name for w in written] == ["pages-1.png", "pages-2.png"]


def test_writes_are_atomic_and_leave_no_temp_files(tmp_path, chorale):
    save(chorale, tmp_path / "a.musicxml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.musicxml"]


def test_unsupported_and_mismatched(tmp_path):
    p = tmp_path / "x.doc"
    p.write_bytes(b"hello")
    with pytest.raises(UnsupportedFormatError, match="x.doc"):
        load(p)
    q = tmp_path / "x.mid"
    q.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(BadInputError, match="PNG image, not a MIDI file"):
        load(q)
    with pytest.raises(Exception, match="cannot write"):
        save(Audio(np.zeros(10, np.float32), 8000), tmp_path / "y.mid")


def test_midi_object_duration():
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes.append(pretty_midi.Note(velocity=64, pitch=60, start=0.25, end=1.75))
    pm.instruments.append(inst)
    assert Midi(pm).duration == pytest.approx(1.75)
