"""Score images: PNG, JPEG, TIFF (multi-page) and PDF in; PNG, SVG and PDF out.

Pages are grayscale uint8 arrays. PDF pages are rendered by PyMuPDF at a chosen DPI, lazily, so a
long document costs memory only for the pages looked at.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Optional

import numpy as np

from model.errors import BadInputError, reason
from model.io.atomic import atomic_path, remove_written
from model.io.formats import MAX_IMAGE_PIXELS, MAX_PDF_PAGES
from model.io.types import ScoreImage

DEFAULT_DPI = 150


def _to_gray(img) -> np.ndarray:
    from PIL import Image

    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.asarray(img.convert("L"), dtype=np.uint8)


def read_raster(path: Path) -> ScoreImage:
    """Read a PNG, JPEG or (multi-page) TIFF."""
    from PIL import Image, ImageSequence

    Image.MAX_IMAGE_PIXELS = None  # we apply our own, clearer limit below
    try:
        with Image.open(path) as img:
            n_frames = getattr(img, "n_frames", 1)
            if n_frames > MAX_PDF_PAGES:
                raise BadInputError(f"has {n_frames} pages; unimt reads at most {MAX_PDF_PAGES}", path)
            pages = []
            for frame in ImageSequence.Iterator(img):
                w, h = frame.size
                if w * h > MAX_IMAGE_PIXELS:
                    raise BadInputError(
                        f"the image is {w}x{h} pixels, more than the {MAX_IMAGE_PIXELS // 1_000_000} megapixels "
                        "unimt accepts; scan at 300-600 dpi", path)
                if w < 8 or h < 8:
                    raise BadInputError(f"the image is only {w}x{h} pixels", path)
                frame.load()
                pages.append(_to_gray(frame))
            dpi = img.info.get("dpi", (DEFAULT_DPI, DEFAULT_DPI))[0] or DEFAULT_DPI
    except BadInputError:
        raise
    except MemoryError:
        raise BadInputError("not enough memory to read the image", path) from None
    except Exception as exc:  # PIL raises many types for damaged files
        raise BadInputError(f"cannot read the image: {reason(exc)}", path) from None
    return ScoreImage.from_arrays(pages, dpi=int(round(float(dpi))), source=path)


def read_pdf(path: Path, dpi: int = DEFAULT_DPI) -> ScoreImage:
    """Open a PDF; every page is rendered in grayscale at ``dpi`` when first asked for."""
    import pymupdf

    try:
        doc = pymupdf.open(path, filetype="pdf")
        n = doc.page_count
    except Exception as exc:  # PyMuPDF raises its own types for corrupt files
        raise BadInputError(f"cannot read the PDF: {reason(exc)}", path) from None
    if n == 0:
        raise BadInputError("the PDF is damaged or empty: no pages could be read", path)
    if n > MAX_PDF_PAGES:
        doc.close()
        raise BadInputError(f"the PDF has {n} pages; unimt reads at most {MAX_PDF_PAGES}", path)
    if doc.needs_pass:
        raise BadInputError("the PDF is password-protected", path)

    def render(i: int) -> np.ndarray:
        try:
            page = doc[i]
            rect = page.rect
            page_dpi = dpi
            pixels = (rect.width / 72 * dpi) * (rect.height / 72 * dpi)
            if pixels > MAX_IMAGE_PIXELS:  # an absurd page size: lower the resolution to fit
                page_dpi = max(1, int(dpi * (MAX_IMAGE_PIXELS / pixels) ** 0.5))
            pix = page.get_pixmap(dpi=page_dpi, colorspace=pymupdf.csGRAY, alpha=False)
            return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width].copy()
        except Exception as exc:
            raise BadInputError(f"cannot render page {i + 1}: {reason(exc)}", path) from None

    first = render(0)  # a corrupt first page should fail at load time, not later
    if getattr(doc, "is_repaired", False) and int(first.min()) >= 250:
        raise BadInputError("the PDF is damaged (truncated or corrupt): its first page is blank", path)
    return ScoreImage(n, render, dpi, path)



# --- writers --------------------------------------------------------------------------------

def numbered_paths(path: Path, count: int) -> list[Path]:
    """``out.png`` for one page, else ``out-1.png``, ``out-2.png``, ..."""
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{i + 1}{path.suffix}") for i in range(count)]


def _png_bytes(page: np.ndarray, dpi: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(page, mode="L").save(buf, format="PNG", dpi=(dpi, dpi), optimize=False)
    return buf.getvalue()


def write_png(image: ScoreImage, path: Path) -> list[Path]:
    paths = numbered_paths(path, image.page_count)
    try:
        for i, p in enumerate(paths):
            with atomic_path(p) as tmp:
                tmp.write_bytes(_png_bytes(image.page(i), image.dpi))
    except BaseException:
        remove_written(paths[:i])  # nothing is left behind: not the first pages of a failed write
        raise
    return paths


def write_svg(image: ScoreImage, path: Path) -> list[Path]:
    paths = numbered_paths(path, image.page_count)
    try:
        for i, p in enumerate(paths):
            text = _svg_text(image, i)
            with atomic_path(p) as tmp:
                tmp.write_text(text, encoding="utf-8")
    except BaseException:
        remove_written(paths[:i])
        raise
    return paths


def _svg_text(image: ScoreImage, i: int) -> str:
    if image.svg_pages is not None:
        return image.svg_pages[i]
    page = image.page(i)  # a raster page wrapped in SVG
    h, w = page.shape
    data = base64.b64encode(_png_bytes(page, image.dpi)).decode("ascii")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
            f'<image width="{w}" height="{h}" xlink:href="data:image/png;base64,{data}"/></svg>')


def write_pdf(image: ScoreImage, path: Path) -> list[Path]:
    import pymupdf

    out = pymupdf.open()
    for i in range(image.page_count):
        if image.svg_pages is not None:
            from model.engrave import svg_to_pdf_bytes

            src = pymupdf.open(stream=svg_to_pdf_bytes(image.svg_pages[i]), filetype="pdf")
            out.insert_pdf(src)
            src.close()
        else:
            page = image.page(i)
            h, w = page.shape
            scale = 72.0 / max(image.dpi, 1)
            pdf_page = out.new_page(width=w * scale, height=h * scale)
            pdf_page.insert_image(pdf_page.rect, stream=_png_bytes(page, image.dpi))
    with atomic_path(path) as tmp:
        out.save(tmp, garbage=3, deflate=True)
    out.close()
    return [path]


def write_image(image: ScoreImage, path: Path, fmt: str) -> list[Path]:
    return {"png": write_png, "svg": write_svg, "pdf": write_pdf}[fmt](image, path)


def read_image(path: Path, fmt: str, dpi: Optional[int] = None) -> ScoreImage:
    if fmt == "pdf":
        return read_pdf(path, dpi or DEFAULT_DPI)
    return read_raster(path)
