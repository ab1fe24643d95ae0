"""Denser training windows: two recordings mixed at every use (:mod:`model.training.mixing`).

Real parts: two excerpts played by a real soundfont piano, log-mel frames from the real front end, labels from
the real note-label code.
"""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from model.batching import Example

SR = 16000


def _window(pitches, start=0.2, step=0.5):
    from model.data.pianos import pianos, play
    from model.notes import note_labels
    from model.tokenizers.audio import log_mel

    bank = pianos("train")
    if not bank:
        pytest.skip("no training soundfont installed")
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(90, p, start + k * step, start + k * step + 0.4)
                  for k, p in enumerate(pitches)]
    pm.instruments.append(inst)
    audio = play(pm, bank[0], SR)[: 3 * SR]
    audio = np.pad(audio, (0, max(0, 3 * SR - audio.size)))
    frames = log_mel(audio)
    return Example("audio2notes", "audio", frames, [], 0, labels=note_labels(pm, len(frames)))


def test_a_mixture_holds_both_windows_notes_at_the_first_ones_level():
    from model.batching import AUDIO_PAD
    from model.notes import FRAME, NOTE_LOW, ONSET
    from model.tokenizers.audio import loudness
    from model.training.mixing import mix

    a, b = _window([60, 64, 67]), _window([40, 84], start=0.45)
    m = mix(a, b, np.random.default_rng(0), max_db=6.0)
    assert m.src.shape == a.src.shape and m.labels.shape == a.labels.shape
    onsets = {int(k) + NOTE_LOW for k in np.nonzero((m.labels[..., ONSET] == 1).any(axis=0))[0]}
    assert onsets == {60, 64, 67, 40, 84}
    assert np.array_equal(m.labels[..., FRAME], np.maximum(a.labels[..., FRAME], b.labels[..., FRAME]))
    assert loudness(m.src) == pytest.approx(loudness(a.src), abs=1e-3)
    assert float(m.src.min()) >= AUDIO_PAD - 1e-4
    # b's low note is heard in the mixture: its mel bins gained energy where b sounds
    assert float((m.src - a.src)[int(0.5 * 100):int(0.8 * 100), :20].mean()) > 0.5
    assert np.array_equal(a.labels, _window([60, 64, 67]).labels)        # the inputs are not changed


def test_ignored_label_regions_stay_ignored_and_onsets_win():
    from model.notes import OFFSET, ONSET
    from model.training.mixing import mix

    a, b = _window([60]), _window([62])
    a.labels[0:2, 30, ONSET] = -1.0          # a tied note at the window's start: not learnt there
    b.labels[0:2, 31, ONSET] = 1.0
    b.labels[5:, 40, OFFSET] = -1.0          # an open note
    m = mix(a, b, np.random.default_rng(1))
    assert (m.labels[0:2, 30, ONSET] == -1).all() and (m.labels[0:2, 31, ONSET] == 1).all()
    assert (m.labels[5:, 40, OFFSET] == -1).all()


def test_mixed_stream_mixes_about_the_share_asked_and_keeps_other_tasks():
    from model.training.mixing import mixed

    wins = [_window([60 + k]) for k in range(3)]
    other = Example("audio2midi", "audio", wins[0].src, [1, 2], 0)
    stream = (wins + [other]) * 30
    out = list(mixed(iter(stream), np.random.default_rng(0), 0.5))
    assert len(out) == len(stream)
    assert all(o is other for o, s in zip(out, stream) if s is other)
    changed = sum(not np.array_equal(o.src, s.src) for o, s in zip(out, stream) if s.task == "audio2notes")
    assert 25 <= changed <= 65                     # of 90 windows, about half (the first has no partner)
    assert list(mixed(iter(stream), np.random.default_rng(0), 0.0))[5] is stream[5]


def test_a_mel_room_tail_sounds_like_a_real_room_and_keeps_labels_and_level():
    """The same notes recorded in a simulated room (image-source, DRR -6 dB, RT60 1 s) and given the
    mel-domain tail at the same DRR and RT60: the two log-mel pictures agree far better than the dry one
    does."""
    from model.data.pianos import pianos, play
    from model.data.rooms import draw_room, impulse_response, reverberate
    from model.tokenizers.audio import log_mel, loudness
    from model.training.mixing import per_use, reverb

    ex = _window([60, 64, 67, 72, 48, 76])
    rng = np.random.default_rng(3)
    ir = impulse_response(draw_room(rng, (-6.0, -6.0), (1.0, 1.0), held_out=True), rng, SR)

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(90, p, 0.2 + k * 0.5, 0.6 + k * 0.5)
                  for k, p in enumerate([60, 64, 67, 72, 48, 76])]
    pm.instruments.append(inst)
    audio = play(pm, pianos("train")[0], SR)[: 3 * SR]
    audio = np.pad(audio, (0, max(0, 3 * SR - audio.size)))
    real = log_mel(reverberate(audio.astype(np.float64), ir)[: audio.size].astype(np.float32))

    class Fixed:   # the drawn DRR and RT60
        def uniform(self, lo, hi):
            return -6.0 if lo < 0 else 1.0

    out = reverb(ex, Fixed())

    def corr(x, y):
        x, y = x - np.percentile(x, 95), y - np.percentile(y, 95)
        return float(np.corrcoef(x.ravel(), y.ravel())[0, 1])

    assert corr(out.src, real) > corr(ex.src, real) + 0.05
    assert np.array_equal(out.labels, ex.labels) and out.src.shape == ex.src.shape
    assert loudness(out.src) == pytest.approx(loudness(ex.src), abs=1e-3)
    tail = slice(int(2.9 * 100) - 10, int(2.9 * 100))          # after the last note has stopped
    assert float(out.src[tail].mean()) > float(ex.src[tail].mean()) + 1.0
    stream = list(per_use(iter([ex] * 20), np.random.default_rng(0), 0.0, 1.0))
    assert all(not np.array_equal(s.src, ex.src) for s in stream)


def test_a_window_moved_up_an_octave_and_a_half_sounds_like_the_notes_played_there():
    from model.notes import FRAME, ONSET
    from model.tokenizers.audio import loudness
    from model.training.mixing import shift

    a, played = _window([60, 64, 67, 72]), _window([78, 82, 85, 90])
    s = shift(a, np.random.default_rng(0), semitones=18)
    assert np.array_equal(s.labels[..., ONSET], played.labels[..., ONSET])
    assert np.array_equal(s.labels[..., FRAME], played.labels[..., FRAME])
    assert loudness(s.src) == pytest.approx(loudness(a.src), abs=1e-3)

    def corr(x, y):  # of the frames' mel profiles where the notes sound, bands above 200 Hz
        x, y = x[20:230, 60:].ravel(), y[20:230, 60:].ravel()
        return float(np.corrcoef(x, y)[0, 1])

    assert corr(s.src, played.src) > corr(a.src, played.src) + 0.2
    assert corr(s.src, played.src) > 0.6
    # drawn shifts keep every note on the keyboard
    top = _window([104, 105])
    for seed in range(20):
        t = shift(top, np.random.default_rng(seed))
        assert t.labels[..., FRAME].sum() == top.labels[..., FRAME].sum()
