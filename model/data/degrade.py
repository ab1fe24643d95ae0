"""Make clean engraved score images look scanned or photographed.

:func:`degrade` takes a grayscale uint8 image (white paper, black ink; a one-system strip or a
whole page) and returns an image of the same size and dtype with a random subset of defects, each
at a random strength scaled by ``strength`` (0: the input unchanged; 1: heavy, still readable):

* ink weight: thickening or thinning by grey morphology (size 2), blended so thin lines survive;
* bleed-through: a faint (5-15 %), blurred, mirrored and shifted copy of the page (the back side);
* paper texture: a low-frequency tint plus fine grain;
* geometry: small rotation (up to +-1.5 deg), shear, and for "photos" a mild perspective (keystone),
  all in one bilinear warp with white fill;
* Gaussian blur; uneven light (a gradient and/or a vignette); contrast and gamma change;
* Gaussian noise, salt-and-pepper specks; binarisation (scans, occasionally); JPEG compression.

Each call first draws a capture mode: a scan (flat light, more bleed-through, occasional
binarisation) or a photo (perspective, vignette, more blur and JPEG). Everything comes from the
``numpy.random.Generator`` passed in, so a seed gives the same image. Magnitudes are bounded so
that staff lines stay detectable (:func:`model.omr.staves.detect_staves`): blur sigma at most
~1.3 px, rotation at most 1.5 deg, perspective drawn mostly as a vertical keystone that keeps
staff lines horizontal.

:func:`contact_sheet` tiles images into one uint8 image for people to look at.
"""

from __future__ import annotations

import io

import numpy as np

__all__ = ["degrade", "contact_sheet"]


