"""Score image -> model input: staff-height normalisation, background whitening, fixed-height canvas.

The paper resizes each system so the staff is 18 px high and feeds RQ-VAE codes; here the continuous
patch front-end (``model.transformer.ImageStem``) reads the normalised system directly. The staff
spacing is set to ``spacing`` pixels, the system is centred vertically on a canvas of ``height`` rows,
and the width is padded to a multiple of 8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from model.tokenizers.base import Tokenizer, TokenSequence


@dataclass
class SystemImageConfig:
    spacing: float = 5.0        # pixels between staff lines after normalisation (staff height 20 px)
    height: int = 160           # canvas rows (a grand staff with ledger lines fits)
    max_width: int = 2400
    whiten_offset: int = 20     # pixels brighter than median - offset become white


def whiten(img: np.ndarray, offset: int = 20) -> np.ndarray:
    """Background whitening: everything brighter than (median - offset) becomes 255."""
    out = img.copy()
    out[out > int(np.median(img)) - offset] = 255
    return out


def staff_spacing(img: np.ndarray) -> Optional[float]:
    from model.omr.staves import detect_staves

    staves, _ = detect_staves(img, max_skew=1.0)
    if not staves:
        return None
    return float(np.median([s.spacing for s in staves]))


def normalise_system(img: np.ndarray, config: SystemImageConfig | None = None,
                     spacing: Optional[float] = None) -> np.ndarray:
    """A system image (uint8 gray) -> float32 canvas (height, W) in [0, 1], ink dark, staff-normalised."""
    from PIL import Image

    config = config or SystemImageConfig()
    img = np.asarray(img, dtype=np.uint8)
    spacing = spacing or staff_spacing(img) or (img.shape[0] / 12.0)
    scale = config.spacing / spacing
    h, w = img.shape
    new_w = max(8, min(config.max_width, int(round(w * scale))))
    new_h = max(8, int(round(h * scale)))
    small = np.asarray(Image.fromarray(whiten(img, config.whiten_offset)).resize((new_w, new_h), Image.BOX))
    small = _crop_to_ink(small, config.height)
    canvas = np.full((config.height, ((small.shape[1] + 7) // 8) * 8), 255, dtype=np.uint8)
    top = (config.height - small.shape[0]) // 2
    canvas[top:top + small.shape[0], : small.shape[1]] = small
    return canvas.astype(np.float32) / 255.0


def system_canvases(
    page: np.ndarray, config: SystemImageConfig | None = None
) -> list[tuple[tuple, np.ndarray]]:
    """The systems of one page, top to bottom: (box on the deskewed page, normalised canvas)."""
    from model.omr.systems import crop, find_systems

    systems, straight = find_systems(page)
    return [(s.box, normalise_system(crop(straight, s), config, spacing=s.spacing)) for s in systems]


def _crop_to_ink(img: np.ndarray, height: int) -> np.ndarray:
    """Keep at most ``height`` rows, centred on the ink."""
    if img.shape[0] <= height:
        return img
    rows = np.nonzero((img < 128).any(axis=1))[0]
    centre = int((rows.min() + rows.max()) // 2) if rows.size else img.shape[0] // 2
    top = int(np.clip(centre - height // 2, 0, img.shape[0] - height))
    return img[top:top + height]


class SystemImageFrontEnd(Tokenizer):
    """Continuous front-end for score-image systems (no discrete ids; features in ``pixels``)."""

    modality = "image"

    @classmethod
    def default_config(cls) -> SystemImageConfig:
        return SystemImageConfig()

    @property
    def vocab(self) -> list[str]:
        return []

    def _encode(self, obj: Any) -> TokenSequence:
        canvas = normalise_system(np.asarray(obj), self.config)
        seq = TokenSequence(list(range(canvas.shape[1] // 8)), [])
        seq.pixels = canvas  # type: ignore[attr-defined]
        return seq

    def _decode(self, ids: list[int]) -> Any:
        raise NotImplementedError("the continuous front-end does not decode; engrave notation instead")
