"""Notation -> score image: engraving with Verovio, whole pages or one image per system.

Verovio turns MusicXML into SVG pages; cairosvg rasterises them (PNG) or converts them to vector
PDF. Page geometry is A4 portrait by default.
"""

from __future__ import annotations

import importlib.resources
import re
from dataclasses import dataclass
from typing import Optional

import numpy as np

from model.errors import UnimtError
from model.io.types import Notation, ScoreImage
from model.progress import ProgressFn, as_reporter

FONTS = ("Leipzig", "Bravura", "Gootville", "Leland", "Petaluma")


@dataclass
class EngraveOptions:
    """Layout for Verovio. Units are Verovio's: tenths of a millimetre for page sizes."""

    page_width: int = 2100
    page_height: int = 2970
    scale: int = 100           # percent; 100 gives 7.2 mm staves on A4 (typical print)
    font: str = "Leipzig"
    systems: bool = False      # one image per system instead of whole pages
    margin: int = 100          # 10 mm
    spacing_system: int = 12
    header: bool = True        # title, composer
    measure_numbers: bool = True
    extra: Optional[dict] = None

    def verovio_options(self) -> dict:
        k = 100.0 / self.scale  # Verovio scales the page with the music: undo that for true paper sizes
        opts = {
            "pageWidth": int(self.page_width * k),
            "pageHeight": 100 if self.systems else int(self.page_height * k),
            "adjustPageHeight": bool(self.systems),
            "scale": self.scale,
            "font": self.font,
            "breaks": "auto",
            "footer": "none",
            "header": "auto" if self.header and not self.systems else "none",
            "pageMarginTop": int(self.margin * k), "pageMarginBottom": int(self.margin * k),
            "pageMarginLeft": int(self.margin * k), "pageMarginRight": int(self.margin * k),
            "spacingSystem": self.spacing_system,
            "mmOutput": True,
            "svgViewBox": False,
            "svgRemoveXlink": True,
        }
        if not self.measure_numbers:
            opts["mnumInterval"] = 0
        if self.extra:
            opts.update(self.extra)
        return opts


def make_toolkit(options: EngraveOptions):
    import verovio

    verovio.enableLog(verovio.LOG_OFF)
    tk = verovio.toolkit()
    # the resource path (fonts) is per toolkit and per thread; name it so that every thread and a
    # frozen bundle find Verovio's own data folder
    data = importlib.resources.files("verovio") / "data"
    if data.is_dir():
        tk.setResourcePath(str(data))
    if options.font not in FONTS:
        raise UnimtError(f"unknown music font {options.font!r}; choose one of {', '.join(FONTS)}")
    tk.setOptions(options.verovio_options())
    return tk


def engrave_svg(musicxml: bytes | str, options: Optional[EngraveOptions] = None,
                progress: Optional[ProgressFn] = None) -> list[str]:
    """Engrave MusicXML text into SVG pages (or one SVG per system)."""
    options = options or EngraveOptions()
    report = as_reporter(progress)
    tk = make_toolkit(options)
    text = musicxml.decode("utf-8") if isinstance(musicxml, bytes) else musicxml
    if not tk.loadData(text):
        raise UnimtError("Verovio could not engrave this score")
    n = tk.getPageCount()
    pages = []
    for i in range(1, n + 1):
        report(i - 1, n, "engraving")
        pages.append(tk.renderToSVG(i))
    report(n, n, "engraving")
    return pages


# SMuFL metronome glyphs (private-use code points in the music font) -> Unicode music symbols that
# ordinary text fonts carry: cairo cannot use Verovio's embedded music text font.
_SMUFL_TEXT = {
    "\ueca1": "\U0001d15d", "\ueca2": "\U0001d15e", "\ueca3": "\U0001d15e", "\ueca5": "\u2669",
    "\ueca6": "\u2669", "\ueca7": "\u266a", "\ueca8": "\u266a", "\ueca9": "\U0001d161",
    "\uecaa": "\U0001d161", "\uecb7": ".",
    "\ue1d2": "\U0001d15d", "\ue1d3": "\U0001d15e", "\ue1d4": "\U0001d15e", "\ue1d5": "\u2669",
    "\ue1d6": "\u2669", "\ue1d7": "\u266a", "\ue1d8": "\u266a", "\ue1e7": ".",
}
_MUSIC_TEXT = re.compile(r'<tspan font-family="(?:%s)" font-size="(\d+)px">([^<]*)</tspan>' % "|".join(FONTS))


def _text_glyphs(svg: str) -> str:
    def repl(m):
        size = int(int(m.group(1)) * 0.62)
        text = "".join(_SMUFL_TEXT.get(ch, ch) for ch in m.group(2))
        return f'<tspan font-family="FreeSerif, DejaVu Sans, serif" font-size="{size}px">{text}</tspan>'

    return _MUSIC_TEXT.sub(repl, svg)


def svg_to_array(svg: str, dpi: int = 150) -> np.ndarray:
    """Rasterise an SVG page to a grayscale uint8 array on white."""
    import io

    import cairosvg
    from PIL import Image

    png = cairosvg.svg2png(bytestring=_text_glyphs(svg).encode("utf-8"), dpi=dpi, background_color="white")
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("L"), dtype=np.uint8)


def svg_to_pdf_bytes(svg: str) -> bytes:
    import cairosvg

    return cairosvg.svg2pdf(bytestring=_text_glyphs(svg).encode("utf-8"))


def notation_to_image(notation: Notation, options: Optional[EngraveOptions] = None, dpi: int = 150,
                      progress: Optional[ProgressFn] = None) -> ScoreImage:
    """Engrave a score: pages (or systems) as SVG, rasterised lazily at ``dpi``."""
    from model.io.notation import musicxml_bytes

    svgs = engrave_svg(musicxml_bytes(notation), options, progress)
    cache: dict[int, np.ndarray] = {}

    def render(i: int) -> np.ndarray:
        if i not in cache:
            cache[i] = svg_to_array(svgs[i], dpi)
        return cache[i]

    return ScoreImage(len(svgs), render, dpi, None, svg_pages=svgs)
