"""A piano recording as people make them, for training: a room, a microphone, noise, AGC, a limiter, a codec.

:func:`recorded` draws every stage at every call from the generator passed in, in signal-chain order:

* a room (nine times in ten) of the TRAINING family only (:func:`model.data.rooms.draw_room`; the held-out
  long, narrow, bright rooms are never drawn): DRR -15..+15 dB, RT60 0.2-2.5 s;
* a phone, laptop or recorder microphone (six times in ten);
* noise (eight times in ten): one or two of pink, hum, HVAC and babble, 20-50 dB below the music;
  ``others`` (other recordings) may feed the babble;
* automatic gain control (four times in ten) and a peak limiter (half the time);
* a lossy codec at 32-128 kbit/s (four times in ten) where ffmpeg has one (:mod:`model.data.channel`).

The output is float32, the same length as the input, finite, with peak <= 1. The existing light augmentation
(:func:`model.data.audio_aug.augment`) stays as it was for its callers; ``unimt data build --recording rooms``
chooses this chain instead.
"""

from __future__ import annotations

import numpy as np

__all__ = ["recorded"]


def recorded(x: np.ndarray, sr: int, rng: np.random.Generator, others: tuple = (),
             params: dict | None = None) -> np.ndarray:
    """``x`` (mono) recorded in a training room through a drawn channel (see the module's docstring)."""
    from model.data.channel import agc, codec, limiter, microphone, noise, safe
    from model.data.rooms import draw_room, impulse_response, measure_drr, reverberate

    p = params if params is not None else {}
    y = np.nan_to_num(np.asarray(x, dtype=np.float64))
    if y.size == 0:
        return safe(y)
    if rng.random() < 0.9:
        room = draw_room(rng)
        ir = impulse_response(room, rng, sr)
        y = reverberate(y, ir)
        p["room"] = (round(measure_drr(ir, sr), 1), round(room.rt60, 2), round(room.distance, 1))
    if rng.random() < 0.6:
        y = microphone(y, sr, rng, params=p)
    if rng.random() < 0.8:
        y = noise(y, sr, rng, float(rng.uniform(20.0, 50.0)), others=others, params=p)
    peak = float(np.abs(y).max())
    y = y * (rng.uniform(0.1, 0.9) / peak) if peak > 0 else y
    if rng.random() < 0.4:
        y = agc(y, sr, rng, params=p)
    if rng.random() < 0.5:
        y = limiter(y, sr, rng, params=p)
    if rng.random() < 0.4:
        y = codec(y, sr, rng, params=p)
    return safe(y)
