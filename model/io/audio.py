"""Audio: WAV, FLAC, OGG and MP3 read (via libsndfile); WAV and FLAC written atomically.

A recording is checked by what it means before it is read: its sample rate, channels and length in
seconds. A long one (over :data:`STREAM_SECONDS`, or more samples than :data:`MEMORY_SAMPLES`) is not
read at all: it is a :class:`StreamedAudio`, read from the file in blocks by whoever uses it
(transcription, re-encoding), so memory is bounded by a block, not by the recording.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from model.errors import BadInputError, LimitError, limit_text, reason
from model.io.atomic import atomic_path
from model.io.formats import MAX_AUDIO_CHANNELS, MAX_AUDIO_SECONDS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from model.io.types import Audio

BLOCK = 1 << 18                      # frames read at a time
STREAM_SECONDS = 600                 # longer recordings are read in blocks when used, never whole
MEMORY_SAMPLES = 64_000_000          # values (frames x channels) read whole at most: 256 MB of float32
MAX_HELD_SAMPLES = 400_000_000       # a streamed recording asked for whole (the app's waveform): 1.6 GB


class StreamedAudio(Audio):
    """A recording read from its file in blocks: ``samples`` only when asked (bounded), else :meth:`mono_span`
    and :meth:`blocks` read what they need."""

    def __init__(self, path: Path, sample_rate: int, channels: int, frames: int):
        self.path, self.source, self.sample_rate = Path(path), Path(path), int(sample_rate)
        self._channels, self._frames, self._samples = int(channels), int(frames), None

    def __repr__(self) -> str:
        return f"StreamedAudio({str(self.path)!r}, {self.sample_rate} Hz, {self._channels} ch, {self._frames} frames)"

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def samples(self) -> np.ndarray:  # type: ignore[override]
        if self._samples is None:
            if self._frames * self._channels > MAX_HELD_SAMPLES:
                raise LimitError(f"the recording has {limit_text(self._frames * self._channels)} samples, too many "
                                 f"to hold in memory (at most {limit_text(MAX_HELD_SAMPLES)})", self.path)
            self._samples = _read_whole(self.path, self._channels > 2)
        return self._samples

    @property
    def duration(self) -> float:
        return self._frames / float(self.sample_rate)

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def n_frames(self) -> int:
        return self._frames

    def mono(self, sample_rate: Optional[int] = None) -> np.ndarray:
        if self._frames > MAX_HELD_SAMPLES:
            raise LimitError("the recording is too long to hold in memory", self.path)
        return super().mono(sample_rate)

    def mono_span(self, start: int, stop: int) -> np.ndarray:
        import soundfile as sf

        with sf.SoundFile(self.path) as fh:
            fh.seek(max(0, start))
            x = fh.read(max(0, stop - start), dtype="float32", always_2d=True)
        return _finite(x.mean(axis=1) if x.shape[1] > 1 else x[:, 0])

    def blocks(self, frames: int = BLOCK) -> Iterator[np.ndarray]:
        import soundfile as sf

        with sf.SoundFile(self.path) as fh:
            for block in fh.blocks(blocksize=frames, dtype="float32", always_2d=True):
                yield _finite(block)


def _finite(x: np.ndarray) -> np.ndarray:
    return x if np.isfinite(x).all() else np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)


def check_audio_header(path: Path, sr: int, channels: int, frames: int) -> None:
    """Refuse a recording by what its header says, before a sample is read."""
    from model.io.midiscan import duration_text

    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise BadInputError(f"the sample rate {limit_text(sr)} Hz is outside {limit_text(MIN_SAMPLE_RATE)}.."
                            f"{limit_text(MAX_SAMPLE_RATE)} Hz", path)
    if channels > MAX_AUDIO_CHANNELS:
        raise LimitError(f"the recording has {limit_text(channels)} channels; at most {MAX_AUDIO_CHANNELS} are "
                         "supported", path)
    if frames <= 0:
        raise BadInputError("contains no audio (0 seconds)", path)
    if frames > MAX_AUDIO_SECONDS * sr:
        raise LimitError(f"the recording is {duration_text(frames / sr)} long; at most "
                         f"{duration_text(MAX_AUDIO_SECONDS)} are supported", path)


def read_audio(path: Path) -> Audio:
    """Read an audio file: whole when short, else a :class:`StreamedAudio` (checked, its first block decoded)."""
    import soundfile as sf

    try:
        with sf.SoundFile(path) as fh:
            sr, channels, frames = fh.samplerate, fh.channels, fh.frames
            check_audio_header(path, sr, channels, frames)
            if frames > STREAM_SECONDS * sr or frames * channels > MEMORY_SAMPLES:
                if len(fh.read(min(frames, BLOCK), dtype="float32", always_2d=True)) == 0:
                    raise BadInputError("contains no audio (0 seconds)", path)
                return StreamedAudio(path, sr, channels, frames)
        return Audio(_read_whole(path, False), int(sr), source=path)
    except (BadInputError, MemoryError):
        raise
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        why = reason(exc)
        if "does not exist" in why or "unimplemented format" in why:
            why = "unrecognised or corrupt audio data"
        raise BadInputError(f"cannot decode the audio ({why})", path) from None


def _read_whole(path: Path, to_mono: bool) -> np.ndarray:
    import soundfile as sf

    with sf.SoundFile(path) as fh:
        blocks = [b.mean(axis=1, keepdims=True) if to_mono else b
                  for b in fh.blocks(blocksize=BLOCK, dtype="float32", always_2d=True)]
    if not blocks or sum(len(b) for b in blocks) == 0:
        raise BadInputError("contains no audio (0 seconds)", path)
    samples = np.concatenate(blocks, axis=0)
    del blocks
    if samples.shape[1] == 1:
        samples = samples[:, 0]
    return np.ascontiguousarray(_finite(samples))


class _Sink:
    """A binary file for libsndfile's virtual IO that keeps the OS error of a failed write (libsndfile itself
    only says "System error"), so the output's problem can be named (the disk is full, the file too large)."""

    def __init__(self, fh):
        self.fh, self.error = fh, None

    def write(self, data) -> int:
        try:
            return self.fh.write(data)
        except OSError as exc:
            self.error = exc
            return 0

    def __getattr__(self, name):
        return getattr(self.fh, name)


def write_audio(audio: Audio, path: Path, fmt: str) -> list[Path]:
    """Write WAV or FLAC (16-bit) block by block: a long recording never needs a second copy in memory."""
    import soundfile as sf

    with atomic_path(path) as tmp, open(tmp, "w+b") as raw:
        sink = _Sink(raw)
        try:
            with sf.SoundFile(sink, "w", samplerate=int(audio.sample_rate), channels=audio.channels,
                              format=fmt.upper(), subtype="PCM_16") as fh:
                for block in audio.blocks():
                    fh.write(np.clip(np.asarray(block, dtype=np.float32), -1.0, 1.0))
                    if sink.error is not None:
                        raise sink.error
        except Exception:  # libsndfile's "System error", or soundfile's assertion on a short write
            if sink.error is not None:
                raise sink.error from None
            raise
    return [path]