def _pil(x: np.ndarray):
    from PIL import Image

    return (
        Image.fromarray(x, mode="L")
        if x.dtype == np.uint8
        else Image.fromarray(x.astype(np.float32), mode="F")
    )


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _smooth_field(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Low-frequency noise in about [-1, 1]: a coarse random grid upsampled bicubically."""
    from PIL import Image

    gh = max(2, int(round(h / cell)) + 1)
    gw = max(2, int(round(w / cell)) + 1)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    field = np.asarray(Image.fromarray(grid, mode="F").resize((w, h), Image.BICUBIC), dtype=np.float32)
    m = float(np.abs(field).max())
    return field / m if m > 0 else field


def _perspective_coeffs(src: np.ndarray, dst: np.ndarray) -> tuple:
    """PIL PERSPECTIVE coefficients mapping output points ``dst`` back to input points ``src``."""
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(dst, src)):
        a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
        a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
        b[2 * i], b[2 * i + 1] = u, v
    return tuple(np.linalg.solve(a, b).tolist())


def _geometry(x8: np.ndarray, angle_deg: float, shear: float, keystone: float,
              jitter: np.ndarray) -> np.ndarray:
    """One bilinear warp with white fill: rotation about the centre, horizontal shear, a keystone
    (top edge narrower or wider: staff lines stay horizontal) and a little corner jitter (which
    tilts lines slightly, as hand-held photos do; ``jitter`` is in units of the image width)."""
    from PIL import Image

    h, w = x8.shape
    angle = np.deg2rad(angle_deg)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    c = np.array([w / 2.0, h / 2.0])
    p = corners - c
    p[:, 0] += shear * p[:, 1]
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    p = p @ rot.T
    p[0, 0] += keystone * w / 2
    p[1, 0] -= keystone * w / 2
    p += np.asarray(jitter) * w
    if np.allclose(p + c, corners, atol=1e-3):
        return x8
    coeffs = _perspective_coeffs(corners, p + c)
    img = _pil(x8).transform((w, h), Image.PERSPECTIVE, coeffs, resample=Image.BILINEAR, fillcolor=255)
    return np.asarray(img)


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    from PIL import ImageFilter

    if sigma <= 0.05:
        return x
    if x.dtype == np.uint8:
        return np.asarray(_pil(x).filter(ImageFilter.GaussianBlur(sigma)), dtype=np.uint8)
    # float images in [0, 1] go through uint8 (PIL blurs only 8-bit images; fast)
    return np.asarray(_pil(_to_u8(x)).filter(ImageFilter.GaussianBlur(sigma)), dtype=np.float32) * (
        1.0 / 255.0
    )


def _lighting(rng: np.random.Generator, h: int, w: int, s: float, photo: bool) -> np.ndarray:
    """A multiplicative light field <= 1: a linear gradient in a random direction and/or a vignette."""
    yy = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
    xx = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
    light = np.ones((h, w), dtype=np.float32)
    if rng.random() < 0.8:
        theta = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(theta) * xx + np.sin(theta) * yy) * 0.5 + 0.5   # 0..1 (roughly)
        amp = rng.uniform(0.05, 0.3 if photo else 0.12) * s
        light = light - amp * np.clip(ramp, 0, 1)
    if photo and rng.random() < 0.7:
        cx, cy = rng.uniform(-0.4, 0.4, size=2)
        r2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / 2.0
        amp = rng.uniform(0.05, 0.3) * s
        light = light - amp * np.clip(r2, 0, 1.5)
    if rng.random() < 0.3:
        light = light - rng.uniform(0.02, 0.08) * s * (0.5 + 0.5 * _smooth_field(rng, h, w, max(h, w) / 3))
    return np.clip(light, 0.45, 1.0)


def _line_profile(img: np.ndarray) -> np.ndarray:
    """Row darkness profile (mean over columns) of a clean image: staff lines are its tallest peaks."""
    step = max(1, img.shape[1] // 512)   # a column subsample is plenty for a mean
    return 1.0 - img[:, ::step].astype(np.float32).mean(axis=1) * (1.0 / 255.0)


def _line_strength(d: np.ndarray) -> float:
    """Two-row darkness of a typical staff line (the 5th tallest peak), as the staff detector sees it."""
    from scipy.signal import find_peaks

    pair = d + np.concatenate([d[1:], [0.0]])
    peaks, _ = find_peaks(pair, distance=3)
    if peaks.size == 0:
        return 0.0
    heights = np.sort(pair[peaks])
    return float(heights[-min(5, heights.size)])


def _simulate(d: np.ndarray, morph: tuple[str, float], sigma: float, light: float,
              contrast: tuple[float, float, float]) -> np.ndarray:
    """The row profile after ink weight, blur, light and contrast (their effect on staff lines)."""
    from scipy.ndimage import gaussian_filter1d

    kind, a = morph
    if kind == "thicker" and a > 0:
        d = d + a * (np.maximum(d, np.concatenate([[0.0], d[:-1]])) - d)
    elif kind == "thinner" and a > 0:
        d = d + a * (np.minimum(d, np.concatenate([d[1:], [0.0]])) - d)
    if sigma > 0.05:
        d = gaussian_filter1d(d, sigma, mode="constant")
    d = d * light
    paper, ink, gamma = contrast
    x = np.clip(1.0 - d, 0.0, 1.0)
    return (paper - ink) / paper * (1.0 - np.power(x, gamma))


def degrade(img: np.ndarray, rng: np.random.Generator, strength: float = 0.5,
            params: dict | None = None) -> np.ndarray:
    """A scanned- or photographed-looking copy of a clean score image.

    Args:
        img: grayscale uint8 (H, W), white paper and black ink.
        rng: the source of every random choice (same generator state, same output).
        strength: 0 (the input unchanged) to 1 (heavy, still readable); values above 1 are clipped.
        params: if given, filled with the effects applied and their settings (for logs and cards).

    Returns:
        uint8 (H, W).

    Staff lines are protected: the effects that fade thin horizontal lines (thinning, blur, uneven
    light, contrast loss, binarisation) are predicted on the image's row-darkness profile and
    scaled back together, when needed, so that a staff line keeps about 0.55 of two-row darkness
    (the staff detector wants 0.35, and resampling and a residual tilt cost some) or 85 % of what it
    had.
    """
    img = np.asarray(img)
    if img.ndim != 2:
        raise ValueError(f"degrade wants a grayscale (H, W) image, got shape {img.shape}")
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    s = float(np.clip(strength, 0.0, 1.0))
    p = params if params is not None else {}
    if s <= 0.0 or img.size == 0 or min(img.shape) < 4:
        p["mode"] = "none"
        return img.copy()
    h, w = img.shape

    (photo, binarise, morph, bleed, texture, geometry, sigma, light, contrast, noise, threshold, specks,
     quality) = _draw_settings(rng, h, w, s)
    p["mode"] = "photo" if photo else ("binary scan" if binarise else "scan")
    keep, morph, sigma, contrast, light, threshold = _keep_staff_lines(img, morph, sigma, light, contrast,
                                                                       geometry, binarise, threshold)
    p.update(
        protect=round(keep, 2),
        morph=(morph[0], round(morph[1], 3)) if morph[1] > 0 else None,
        bleed=round(bleed[3], 3) if bleed else None,
        texture=bool(texture),
        geometry=(round(geometry[0], 3), round(geometry[1], 4), round(geometry[2], 4)) if geometry else None,
        blur=round(sigma, 2),
        light=light is not None,
        contrast=tuple(round(c, 3) for c in contrast) if contrast != (1.0, 0.0, 1.0) else None,
        noise=round(noise, 4),
        binarise=round(threshold, 3) if binarise else None,
        specks=round(specks, 5),
        jpeg=quality,
    )

    return _render(img, rng, morph, bleed, texture, geometry, sigma, light, contrast, noise, binarise,
                   threshold, specks, quality)


def _draw_settings(rng: np.random.Generator, h: int, w: int, s: float) -> tuple:
    """Every setting of :func:`degrade`, drawn first in a fixed order (same seed, same image)."""
    u = rng.uniform

    # ---- draw every setting first (a fixed order of draws: same seed, same image) ----
    photo = bool(rng.random() < 0.35)
    binarise = (not photo) and bool(rng.random() < 0.15 * s)
    morph = ("none", 0.0)
    if rng.random() < 0.35:
        morph = ("thicker", u(0.3, 1.0) * s) if rng.random() < 0.55 else ("thinner", u(0.2, 0.6) * s)
    bleed = None
    if rng.random() < (0.2 if photo else 0.35):
        bleed = (
            int(u(-0.3, 0.3) * h),
            int(u(-0.05, 0.05) * w),
            u(0.8, 2.0),
            u(0.05, 0.15) * min(1.0, 2.0 * s),
        )
    texture = None
    if rng.random() < 0.5:
        texture = (u(8, 40), u(0.02, 0.08) * s, u(0.0, 0.02) * s)
    geometry = None
    if rng.random() < (0.9 if photo else 0.6):
        geometry = (u(-1.5, 1.5) * s, u(-0.02, 0.02) * s if rng.random() < 0.5 else 0.0,
                    u(-0.03, 0.03) * s if photo else 0.0, rng.uniform(-1, 1, size=(4, 2)) * 0.0015 * s)
    sigma = 0.0
    if rng.random() < (0.8 if photo else 0.4):
        sigma = 0.2 * min(1.0, 4.0 * s) + u(0.2, 1.1) * s
        if binarise:
            sigma = min(sigma, 0.6)
    light = None
    if not binarise and rng.random() < (0.9 if photo else 0.35):
        light = _lighting(rng, h, w, s, photo)
    contrast = (1.0, 0.0, 1.0)
    if rng.random() < 0.5:
        contrast = (1.0 - u(0.0, 0.15) * s, u(0.0, 0.25) * s, float(np.exp(u(-0.4, 0.4) * s)))
    noise = u(0.005, 0.05) * s if rng.random() < (0.7 if photo else 0.35) else 0.0
    threshold = u(0.6, 0.8)
    specks = u(0.0005, 0.003) * s if rng.random() < 0.15 else 0.0
    quality = int(round(90 - 60 * s * rng.random())) if rng.random() < (0.85 if photo else 0.45) else None
    return (photo, binarise, morph, bleed, texture, geometry, sigma, light, contrast, noise, threshold,
            specks, quality)


def _keep_staff_lines(img: np.ndarray, morph: tuple, sigma: float, light, contrast: tuple, geometry,
                      binarise: bool, threshold: float) -> tuple:
    """Scale the line-fading effects back together where they would erase staff lines; returns (keep, morph,
    sigma, contrast, light, threshold)."""
    h, w = img.shape
    # ---- keep staff lines: scale back the line-fading effects together if they would erase them ----
    profile = _line_profile(img)
    before = _line_strength(profile)
    if light is not None:
        light_gain = float(
            light.mean() / max(np.percentile(light[:: max(1, h // 64), :: max(1, w // 64)], 90), 1e-3)
        )
    else:
        light_gain = 1.0
    target = min(0.55, 0.85 * before)
    # a rotation resamples twice (here and when the reader deskews): about 0.5 px more blur
    sig_geo = 0.5 if geometry is not None and abs(geometry[0]) > 0.05 else 0.0
    keep = 1.0
    for keep in (1.0, 0.75, 0.5, 0.3, 0.15, 0.0):
        m_k = (morph[0], morph[1] * keep)
        sig_k = float(np.hypot(sigma * keep, sig_geo))
        c_k = (1.0 - (1.0 - contrast[0]) * keep, contrast[1] * keep, float(contrast[2] ** keep))
        sim = _simulate(profile, m_k, sig_k, 1.0 - (1.0 - light_gain) * keep, c_k)
        if _line_strength(sim) >= target:
            break
    if keep < 1.0:
        morph, sigma = (morph[0], morph[1] * keep), sigma * keep
        contrast = (1.0 - (1.0 - contrast[0]) * keep, contrast[1] * keep, float(contrast[2] ** keep))
        if light is not None:
            light = 1.0 - (1.0 - light) * keep
    if binarise:
        # a line pixel survives when its darkness beats 1 - threshold: lift the threshold for faint lines
        sim = _simulate(profile, morph, sigma, 1.0, contrast)
        threshold = float(np.clip(max(threshold, 1.0 - 0.6 * float(sim.max())), 0.5, 0.92))
    return keep, morph, sigma, contrast, light, threshold


def _render(img: np.ndarray, rng: np.random.Generator, morph: tuple, bleed, texture, geometry, sigma: float,
            light, contrast: tuple, noise: float, binarise: bool, threshold: float, specks: float,
            quality) -> np.ndarray:
    """Apply the settings: ink weight, bleed-through, paper, geometry, blur, light, contrast, noise,
    binarisation, specks, JPEG."""
    h, w = img.shape
    # ---- render ----
    from scipy import ndimage

    x = img.astype(np.float32) * (1.0 / 255.0)   # 1 = paper, 0 = ink
    if morph[1] > 0:   # ink weight (before anything blurs it); a blend, so 1-px lines survive thinning
        op = ndimage.grey_erosion if morph[0] == "thicker" else ndimage.grey_dilation
        x = x + morph[1] * (op(x, size=(2, 2)) - x)
    if bleed is not None:   # the back page: mirrored, shifted, blurred, faint
        dy, dx, bsig, alpha = bleed
        back = np.roll(img[:, ::-1], (dy, dx), axis=(0, 1))
        back = _blur(back, bsig).astype(np.float32) * (1.0 / 255.0)
        x = x * (1.0 - alpha * (1.0 - back))
    if texture is not None:   # paper: a low-frequency tint and a fine grain
        cell, amp, grain = texture
        x = x * (1.0 - amp * (0.5 + 0.5 * _smooth_field(rng, h, w, cell)))
        if grain > 0:
            x = x + rng.standard_normal((h, w), dtype=np.float32) * grain
    if geometry is not None:
        x = _geometry(_to_u8(x), *geometry).astype(np.float32) * (1.0 / 255.0)
    if sigma > 0.05:
        x = _blur(x, sigma)
    if light is not None:
        x = x * light
    if contrast != (1.0, 0.0, 1.0):
        paper, ink, gamma = contrast
        x = ink + (paper - ink) * np.power(np.clip(x, 0.0, 1.0), gamma)
    if noise > 0:
        x = x + rng.standard_normal((h, w), dtype=np.float32) * noise
    if binarise:
        paper = float(np.percentile(x[:: max(1, h // 256), :: max(1, w // 256)], 90))
        x = np.where(x < paper * threshold, 0.0, 1.0).astype(np.float32)
    if specks > 0:   # dust and toner
        n = int(specks * h * w)
        if n:
            ys = rng.integers(0, h, size=n)
            xs = rng.integers(0, w, size=n)
            x[ys, xs] = (rng.random(n) < 0.5).astype(np.float32)
    out = _to_u8(x)
    if quality is not None:
        from PIL import Image

        buf = io.BytesIO()
        _pil(out).save(buf, format="JPEG", quality=quality)
        out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), dtype=np.uint8)
    return np.ascontiguousarray(out)


def contact_sheet(images: list[np.ndarray], columns: int = 2, width: int = 1200) -> np.ndarray:
    """Tile images (each scaled to ``width / columns`` wide) row by row into one uint8 image.

    Thin gray lines separate the tiles; the background is white. RGB inputs are converted to gray.
    """
    from PIL import Image

    columns = max(1, int(columns))
    if not images:
        return np.full((1, width), 255, dtype=np.uint8)
    gap = 4
    tile_w = max(1, (width - gap * (columns - 1)) // columns)
    tiles = []
    for im in images:
        a = np.asarray(im)
        if a.dtype != np.uint8:
            a = _to_u8(a) if a.max() <= 1.0 else np.clip(a, 0, 255).astype(np.uint8)
        pil = Image.fromarray(a)
        if pil.mode != "L":
            pil = pil.convert("L")
        th = max(1, int(round(pil.height * tile_w / max(1, pil.width))))
        tiles.append(np.asarray(pil.resize((tile_w, th), Image.LANCZOS), dtype=np.uint8))
    rows = [tiles[i:i + columns] for i in range(0, len(tiles), columns)]
    heights = [max(t.shape[0] for t in r) for r in rows]
    total_h = sum(heights) + gap * (len(rows) - 1)
    sheet = np.full((total_h, width), 255, dtype=np.uint8)
    y = 0
    for r, rh in zip(rows, heights):
        for j, t in enumerate(r):
            x0 = j * (tile_w + gap)
            sheet[y:y + t.shape[0], x0:x0 + tile_w] = t
            if j < columns - 1:
                sheet[y:y + rh, x0 + tile_w + 1:x0 + tile_w + gap - 1] = 160
        y += rh
        if y < total_h:
            sheet[y + 1:y + gap - 1, :] = 160
            y += gap
    return sheet
