"""Long recordings transcribed from the file in windows: memory bounded by a segment, not the recording.

The whole-recording path (:meth:`model.inference.engine.Engine.transcribe_notes`) holds the samples, their
16 kHz copy, the STFT (3 GB for an hour) and the probability roll (0.5 GB an hour). Here the same steps run
segment by segment, each computed from the file (:meth:`Audio.mono_span`):

1. loudness: the log-mel frames of every segment give the recording's level (the 95th percentile of frame
   power, as :func:`model.tokenizers.audio.loudness`), kept as one number per frame;
2. the note head's windows (the same grid, overlap and cross-fade as the whole path) are run in order, and
   frames no later window touches are final;
3. final frames are read into notes in chunks, with a look-ahead: a note that starts in a chunk is ended
   within the look-ahead (notes held longer than :data:`LOOKAHEAD_S` are cut there).

Every frame is computed exactly as the whole path computes it (resampling with margins on whole resampling
periods, the STFT's reflection at the recording's ends), so the notes are the same
(tests/model/test_hostile.py).
"""

from __future__ import annotations

from math import ceil, gcd

import numpy as np

from model.io.types import Audio, Midi
from model.progress import Reporter

SEGMENT_S = 60.0  # audio computed at a time (frames, STFT): about 60 MB
LOOKAHEAD_S = 30.0  # the longest note that is never cut


