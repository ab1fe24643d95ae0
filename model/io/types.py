"""The four in-memory modality objects that readers return and writers take."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np


class Modality(str, Enum):
    IMAGE = "image"
    NOTATION = "notation"
    MIDI = "midi"
    AUDIO = "audio"

    @property
    def label(self) -> str:
        return {"image": "score image", "notation": "MusicXML score", "midi": "MIDI", "audio": "audio"}[self.value]


@dataclass
class ScoreImage:
    """Pages of a score as grayscale uint8 arrays (H, W), rendered lazily (a PDF can be long).

    Attributes:
        page_count: number of pages.
        dpi: resolution the pages are rendered at (72 px per inch is PDF's own unit).
        source: the file it came from, if any.
        render_page: callable ``i -> np.ndarray`` giving page ``i`` (0-based).
        svg_pages: the SVG text of each page when the image was engraved here (for vector output).
    """

    page_count: int
    render_page: Callable[[int], np.ndarray]
    dpi: int = 150
    source: Optional[Path] = None
    svg_pages: Optional[list[str]] = None
    modality: Modality = field(default=Modality.IMAGE, init=False)

    @classmethod
    def from_arrays(cls, pages: list[np.ndarray], dpi: int = 150, source: Optional[Path] = None,
                    svg_pages: Optional[list[str]] = None) -> "ScoreImage":
        pages = [np.ascontiguousarray(p, dtype=np.uint8) for p in pages]
        return cls(len(pages), lambda i: pages[i], dpi, source, svg_pages)

    def page(self, i: int) -> np.ndarray:
        if not 0 <= i < self.page_count:
            raise IndexError(f"page {i + 1} of {self.page_count}")
        return self.render_page(i)

    def pages(self) -> Iterator[np.ndarray]:
        for i in range(self.page_count):
            yield self.page(i)


@dataclass
class Notation:
    """A symbolic score (a music21 ``stream.Score``).

    A score read from images comes as MusicXML text (:meth:`from_musicxml`): music21 parses it the first
    time ``score`` is asked for, and until then the text is what is written (music21 takes seconds to parse
    and write again a score of a few pages, longer than reading them)."""

    score: Any
    source: Optional[Path] = None
    modality: Modality = field(default=Modality.NOTATION, init=False)
    #: set when the score was read from images: system boxes per page (``systems``), measures per system
    #: (``system_measures``), a confidence per measure (``measure_confidence``) and, from the staff
    #: reader, each measure's box on its page (``measure_boxes``)
    recognition: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_musicxml(cls, text: str, parse: Callable[[str], Any], source: Optional[Path] = None) -> "Notation":
        """A score given as MusicXML text, parsed by ``parse`` when first used
        (:func:`model.io.notation.lazy_notation`)."""
        notation = cls(None, source)
        del notation.score
        notation.__dict__["_musicxml"] = (text, parse)
        return notation

    @property
    def musicxml(self) -> Optional[str]:
        """The score's MusicXML text while music21 has not parsed it (so nothing can have changed it)."""
        held = self.__dict__.get("_musicxml")
        return held[0] if held else None

    def __getattr__(self, name: str) -> Any:
        if name != "score" or "_musicxml" not in self.__dict__:
            raise AttributeError(name)
        text, parse = self.__dict__["_musicxml"]
        self.score = parse(text)
        del self.__dict__["_musicxml"]   # the score may be changed from now on: the text would be stale
        return self.score


@dataclass
class Midi:
    """A MIDI performance or rendition (a ``pretty_midi.PrettyMIDI``)."""

    pm: Any
    source: Optional[Path] = None
    modality: Modality = field(default=Modality.MIDI, init=False)
    #: set when the notes were transcribed: one confidence (0..1) per note, in the order of
    #: ``pm.instruments[i].notes`` for i in order
    note_confidence: Optional[list] = field(default=None, compare=False, repr=False)

    @property
    def duration(self) -> float:
        return float(self.pm.get_end_time())


@dataclass
class Audio:
    """Audio as float32 samples in [-1, 1], shape (n,) for mono or (n, channels)."""

    samples: np.ndarray
    sample_rate: int
    source: Optional[Path] = None
    modality: Modality = field(default=Modality.AUDIO, init=False)

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[1])

    @property
    def n_frames(self) -> int:
        """Samples per channel."""
        return len(self.samples)

    def mono_span(self, start: int, stop: int) -> np.ndarray:
        """Mono float32 samples ``start:stop`` at the recording's own rate (how long recordings are read)."""
        x = self.samples[start:stop]
        x = x if x.ndim == 1 else x.mean(axis=1)
        return np.asarray(x, dtype=np.float32)

    def blocks(self, frames: int = 1 << 20) -> Iterator[np.ndarray]:
        """The samples in consecutive blocks of ``frames`` (all channels), as written to a file."""
        for start in range(0, self.n_frames, frames):
            yield self.samples[start:start + frames]

    def mono(self, sample_rate: Optional[int] = None) -> np.ndarray:
        """Downmixed (and, if asked, resampled) float32 mono samples, as the model wants them."""
        x = self.samples if self.samples.ndim == 1 else self.samples.mean(axis=1)
        x = x.astype(np.float32, copy=False)
        if sample_rate is not None and sample_rate != self.sample_rate:
            x = resample(x, self.sample_rate, sample_rate)
        return x


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling of a 1-D signal."""
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(x, sr_out // g, sr_in // g).astype(np.float32)
