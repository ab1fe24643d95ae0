"""Audio and score-image front-ends: log-mel frames and staff-normalised system canvases."""

from __future__ import annotations

import numpy as np
import pytest

from model.tokenizers.audio import AudioFrames, MelConfig, _hz_to_mel, _mel_to_hz, log_mel, mel_filterbank
from model.tokenizers.score_image import SystemImageConfig, SystemImageFrontEnd, normalise_system


def test_mel_scale_round_trip_and_filterbank_shape():
    f = np.array([0.0, 100.0, 440.0, 1000.0, 4000.0, 8000.0])
    assert np.allclose(_mel_to_hz(_hz_to_mel(f)), f)
    fb = mel_filterbank(16000, 2048, 229, 30.0, 8000.0)
    assert fb.shape == (229, 1025) and (fb >= 0).all() and (fb.sum(axis=1) > 0).all()


@pytest.mark.parametrize("freq", [110.0, 440.0, 1760.0])
def test_a_sine_lights_up_its_own_mel_band(freq):
    cfg = MelConfig()
    t = np.arange(cfg.sample_rate) / cfg.sample_rate
    frames = log_mel(0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32), cfg)
    assert frames.shape == (101, cfg.n_mels)  # 10 ms hop, centred frames
    centres = _mel_to_hz(np.linspace(_hz_to_mel(cfg.fmin), _hz_to_mel(cfg.fmax), cfg.n_mels + 2))[1:-1]
    peak = int(np.argmax(frames[50]))
    assert abs(np.log2(centres[peak] / freq)) < 0.1


def test_audio_frames_from_a_file(files):
    seq = AudioFrames().encode(files["wav"])
    assert seq.frames.shape[1] == 229 and len(seq) == seq.frames.shape[0]
    assert abs(len(seq) / 100.0 - 25.0) < 1.0  # the chorale renders to about 25 s


def test_system_canvas_is_staff_normalised(files):
    from model.io import load
    from model.omr.staves import detect_staves
    from model.omr.systems import crop, find_systems

    page = load(files["png"]).page(0)
    systems, straight = find_systems(page)
    canvas = normalise_system(crop(straight, systems[0]), SystemImageConfig(height=400))
    assert canvas.shape[0] == 400 and canvas.shape[1] % 8 == 0 and canvas.dtype == np.float32
    staves, _ = detect_staves((canvas * 255).astype(np.uint8))
    assert staves and abs(np.median([s.spacing for s in staves]) - 5.0) < 0.6
    seq = SystemImageFrontEnd().encode(crop(straight, systems[0]))
    assert seq.pixels.shape[0] == 160 and len(seq) == seq.pixels.shape[1] // 8
