"""Piano rolls for the note head: notes -> frame labels for training, frame probabilities -> notes.

Frames are 10 ms (the mel hop); keys are the 88 piano keys from A0 (MIDI 21). Labels per frame and key:

* onset: 1 on the note's first two frames (a 20 ms target forgives a frame of jitter);
* frame: 1 while the key is held;
* offset: 1 on the frame the key is released;
* velocity: velocity / 127 (learned only where the onset is 1).

A note already sounding when a window starts has no onset to learn there, and one still sounding
at its end has no offset: those labels are -1 (ignored), as is padding.

The thresholds that :func:`roll_to_notes` reads notes with are chosen by :mod:`model.training.thresholds`.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from model.transformer import NOTE_KEYS, NOTE_LOW

ONSET, FRAME, OFFSET, VELOCITY = range(4)
FPS = 100


def note_labels(pm, n_frames: int, fps: int = FPS) -> np.ndarray:
    """(n_frames, 88, 4) float32 labels of a PrettyMIDI window (decoded by ``MidiTokenizer.decode_window``,
    whose ``unimt_window`` record marks the tied and open notes)."""
    from model.tokenizers.midi import WINDOW_INFO

    labels = np.zeros((n_frames, NOTE_KEYS, 4), dtype=np.float32)
    info = getattr(pm, WINDOW_INFO, None) or {"tied": [], "open": []}
    tied, open_ = set(map(tuple, info["tied"])), set(map(tuple, info["open"]))
    for k, inst in enumerate(pm.instruments):
        if inst.is_drum:
            continue
        for j, n in enumerate(inst.notes):
            key = n.pitch - NOTE_LOW
            if not 0 <= key < NOTE_KEYS:
                continue
            on = int(round(n.start * fps))
            off = max(on + 1, int(round(n.end * fps)))
            if on >= n_frames:
                continue
            labels[max(on, 0):min(off, n_frames), key, FRAME] = 1.0
            if (k, j) in tied:
                seg = labels[0:2, key, ONSET]              # a view: no onset here to learn
                seg[seg < 0.5] = -1.0
            else:
                labels[on:on + 2, key, ONSET] = 1.0
                labels[on:on + 2, key, VELOCITY] = n.velocity / 127.0
            if (k, j) in open_:
                labels[max(off - 2, 0):n_frames, key, OFFSET] = -1.0
            elif off < n_frames:
                labels[off, key, OFFSET] = 1.0
    return labels


def roll_to_notes(
    probs: np.ndarray,
    fps: int = FPS,
    onset_threshold: float = 0.5,
    frame_threshold: float = 0.4,
    min_frames: int = 2,
) -> list[tuple[int, float, float, int, float]]:
    """Notes (pitch, start s, end s, velocity, confidence) from (T, 88, 4) probabilities.

    An onset is the first frame of a run of onset probability above ``onset_threshold``; the note
    lasts while the frame probability stays above ``frame_threshold`` (at least ``min_frames``) and
    ends at the next onset of the same key. Confidence maps the onset run's peak probability from the
    threshold (0.5: barely a note) to certainty (1.0).
    """
    t_total = probs.shape[0]
    notes = []
    for key in range(probs.shape[1]):
        on_p, fr_p, vel = probs[:, key, ONSET], probs[:, key, FRAME], probs[:, key, VELOCITY]
        above = on_p > onset_threshold
        starts = np.flatnonzero(above & ~np.concatenate([[False], above[:-1]]))
        for i, s in enumerate(starts):
            run_end = s
            while run_end + 1 < t_total and above[run_end + 1]:
                run_end += 1
            limit = starts[i + 1] if i + 1 < len(starts) else t_total
            e = max(run_end + 1, s + min_frames)
            while e < limit and fr_p[e] > frame_threshold:
                e += 1
            e = min(max(e, s + min_frames), max(limit, s + 1))
            v = int(np.clip(round(float(vel[s:run_end + 1].mean()) * 127), 1, 127))
            peak = float(on_p[s:run_end + 1].max())   # 0.5 at the threshold, 1.0 when certain
            conf = 0.5 + 0.5 * (peak - onset_threshold) / max(1e-6, 1.0 - onset_threshold)
            notes.append((key + NOTE_LOW, s / fps, e / fps, v, conf))
    notes.sort(key=lambda n: (n[1], n[0]))
    return notes


def notes_to_midi(notes: list[tuple], program: int = 0):
    """A one-piano PrettyMIDI of (pitch, start, end, velocity[, confidence]) notes."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program, name="Piano")
    for n in notes:
        inst.notes.append(pretty_midi.Note(int(n[3]), int(n[0]), float(n[1]), float(n[2])))
    pm.instruments.append(inst)
    return pm


def window_starts(n_frames: int, window: int, overlap: int) -> list[int]:
    """Start frames of windows of ``window`` frames overlapping by ``overlap``, covering ``n_frames``."""
    if n_frames <= window:
        return [0]
    hop = window - overlap
    starts = list(range(0, n_frames - window, hop))
    starts.append(n_frames - window)
    return starts


def add_windows(out: np.ndarray, weight: np.ndarray, chunks, starts, base: int, n_frames: int,
                overlap: Optional[int]) -> None:
    """Add windows starting at absolute frames ``starts`` into ``out``/``weight`` (which begin at frame
    ``base`` of a recording of ``n_frames``), each ramped over ``overlap`` frames at its inner edges."""
    for chunk, s in zip(chunks, starts):
        t = min(len(chunk), n_frames - s)
        ramp = np.ones(t, dtype=np.float32)
        edge = min(overlap or 0, t // 2)
        if edge > 0:
            r = (np.arange(edge, dtype=np.float32) + 1) / (edge + 1)
            if s > 0:
                ramp[:edge] = r
            if s + t < n_frames:
                ramp[t - edge:] = r[::-1]
        out[s - base:s - base + t] += chunk[:t] * ramp[:, None, None]
        weight[s - base:s - base + t, 0, 0] += ramp


def blend_windows(chunks: list[np.ndarray], starts: list[int], n_frames: int,
                  overlap: Optional[int] = None) -> np.ndarray:
    """Average overlapping windows' (t, 88, 4) probabilities into one (n_frames, 88, 4) roll, with a
    linear cross-fade so each frame trusts the window where it lies further from the edge."""
    out = np.zeros((n_frames,) + chunks[0].shape[1:], dtype=np.float32)
    weight = np.zeros((n_frames, 1, 1), dtype=np.float32)
    add_windows(out, weight, chunks, starts, 0, n_frames, overlap)
    return out / np.maximum(weight, 1e-6)