class _Frames:
    """Log-mel frames [a, b) of a recording, computed from the file (16 kHz mono, the engine's mel config)."""

    def __init__(self, audio: Audio, config):
        self.audio, self.config = audio, config
        self.up, self.down = config.sample_rate, audio.sample_rate
        g = gcd(self.up, self.down)
        self.up, self.down = self.up // g, self.down // g
        self.n16 = -(-audio.n_frames * self.up // self.down)
        self.total = 1 + self.n16 // config.hop_length
        half = ceil(10 * max(self.up, self.down) / self.up)  # resample_poly's filter, in input samples
        self.margin = (2 * half // self.down + 2) * self.down

    def samples16(self, a: int, b: int) -> np.ndarray:
        """16 kHz mono samples [a, b), 0 <= a < b <= n16."""
        from scipy.signal import resample_poly

        if self.up == self.down == 1:
            return self.audio.mono_span(a, b)
        start = max(0, (a * self.down // self.up - self.margin) // self.down * self.down)
        stop = min(self.audio.n_frames, b * self.down // self.up + self.margin)
        x = self.audio.mono_span(start, stop)
        y = resample_poly(x, self.up, self.down).astype(np.float32)
        off = start * self.up // self.down
        return y[a - off : b - off]

    def mel_power(self, fa: int, fb: int):
        """(n_mels, fb - fa) mel power of frames [fa, fb), as ``torch.stft(center=True)`` on the whole
        recording."""
        import torch

        from model.tokenizers.audio import mel_filterbank

        c = self.config
        half = c.n_fft // 2
        idx = np.arange(fa * c.hop_length - half, (fb - 1) * c.hop_length + half)
        idx = np.abs(idx)  # reflect at the start
        idx = np.where(idx >= self.n16, 2 * (self.n16 - 1) - idx, idx)  # and at the end
        lo, hi = int(idx.min()), int(idx.max()) + 1
        x = self.samples16(lo, hi)[idx - lo]
        spec = torch.stft(
            torch.as_tensor(np.ascontiguousarray(x)),
            c.n_fft,
            c.hop_length,
            window=torch.hann_window(c.n_fft),
            center=False,
            return_complex=True,
        )
        fb_ = torch.as_tensor(mel_filterbank(c.sample_rate, c.n_fft, c.n_mels, c.fmin, c.fmax))
        return fb_ @ (spec.abs() ** 2)


def _level_gain(frames: _Frames, engine, report: Reporter, step: int) -> float:
    """The power gain of the engine's ``audio_level`` for the whole recording, one segment at a time."""
    from model.tokenizers.audio import _level_gain as gain_of
    from model.tokenizers.audio import _log

    if engine.audio_level is None:
        return 1.0
    powers = []
    for fa in range(0, frames.total, step):
        report(fa, 2 * frames.total, "measuring the recording's level")
        logmel = _log(frames.mel_power(fa, min(frames.total, fa + step)), frames.config)
        powers.append(np.logaddexp.reduce(logmel.astype(np.float64), axis=1))
    level = float(np.percentile(np.concatenate(powers), 95))
    return gain_of(level, float(engine.audio_level), frames.config, 40.0)


class _NoteReader:
    """Final probability frames in, notes out: :func:`model.notes.roll_to_notes` on chunks with a
    look-ahead."""

    def __init__(self, engine, fps: int, lookahead: int):
        self.engine, self.fps, self.lookahead = engine, fps, lookahead
        self.buf = np.zeros((0, 88, 4), dtype=np.float32)
        self.b0 = 0  # absolute frame of buf[0]
        self.next = 0  # notes starting before this frame are out
        self.notes: list = []

    def push(self, final: np.ndarray, last: bool = False) -> None:
        self.buf = np.concatenate([self.buf, final]) if len(self.buf) else final
        while True:
            held = self.b0 + len(self.buf)
            if last and self.next < held:
                self._read(held)
            elif held - self.next > 2 * self.lookahead:
                self._read(held - self.lookahead)
            else:
                return

    def _read(self, end: int) -> None:
        from model.notes import roll_to_notes

        inf = self.engine.inference
        for n in roll_to_notes(
            self.buf,
            fps=self.fps,
            onset_threshold=float(inf.get("onset_threshold", 0.5)),
            frame_threshold=float(inf.get("frame_threshold", 0.4)),
        ):
            s, e = int(round(n[1] * self.fps)) + self.b0, int(round(n[2] * self.fps)) + self.b0
            if self.next <= s < end:
                self.notes.append((n[0], s / self.fps, e / self.fps, n[3], n[4]))
        keep = max(0, end - 1 - self.b0)  # one frame before ``end``: an onset needs the frame before it
        self.buf, self.b0, self.next = self.buf[keep:], self.b0 + keep, end


def transcribe_streamed(
    engine,
    audio: Audio,
    report: Reporter,
    batch_size: int = 8,
    segment_s: float = SEGMENT_S,
    lookahead_s: float = LOOKAHEAD_S,
) -> Midi:
    """Audio -> MIDI through the note head, reading the recording from its file segment by segment."""
    import torch

    from model.batching import Example, collate
    from model.notes import add_windows, notes_to_midi, window_starts

    c = engine.mel_config
    fps = int(round(c.frames_per_second))
    frames = _Frames(audio, c)
    step = max(1, int(segment_s * fps))
    gain = _level_gain(frames, engine, report, step)
    per_window = int(round(engine.audio_window_s * fps))
    overlap = min(int(round(engine.audio_overlap_s * fps)), per_window - 1)
    starts = window_starts(frames.total, per_window, overlap)
    reader = _NoteReader(engine, fps, max(1, int(lookahead_s * fps)))
    out = np.zeros((0, 88, 4), np.float32)
    weight = np.zeros((0, 1, 1), np.float32)
    base = 0  # absolute frame of out[0]
    tm = engine.vocab.target_id("midi")
    i = 0
    while i < len(starts):
        j = i + 1  # the windows of this segment: [starts[i], starts[j-1] + window)
        while j < len(starts) and starts[j] + per_window - starts[i] <= max(step, per_window):
            j += 1
        fa, fb = starts[i], min(frames.total, starts[j - 1] + per_window)
        report(
            frames.total + fa,
            2 * frames.total,
            f"transcribing {fa / fps:.0f} s of {frames.total / fps:.0f} s",
        )
        mel = frames.mel_power(fa, fb) * gain
        seg = torch.log(torch.clamp(mel, min=c.log_floor)).T.contiguous().numpy()
        chunks = []
        for k in range(i, j, batch_size):
            report(
                frames.total + starts[k],
                2 * frames.total,  # Cancel is heard between batches
                f"transcribing {starts[k] / fps:.0f} s of {frames.total / fps:.0f} s",
            )
            exs = [
                Example("audio2notes", "audio", seg[s - fa : s - fa + per_window], [], tm)
                for s in starts[k : min(j, k + batch_size)]
            ]
            b = collate(exs, engine.vocab.bos, engine.vocab.eos)
            with torch.inference_mode():
                logits = engine.model.notes(
                    b.src.to(engine.device), b.target_modality.to(engine.device), b.src_pad.to(engine.device)
                )
            probs = torch.sigmoid(logits.float()).cpu().numpy()
            chunks.extend(pr[: len(e.src)] for e, pr in zip(exs, probs))
        grow = fb - base - len(out)
        if grow > 0:
            out = np.concatenate([out, np.zeros((grow, 88, 4), np.float32)])
            weight = np.concatenate([weight, np.zeros((grow, 1, 1), np.float32)])
        add_windows(out, weight, chunks, starts[i:j], base, frames.total, overlap)
        final = (starts[j] if j < len(starts) else frames.total) - base
        reader.push(out[:final] / np.maximum(weight[:final], 1e-6), last=j >= len(starts))
        out, weight, base = out[final:], weight[final:], base + final
        i = j
    report(1, 1, "reading notes")
    notes = sorted(reader.notes, key=lambda n: (n[1], n[0]))
    midi = Midi(notes_to_midi(notes), source=None)
    midi.note_confidence = [n[4] for n in notes]
    return midi
