"""Procedural piano music: determinism, full measures, MusicXML/Verovio/LMX survival, feature coverage."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from model.data.generate import STYLES, count_features, generate_piece


def _xml(score) -> bytes:
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    data = GeneralObjectExporter(score).parse()
    return re.sub(rb"<encoding-date>[^<]*</encoding-date>", b"", data)


def _bar_errors(score) -> list:
    from music21 import meter, stream

    bad = []
    for part in score.parts:
        ts = None
        for m in part.getElementsByClass(stream.Measure):
            found = m.getElementsByClass(meter.TimeSignature)
            if found:
                ts = found[0]
            assert ts is not None, "no time signature in force"
            bar = ts.barDuration.quarterLength
            if m.duration.quarterLength != bar:
                bad.append((part.id, m.number, m.duration.quarterLength, bar))
            for v in m.voices:
                if v.duration.quarterLength != bar:
                    bad.append((part.id, m.number, f"voice {v.id}", v.duration.quarterLength, bar))
    return bad


def test_styles_listed():
    assert "melody" in STYLES and len(STYLES) == len(set(STYLES)) >= 8
    with pytest.raises(ValueError):
        generate_piece(1, style="no-such-style")


def test_deterministic_for_a_seed():
    a, b, c = _xml(generate_piece(7)), _xml(generate_piece(7)), _xml(generate_piece(8))
    assert a == b
    assert a != c
    for style in ("chorale", "nocturne"):
        assert _xml(generate_piece(3, style=style)) == _xml(generate_piece(3, style=style))


def test_grand_staff_structure():
    from music21 import clef, instrument, key, layout, meter, stream

    score = generate_piece(11, measures=6, style="alberti")
    staves = list(score.parts)
    assert len(staves) == 2 and all(isinstance(p, stream.PartStaff) for p in staves)
    groups = list(score.getElementsByClass(layout.StaffGroup))
    assert len(groups) == 1 and groups[0].symbol == "brace"
    assert isinstance(staves[0].getInstrument(), instrument.Piano)
    for p in staves:
        ms = list(p.getElementsByClass(stream.Measure))
        assert [m.number for m in ms] == list(range(1, 7))
        first = ms[0]
        assert first.getElementsByClass(clef.Clef) and first.getElementsByClass(key.KeySignature)
        assert first.getElementsByClass(meter.TimeSignature)
    single = generate_piece(5, measures=4, style="melody")
    assert len(single.parts) == 1 and not isinstance(single.parts[0], stream.PartStaff)


def test_measures_full_for_50_seeds_all_styles():
    for seed in range(50):
        style = STYLES[seed % len(STYLES)] if seed % 5 else None
        measures = (1, 3, 5, 8, 12)[seed % 5]
        score = generate_piece(seed, measures=measures, style=style)
        assert _bar_errors(score) == [], (seed, style)
        assert len(score.parts[0].getElementsByClass("Measure")) == measures


def test_musicxml_round_trip(tmp_path):
    from model.io import load, save
    from model.io.types import Notation

    for seed, style in ((21, "mixed"), (22, "polyphonic"), (23, "melody")):
        score = generate_piece(seed, style=style)
        path = tmp_path / f"piece{seed}.musicxml"
        save(Notation(score), path)
        back = load(path)
        assert len(back.score.recurse().notes) == len(score.recurse().notes)
        assert _bar_errors(back.score) == []
        score.write("musicxml", fp=str(tmp_path / f"m21_{seed}.musicxml"))


def test_engraves_to_png(tmp_path):
    from model.engrave import notation_to_image
    from model.io.types import Notation

    img = notation_to_image(Notation(generate_piece(4, measures=4, style="nocturne")), dpi=50)
    page = img.page(0)
    assert page.ndim == 2 and page.min() < 64 and page.max() > 200


def test_lmx_round_trip_of_generated_measures():
    from tools.lmx_roundtrip import roundtrip_musicxml

    total = identical = 0
    for seed in range(6):
        res = roundtrip_musicxml(_xml(generate_piece(seed, measures=6)).decode("utf-8"))
        total += res["measures"]
        identical += res["identical"]
    assert total > 0 and identical / total >= 0.8


def test_feature_coverage_over_100_seeds():
    total: Counter = Counter()
    for seed in range(100):
        total += count_features(generate_piece(seed))
    for feature in ("tuplet_notes", "ties", "grace_notes", "chords", "voices", "clef_changes", "key_changes",
                    "time_changes", "dynamics", "ornaments", "accidentals", "naturals_or_cautionary", "slurs",
                    "articulations", "rests", "dotted", "fermatas", "single_staff_pieces"):
        assert total[feature] > 0, feature
    assert 5 <= total["single_staff_pieces"] <= 30
