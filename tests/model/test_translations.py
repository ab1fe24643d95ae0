"""The exact translations: engraving, performing (repeats, tempo, dynamics), synthesis, quantising."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from model.engrave import EngraveOptions, notation_to_image
from model.graph import Modality, needs_model, route, supported_pairs
from model.io.types import Notation
from model.perform import notation_to_midi, score_notes, tempo_map
from model.quantize import midi_to_notation
from model.synth import find_soundfont, midi_to_audio
from model.translate import translate


def _score(measures: str, time="4/4", bpm=None, repeat=False, dynamic=None):
    from music21 import bar, converter, dynamics, tempo

    s = converter.parse("tinyNotation: " + time + " " + measures, makeNotation=True)
    from music21 import stream

    score = stream.Score([s])
    part = score.parts[0]
    m1 = part.getElementsByClass(stream.Measure).first()
    if bpm:
        m1.insert(0, tempo.MetronomeMark(number=bpm))
    if dynamic:
        m1.insert(0, dynamics.Dynamic(dynamic))
    if repeat:
        part.getElementsByClass(stream.Measure).last().rightBarline = bar.Repeat(direction="end")
    return Notation(score)


def _notes(midi):
    return sorted((n.pitch, round(n.start, 3), round(n.end, 3)) for i in midi.pm.instruments for n in i.notes)


def test_midi_matches_the_score_notes(chorale):
    midi = notation_to_midi(chorale)
    ref = score_notes(chorale.score)
    assert len(ref) == 163
    (start, bpm), = tempo_map(chorale.score)  # one tempo: the file's <sound tempo="96"/>
    k = 60.0 / bpm
    assert start == 0 and bpm == 96
    expected = sorted((n.pitch, round(float(n.onset) * k, 3), round(float(n.onset + n.duration) * k, 3))
                      for n in ref)
    assert _notes(midi) == expected


def test_tempo_mark_is_honoured():
    midi = notation_to_midi(_score("c4 d4 e4 f4", bpm=60))
    assert _notes(midi) == [(60, 0.0, 1.0), (62, 1.0, 2.0), (64, 2.0, 3.0), (65, 3.0, 4.0)]
    fast = notation_to_midi(_score("c4 d4 e4 f4", bpm=120))
    assert _notes(fast)[-1] == (65, 1.5, 2.0)


def test_repeats_are_expanded():
    midi = notation_to_midi(_score("c4 d4 e4 f4 g1", bpm=60, repeat=True))
    pitches = [p for p, _, _ in sorted(_notes(midi), key=lambda n: n[1])]
    assert pitches == [60, 62, 64, 65, 67] * 2
    assert _notes(midi)[-1][2] == pytest.approx(16.0)


def test_dynamics_set_velocity():
    soft = notation_to_midi(_score("c4 d4 e4 f4", dynamic="pp"))
    loud = notation_to_midi(_score("c4 d4 e4 f4", dynamic="ff"))
    v_soft = {n.velocity for n in soft.pm.instruments[0].notes}
    v_loud = {n.velocity for n in loud.pm.instruments[0].notes}
    assert max(v_soft) + 30 < min(v_loud)


def test_ties_are_merged_across_barlines():
    notes = score_notes(_score("c2 d2~ d2 e2").score)
    assert [(n.pitch, n.onset, n.duration) for n in notes] == [
        (60, Fraction(0), Fraction(2)), (62, Fraction(2), Fraction(4)), (64, Fraction(6), Fraction(2))]


def test_engrave_pages_and_systems(chorale):
    pages = notation_to_image(chorale, dpi=100)
    assert pages.page_count == 1
    page = pages.page(0)
    assert page.shape == (1169, 827) and page.min() < 50 and np.median(page) == 255
    systems = notation_to_image(chorale, EngraveOptions(systems=True, font="Bravura"), dpi=100)
    assert systems.page_count == 2
    assert all(systems.page(i).shape[0] < 600 for i in range(2))


def test_every_font_engraves(chorale):
    from model.engrave import FONTS, engrave_svg
    from model.io.notation import musicxml_bytes

    data = musicxml_bytes(chorale)
    for font in FONTS:
        assert engrave_svg(data, EngraveOptions(font=font))[0].startswith("<svg")


def test_synthesis_is_not_silent_and_has_the_score_length(chorale):
    midi = notation_to_midi(chorale)
    audio = midi_to_audio(midi)
    assert audio.duration == pytest.approx(midi.duration + 1.5, abs=0.05)
    mono = audio.mono()
    hop = audio.sample_rate // 10
    rms = [
        float(np.sqrt(np.mean(mono[i : i + hop] ** 2)))
        for i in range(0, int(midi.duration * audio.sample_rate) - hop, hop)
    ]
    assert min(rms) > 1e-3  # sound all through the music, not only at the start


def test_soundfont_choice_and_errors(tmp_path):
    from model.errors import BadInputError

    assert find_soundfont().suffix in (".sf2", ".sf3")
    with pytest.raises(BadInputError, match="soundfont not found"):
        find_soundfont(tmp_path / "missing.sf2")


def test_quantiser_gives_a_valid_score(chorale, tmp_path):
    from model.io import load, save

    n = midi_to_notation(notation_to_midi(chorale))
    (p,) = save(n, tmp_path / "q.musicxml")
    back = load(p)
    assert len(back.score.parts) == 4
    assert len(score_notes(back.score)) == pytest.approx(163, abs=5)


def test_graph_covers_every_pair():
    pairs = supported_pairs()
    assert len(pairs) == 16
    assert [e.dst for e in route(Modality.IMAGE, Modality.AUDIO)] == [
        Modality.NOTATION,
        Modality.MIDI,
        Modality.AUDIO,
    ]
    assert needs_model(Modality.AUDIO, Modality.NOTATION) and not needs_model(
        Modality.NOTATION, Modality.AUDIO
    )


def test_translate_reports_progress_and_cancels(chorale):
    from model.errors import Cancelled

    seen = []
    audio = translate(chorale, Modality.AUDIO, progress=lambda d, t, m: seen.append((d, t)))
    assert audio.modality is Modality.AUDIO and seen and seen[-1][0] == seen[-1][1]
    with pytest.raises(Cancelled):
        translate(chorale, Modality.AUDIO, should_stop=lambda: True)


def test_quantiser_puts_piano_music_on_a_grand_staff(tmp_path):
    """One piano track spanning both hands becomes one part on two staves (treble and bass)."""
    import pretty_midi

    from model.io import load, save
    from model.io.types import Midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=0)
    for i, p in enumerate([72, 74, 76, 77, 79, 77, 76, 74]):
        inst.notes.append(pretty_midi.Note(velocity=80, pitch=p, start=i * 0.5, end=i * 0.5 + 0.5))
    for i, p in enumerate([48, 55, 52, 55]):
        inst.notes.append(pretty_midi.Note(velocity=70, pitch=p, start=i * 1.0, end=i * 1.0 + 1.0))
    pm.instruments.append(inst)
    (p,) = save(midi_to_notation(Midi(pm)), tmp_path / "piano.musicxml")
    text = p.read_text()
    assert text.count("<part id") == 1 and "<staves>2</staves>" in text
    back = load(p).score
    staves = back.parts
    assert len(staves) == 2
    upper = sorted(n.pitch.midi for n in staves[0].recurse().notes)
    lower = sorted(n.pitch.midi for n in staves[1].recurse().notes)
    assert upper == sorted([72, 74, 76, 77, 79, 77, 76, 74]) and lower == [48, 52, 55, 55]
