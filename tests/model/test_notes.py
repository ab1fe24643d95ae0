"""The note head's piano rolls: labels from real MIDI windows, notes back from probabilities, windows
blended, and the head learning from a real synthesised recording."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from model.notes import (
    FRAME,
    OFFSET,
    ONSET,
    VELOCITY,
    blend_windows,
    note_labels,
    roll_to_notes,
    window_starts,
)
from model.tokenizers.midi import MidiTokenizer


def _performance():
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    rng = np.random.default_rng(3)
    t = 0.1
    for _ in range(24):
        p = int(rng.integers(30, 100))
        d = float(rng.uniform(0.08, 0.9))
        inst.notes.append(pretty_midi.Note(int(rng.integers(20, 120)), p, round(t, 2), round(t + d, 2)))
        t += float(rng.uniform(0.05, 0.4))
    inst.notes.append(pretty_midi.Note(80, 60, 3.5, 5.2))      # crosses the 4 s window border
    pm.instruments.append(inst)
    return pm


def _probabilities(labels: np.ndarray) -> np.ndarray:
    """What a perfect note head would say: the labels, with 'ignore' read as 0."""
    return np.clip(labels, 0.0, 1.0)


def test_labels_of_a_tokenised_window_give_its_notes_back():
    tok = MidiTokenizer()
    seqs = tok.encode_windows(_performance(), 4.0)
    first = tok.decode_window(tok.tokens_to_ids(seqs[0].tokens), 4.0)
    labels = note_labels(first, 400)
    ref = sorted((n.pitch, round(n.start, 2)) for n in first.instruments[0].notes)
    got = roll_to_notes(_probabilities(labels))
    assert sorted((p, round(s, 2)) for p, s, *_ in got) == ref
    by_key = {(p, round(s, 2)): (e, v) for p, s, e, v, _ in got}
    for n in first.instruments[0].notes:
        end, vel = by_key[(n.pitch, round(n.start, 2))]
        assert abs(end - n.end) <= 0.011
        assert abs(vel - n.velocity) <= 1
    # the note still sounding at the window end has no offset to learn there
    key = 60 - 21
    assert (labels[-2:, key, OFFSET] == -1).all() and labels[-1, key, FRAME] == 1


def test_a_note_tied_in_from_the_last_window_has_no_onset_to_learn():
    tok = MidiTokenizer()
    seqs = tok.encode_windows(_performance(), 4.0)
    second = tok.decode_window(tok.tokens_to_ids(seqs[1].tokens), 4.0)
    labels = note_labels(second, 400)
    key = 60 - 21
    assert (labels[:2, key, ONSET] == -1).all() and (labels[:100, key, FRAME] == 1).all()
    assert labels[120, key, OFFSET] == 1 and labels[120, key, VELOCITY] == 0
    assert not any(p == 60 and s < 0.05 for p, s, *_ in roll_to_notes(_probabilities(labels)))


def test_windows_cover_the_recording_and_blend_back_exactly():
    for n in (50, 400, 401, 1234):
        starts = window_starts(n, 400, 50)
        assert starts[0] == 0 and starts[-1] + min(400, n) == n
        assert all(b - a <= 350 for a, b in zip(starts, starts[1:]))
    roll = np.random.default_rng(0).random((1234, 88, 4)).astype(np.float32)
    starts = window_starts(1234, 400, 50)
    chunks = [roll[s:s + 400] for s in starts]
    assert np.allclose(blend_windows(chunks, starts, 1234, 50), roll, atol=1e-5)


def test_repeated_notes_on_one_key_stay_apart():
    probs = np.zeros((100, 88, 4), np.float32)
    probs[10:12, 40, ONSET] = probs[30:32, 40, ONSET] = 0.9
    probs[10:70, 40, FRAME] = 0.9
    probs[10:12, 40, VELOCITY] = probs[30:32, 40, VELOCITY] = 0.5
    notes = roll_to_notes(probs)
    assert [(p, s, e) for p, s, e, *_ in notes] == [(61, 0.1, 0.3), (61, 0.3, 0.7)]
    assert all(v == 64 for *_, v, _ in notes)
    assert [round(c, 2) for *_, c in notes] == [0.9, 0.9]     # 0.9 is 80% of the way from threshold 0.5 to 1


@pytest.mark.parametrize("stem", ["conv2d", "conv1d"])
def test_the_note_head_learns_a_real_recording(stem):
    """A tiny model with the note head overfits one synthesised window: the loss falls by half."""
    import torch

    from model.io.types import Midi
    from model.synth import find_soundfont, midi_to_audio
    from model.tokenizers.audio import MelConfig, log_mel
    from model.transformer import ModelConfig, Seq2Seq, note_loss

    torch.manual_seed(0)
    pm = _performance()
    audio = midi_to_audio(Midi(pm), find_soundfont(), sample_rate=16000)
    mel = log_mel(audio.mono(16000), MelConfig())[:300]
    labels = note_labels(pm, len(mel))
    model = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=40, audio_stem=stem, note_head=True,
                                              audio_channels=(4, 8), dropout=0.0))
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    x, y, tm = torch.as_tensor(mel)[None], torch.as_tensor(labels)[None], torch.zeros(1, dtype=torch.long)
    losses = []
    for _ in range(40):
        loss = note_loss(model.notes(x, tm), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert model.notes(x, tm).shape == (1, 300, 88, 4)
    assert losses[-1] < 0.5 * losses[0]


def test_threshold_grid_scores_a_perfect_roll_perfectly_and_a_shy_one_by_its_threshold():
    from model.notes import notes_to_midi
    from model.training.thresholds import grid_scores

    pm = _performance()
    labels = note_labels(pm, 600)
    ref = notes_to_midi(roll_to_notes(_probabilities(labels)))
    shy = _probabilities(labels).copy()
    shy[..., ONSET] *= 0.65                 # a head that is never more than 65% sure of an onset
    grid = {g["onset_threshold"]: g for g in grid_scores([shy], [ref], onsets=(0.5, 0.7), frames=(0.3,))}
    assert grid[0.5]["onset_f1"] == 1.0 and grid[0.5]["onset_recall"] == 1.0
    assert grid[0.7]["onset_recall"] == 0.0          # every onset peak (0.65) is under the threshold


def test_validation_refuses_a_piano_it_trains_or_is_tested_on(tmp_path):
    from model.data.build import HELD_OUT_SOUNDFONT, TRAIN_SOUNDFONTS
    from model.errors import UnimtError
    from model.training.thresholds import validation_recordings

    for sf in (TRAIN_SOUNDFONTS[0], HELD_OUT_SOUNDFONT):
        name = tmp_path / __import__("pathlib").Path(sf).name
        name.write_bytes(b"not read")          # the name alone decides
        with pytest.raises(UnimtError, match="cannot validate"):
            validation_recordings(str(name))
    with pytest.raises(UnimtError, match="not found"):
        validation_recordings(str(tmp_path / "missing.sf2"))


def test_spectral_eq_colours_the_spectrum_within_bounds_and_keeps_silence():
    from model.batching import AUDIO_PAD
    from model.training.train import spectral_eq

    rng = np.random.default_rng(0)
    frames = rng.normal(-4.0, 1.5, (300, 229)).astype(np.float32)
    frames[:50] = AUDIO_PAD                                       # silence at the log floor
    limit = 8 * np.log(10) / 20                                   # 8 dB in natural-log units
    changed = 0
    for seed in range(20):
        out = spectral_eq(frames, np.random.default_rng(seed), 8.0)
        assert out.shape == frames.shape and out.dtype == np.float32
        assert np.all(out[:50] == AUDIO_PAD)
        gain = out[50:] - frames[50:]
        assert np.abs(gain).max() <= limit + 1e-5
        assert np.allclose(gain, gain[0], atol=1e-5)             # one curve for the whole window
        changed += np.abs(gain).max() > 0.1
    assert changed >= 10                                          # it does colour most windows
    assert np.array_equal(spectral_eq(frames, rng, 0.0), frames)


def test_a_quiet_recording_is_brought_to_the_target_level_and_silence_stays_silent():
    from model.tokenizers.audio import MelConfig, level_gain, level_mel, log_mel, loudness

    rng = np.random.default_rng(0)
    t = np.arange(16000 * 2) / 16000
    x = (0.5 * np.sin(2 * np.pi * 440 * t) * (t < 1.5) + 0.001 * rng.standard_normal(t.size)).astype(
        np.float32
    )
    x[: 16000 // 4] = 0.0                                            # a quarter second of digital silence
    loud, quiet = x, x * 0.1                                         # the same recording 20 dB down
    assert loudness(log_mel(loud)) - loudness(log_mel(quiet)) == pytest.approx(20 * np.log(10) / 10, abs=0.05)
    a, b = level_mel(loud, 8.7), level_mel(quiet, 8.7)
    assert loudness(a) == pytest.approx(8.7, abs=0.01) and loudness(b) == pytest.approx(8.7, abs=0.01)
    # heard alike, partials and noise included
    assert np.abs(a - b).max() < 1e-3
    assert np.all(b[:15] == np.float32(np.log(MelConfig().log_floor)))   # silence is not made audible
    assert level_gain(np.zeros(16000, dtype=np.float32), 8.7) == 1.0
    assert level_gain(quiet * 1e-2, 100.0, max_gain_db=40.0) == pytest.approx(100.0, rel=1e-3)   # capped


def test_a_quiet_recording_is_transcribed_like_a_loud_one(files):
    """A recording made 20 dB down (a distant microphone, a low input gain) is brought to the level the
    shipped weights were tuned at, so it gives the notes of the full-level recording."""
    import pretty_midi

    from model.inference.engine import Engine
    from model.inference.weights import PACKAGED_WEIGHTS
    from model.io import load
    from model.io.types import Audio
    from model.metrics import NoteF1
    from model.progress import Reporter

    engine = Engine(PACKAGED_WEIGHTS, "cpu")
    assert engine.audio_level is not None
    audio = load(files["wav"])
    ref = pretty_midi.PrettyMIDI(str(files["mid"]))
    scores = []
    for gain in (1.0, 0.1):
        midi = engine.transcribe(Audio(audio.samples * gain, audio.sample_rate), Reporter())
        f1 = NoteF1()
        f1.add(midi.pm, ref)
        scores.append(f1.summary()["onset_f1"])
    assert scores[0] > 0.5 and scores[1] > scores[0] - 0.03


def test_the_tuner_writes_the_chosen_level_with_the_thresholds(tmp_path):
    import json

    from model.training.thresholds import write_thresholds

    (tmp_path / "config.json").write_text(
        json.dumps({"inference": {"audio_window_s": 4.0, "audio_level": 8.0}})
    )
    write_thresholds(
        str(tmp_path), {"onset_threshold": 0.7, "frame_threshold": 0.2, "audio_level": 8.7}, "here"
    )
    inf = json.loads((tmp_path / "config.json").read_text())["inference"]
    assert inf == {"audio_window_s": 4.0, "audio_level": 8.7, "onset_threshold": 0.7, "frame_threshold": 0.2,
                   "tuned_on": "here"}
    write_thresholds(
        str(tmp_path), {"onset_threshold": 0.6, "frame_threshold": 0.3, "audio_level": None}, "there"
    )
    assert json.loads((tmp_path / "config.json").read_text())["inference"]["audio_level"] == 8.7   # kept
