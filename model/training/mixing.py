"""Denser music from the windows at hand: two recordings mixed at every use (audio2notes).

The training windows (chorales, songs, procedurally written pieces) are sparser than the piano music that
people record: a ragtime's stride bass under a melody in octaves sounds 15-20 notes a second, four to six at
once. A note head trained on the sparse windows alone misses most notes of such music (the Maple Leaf Rag
played dry by a training piano: onset recall 43%, against 79% for its right hand alone).

:func:`mix` lays a second window over the first, as two pianos heard together: the sum of their mel powers
(``logaddexp`` of the log-mel frames, the second at a gain drawn from +-``max_db`` dB), brought back to the
first window's loudness, and the union of their note labels. Phase between the two is ignored, as in any
power-domain mixture. Every call draws its own partner and gain, so no pair is seen twice.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["mix", "mixed"]


def mix(a, b, rng: np.random.Generator, max_db: float = 6.0):
    """Example ``a`` (audio2notes: log-mel ``src``, ``labels``) with ``b`` mixed in over ``a``'s length."""
    from model.batching import AUDIO_PAD as floor
    from model.notes import FRAME, OFFSET, ONSET, VELOCITY
    from model.tokenizers.audio import loudness

    n = min(len(a.src), len(b.src))
    if n == 0 or a.labels is None or b.labels is None:
        return a
    gain = float(rng.uniform(-max_db, max_db)) * np.log(10.0) / 10.0        # dB -> natural-log power
    src = a.src.astype(np.float32).copy()
    src[:n] = np.logaddexp(src[:n], b.src[:n].astype(np.float32) + gain)
    level_a, level_mix = loudness(a.src), loudness(src)
    if np.isfinite(level_a) and np.isfinite(level_mix):
        src = src - np.float32(level_mix - level_a)                    # the mixture as loud as ``a``
    src = np.maximum(src, np.float32(floor))

    la, lb = a.labels, b.labels[:n]
    labels = la.copy()
    top = labels[:n]
    top[..., FRAME] = np.maximum(top[..., FRAME], lb[..., FRAME])
    for ch in (ONSET, OFFSET):                          # 1 wins; else "do not learn here" (-1) wins over 0
        x, y = top[..., ch], lb[..., ch]
        top[..., ch] = np.where((x == 1) | (y == 1), 1.0, np.where((x < 0) | (y < 0), -1.0, 0.0))
    top[..., VELOCITY] = np.maximum(top[..., VELOCITY], lb[..., VELOCITY])
    return dataclasses.replace(a, src=src.astype(a.src.dtype), labels=labels)


def mixed(examples, rng: np.random.Generator, prob: float, max_db: float = 6.0, pool: int = 32):
    """``examples`` where audio2notes windows are, with probability ``prob``, mixed with an earlier window
    drawn from a pool of the last ``pool`` (each window also joins the pool as it was)."""
    seen: list = []
    for ex in examples:
        out = ex
        if ex.task == "audio2notes" and ex.labels is not None:
            if seen and rng.random() < prob:
                out = mix(ex, seen[int(rng.integers(len(seen)))], rng, max_db)
            if len(seen) < pool:
                seen.append(ex)
            else:
                seen[int(rng.integers(pool))] = ex
        yield out
