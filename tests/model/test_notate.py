"""Performance MIDI -> notation through the model: cutting a performance into passages the model can take,
joining the passages' measures, and choosing the model only where its weights say it beats the quantiser."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pretty_midi
import pytest

from model.inference.engine import join_passages, performance_passages


def _performance(seconds: float = 31.0, gap_at: float = 7.0):
    """Legato chords every 0.5 s, with one breath (nothing sounding) just before ``gap_at`` s, and pedal."""
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    rng = np.random.default_rng(0)
    t = 0.0
    while t < seconds:
        # overlaps the next chord, but for the breath
        end = t + (0.45 if abs(t + 0.5 - gap_at) < 1e-6 else 0.6)
        for p in rng.choice(np.arange(48, 80), 3, replace=False):
            inst.notes.append(pretty_midi.Note(int(rng.integers(40, 90)), int(p), t, end))
        t += 0.5
    inst.control_changes += [pretty_midi.ControlChange(64, 127, 1.0), pretty_midi.ControlChange(64, 0, 12.0)]
    pm.instruments.append(inst)
    return pm


def _played(pm, spread: float = 0.03):
    """The same notes as a person plays them: every onset off the grid by up to ``spread`` seconds."""
    rng = np.random.default_rng(1)
    for n in pm.instruments[0].notes:
        shift = float(rng.uniform(-spread, spread))
        n.start, n.end = max(0.0, n.start + shift), n.end + shift
    return pm


def test_only_a_performance_off_the_beat_grid_goes_to_the_model(files):
    """A MIDI written out by a notation program sits on its beat grid and the quantiser reads it almost
    exactly; a played performance does not."""
    from model.inference.pipeline import played_on_one_instrument
    from model.io import load
    from model.quantize import on_the_grid

    assert on_the_grid(load(files["mid"]).pm)                 # the chorale, performed from its score
    assert on_the_grid(_performance())
    assert not on_the_grid(_played(_performance()))
    assert played_on_one_instrument(_played(_performance()))
    two = _played(_performance())                             # a second player: its parts stay parts
    two.instruments.append(pretty_midi.Instrument(40, name="Violin"))
    two.instruments[1].notes.append(pretty_midi.Note(80, 76, 1.013, 2.0))
    assert not played_on_one_instrument(two)


def test_passages_cover_the_performance_within_the_models_length():
    pm = _performance()
    passages = performance_passages(pm, 10.0)
    got = []
    for part in passages:
        ns = part.instruments[0].notes
        assert ns and min(n.start for n in ns) == 0.0
        assert max(n.end for n in ns) <= 10.0 + 1e-6            # never longer than the model was trained on
        got += [n.pitch for n in ns]
    assert sorted(got) == sorted(n.pitch for n in pm.instruments[0].notes)     # every note, once
    assert 3 <= len(passages) <= 8


def test_the_first_cut_falls_where_nothing_sounds():
    pm = _performance()
    first = performance_passages(pm, 10.0)[0]
    assert max(n.start for n in first.instruments[0].notes) == 6.5     # the breath before 7 s
    # the pedal goes down in the first passage and comes up in a later one
    assert [c.value for c in first.instruments[0].control_changes] == [127]


def test_a_short_performance_is_one_passage():
    pm = _performance(seconds=6.0, gap_at=100.0)
    assert len(performance_passages(pm, 10.0)) == 1
    assert performance_passages(pretty_midi.PrettyMIDI(), 10.0) == []


def test_joined_passages_do_not_repeat_an_unchanged_key_time_and_clefs():
    head = ["measure", "key:fifths:-1", "time", "beats:3", "beat-type:4", "clef:G2", "staff:1"]
    a = head + ["C4", "quarter", "D4", "half"]
    b = head + ["E4", "half", "dot", "measure", "F4", "half", "dot"]
    c = ["measure", "key:fifths:2", "G4", "half", "dot"]
    tokens, conf = join_passages([a, b, c], [[0.9] * len(a), [0.8] * len(b), [0.7] * len(c)])
    assert tokens == a + ["measure", "E4", "half", "dot", "measure", "F4", "half", "dot"] + c
    assert len(conf) == len(tokens) and conf[-len(c):] == [0.7] * len(c)
    assert conf[len(a)] == 0.8


def test_midi_is_quantised_unless_the_weights_are_marked_better(tmp_path):
    from model.inference.weights import PACKAGED_WEIGHTS, notates_midi

    folder = tmp_path / "w"
    shutil.copytree(PACKAGED_WEIGHTS, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["tasks"] = {**cfg["tasks"], "midi2lmx": 1.0}
    cfg.setdefault("inference", {}).pop("notate_midi", None)
    (folder / "config.json").write_text(json.dumps(cfg))
    assert not notates_midi(folder)                    # trained for it, not measured better: the quantiser
    cfg["inference"]["notate_midi"] = "model"
    (folder / "config.json").write_text(json.dumps(cfg))
    assert notates_midi(folder)
    cfg["tasks"].pop("midi2lmx")
    (folder / "config.json").write_text(json.dumps(cfg))
    assert not notates_midi(folder)                    # marked, but never trained for it


def _marked_weights(tmp_path):
    """A copy of the shipped weights marked as writing scores better than the quantiser."""
    from model.inference.weights import PACKAGED_WEIGHTS

    folder = tmp_path / "marked"
    shutil.copytree(PACKAGED_WEIGHTS, folder)
    cfg = json.loads((folder / "config.json").read_text())
    assert "midi2lmx" in cfg["tasks"]                       # the shipped decoder writes scores
    cfg.setdefault("inference", {})["notate_midi"] = "model"
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def test_the_model_writes_a_performance_as_a_score_with_a_confidence_per_measure(tmp_path):
    """Through the front door: a 31-s performance becomes passages, the shipped decoder writes each, and the
    joined score opens in music21; every measure has a confidence."""
    import music21

    from model.api import Modality, TranslateOptions, translate
    from model.inference.pipeline import ModelOptions
    from model.io.types import Midi

    weights = _marked_weights(tmp_path)
    seen = []
    notation = translate(Midi(_played(_performance())), Modality.NOTATION,
                         TranslateOptions(model=ModelOptions(device="cpu", weights=str(weights))),
                         progress=lambda done, total, msg: seen.append((done / total, msg)))
    writing = [f for f, msg in seen if "as notation" in msg]     # the passages go through in one batch
    assert len({round(f, 3) for f in writing}) >= 3 and max(writing) < 1.0
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)   # the bar moves while the batch decodes
    measures = notation.score.parts[0].getElementsByClass(music21.stream.Measure)
    assert len(measures) >= 3
    conf = notation.recognition.measure_confidence
    assert len(conf) >= len(measures) and all(0.0 <= c <= 1.0 for c in conf)
    path = tmp_path / "out.musicxml"
    from model.io import save

    save(notation, path)
    assert music21.converter.parse(str(path)).flatten().notes


def test_passages_decoded_together_read_as_decoded_one_by_one():
    """Batching is only for speed: each passage keeps its own length cap, so the score is the one that
    `unimt eval` measures passage by passage."""
    from model.inference.engine import Engine
    from model.inference.weights import PACKAGED_WEIGHTS
    from model.io.types import Midi
    from model.progress import Reporter

    engine = Engine(PACKAGED_WEIGHTS, "cpu")
    midi = Midi(_played(_performance()))
    together, alone = engine.notate(midi, Reporter()), engine.notate(midi, Reporter(), batch_size=1)
    assert together.recognition.measure_confidence == pytest.approx(
        alone.recognition.measure_confidence, abs=1e-4
    )
    notes = [
        [(str(n.pitches), float(n.quarterLength)) for n in s.flatten().notes]
        for s in (together.score, alone.score)
    ]
    assert notes[0] == notes[1] and notes[0]


def test_a_cancel_stops_the_decoding_midway(tmp_path):
    """A cancel asked for while a batch of passages decodes is honoured within a few steps, not at its end."""
    import pytest

    from model.api import Cancelled, Modality, TranslateOptions, translate
    from model.inference.pipeline import ModelOptions
    from model.io.types import Midi

    calls = []

    def progress(done, total, msg):
        calls.append(msg)

    with pytest.raises(Cancelled):
        translate(Midi(_played(_performance())), Modality.NOTATION,
                  TranslateOptions(model=ModelOptions(device="cpu", weights=str(_marked_weights(tmp_path)))),
                  progress=progress, should_stop=lambda: sum("as notation" in m for m in calls) >= 2)
    assert sum("as notation" in m for m in calls) == 2


def test_an_empty_performance_is_told_in_one_line(tmp_path):
    import subprocess
    import sys

    empty = tmp_path / "empty.mid"
    pm = pretty_midi.PrettyMIDI()
    pm.instruments.append(pretty_midi.Instrument(0))
    pm.write(str(empty))
    out = tmp_path / "out.musicxml"
    proc = subprocess.run([sys.executable, "-m", "model.cli", "convert", str(empty), str(out), "--weights",
                           str(_marked_weights(tmp_path))], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "empty.mid" in proc.stderr
    assert not out.exists()
