"""The app's long jobs as plain functions (no Qt): load a file, translate, prepare what the panes draw.

Each takes ``progress`` and ``should_stop`` keyword arguments (see :mod:`unimt_desktop.workers`) and
returns plain data: model objects and numpy arrays.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

WAVE_BLOCKS = 2_000_000      # min/max pairs at the finest envelope level (a one-hour file: 80 samples each)
SPEC_FRAMES = 3000           # spectrogram columns for the whole recording
SPEC_WINDOW = 4096
SPEC_LOW, SPEC_HIGH = 21, 120  # MIDI pitches: the spectrogram's rows are on the keyboard's scale
SPEC_ROWS_PER_SEMITONE = 3


@dataclass
class PageSet:
    """Pages for the score viewer: grayscale uint8 arrays, plus recognition boxes when there are any."""

    pages: list[np.ndarray]
    dpi: int
    recognition: Any = None
    measures: list = field(default_factory=list)       # (page, x0, y0, x1, y1) in page pixels, score order
    measure_times: list = field(default_factory=list)  # first start of each measure in seconds
    play_order: list = field(default_factory=list)     # (start s, measure index) as played, repeats included
    measure_numbers: list = field(default_factory=list)  # each measure's printed number ("0" for a pickup)


@dataclass
class RollData:
    notes: np.ndarray              # (n, 5): start, end, pitch, velocity, track
    tracks: list[str]
    duration: float
    confidence: Optional[np.ndarray] = None   # (n,) the model's confidence per note, when it made them


@dataclass
class WaveData:
    """A min/max envelope pyramid: level k has blocks of ``blocks[k]`` samples (each 4x the last)."""

    blocks: list[int]
    mins: list[np.ndarray]
    maxs: list[np.ndarray]
    duration: float
    sample_rate: int
    peak: float

    def envelope(self, t0: float, t1: float, points: int) -> tuple[np.ndarray, np.ndarray]:
        """Interleaved (x, y) of the coarsest level that still has ``points`` blocks in [t0, t1]."""
        sr = self.sample_rate
        want = max(1.0, (t1 - t0) * sr / max(1, points))
        k = 0
        while k + 1 < len(self.blocks) and self.blocks[k + 1] <= want:
            k += 1
        b = self.blocks[k]
        i0 = max(0, int(t0 * sr / b) - 1)
        i1 = min(len(self.mins[k]), int(t1 * sr / b) + 2)
        x = np.repeat(np.arange(i0, i1) * (b / sr), 2)
        y = np.empty(2 * (i1 - i0), np.float32)
        y[0::2], y[1::2] = self.mins[k][i0:i1], self.maxs[k][i0:i1]
        return x, y


@dataclass
class Spectrogram:
    db: np.ndarray                 # (frames, rows) in dB; rows evenly spaced in pitch
    duration: float
    low: float                     # MIDI pitch of the first row's lower edge
    high: float


@dataclass
class Result:
    """What a job hands back: model objects by modality, views by pane, and an error if one step failed."""

    objects: dict = field(default_factory=dict)
    # "scan" | "engraved": PageSet, "roll": RollData, "wave": WaveData
    views: dict = field(default_factory=dict)
    error: Optional[str] = None
    device: Optional[str] = None
    capabilities: Any = None   # model.api.Capabilities of the weights in use, read off the GUI thread


MODEL_WORDS = ("This needs the unimt model, and the model on this computer cannot do it: none is installed, "
               "or the one installed was not trained for this step yet. Everything else works.")
# advice meant for the command line, and what the window says instead
CLI_ADVICE = {"or pass --soundfont FILE.sf2": "or choose a soundfont in Edit ▸ Settings"}


def in_words(exc: BaseException) -> str:
    """A model error as the window says it: what the musician can do, no command-line flags or folders."""
    from model.api import ModelUnavailableError

    if isinstance(exc, ModelUnavailableError):
        return MODEL_WORDS
    text = str(exc)
    for cli, gui in CLI_ADVICE.items():
        text = text.replace(cli, gui)
    return text


class _Steps:
    """Maps the progress of step k of n onto one 0..1000*n scale."""

    def __init__(self, progress, n: int):
        self.progress, self.n, self.k = progress, max(1, n), 0

    def sub(self, done: int, total: int, message: str = "") -> None:
        frac = (done / total) if total else 0.0
        self.progress(int(1000 * (self.k + min(1.0, frac))), 1000 * self.n, message)

    def next(self) -> None:
        self.k += 1


_thread = threading.local()


def prepare_thread() -> None:
    """Per-thread setup for engraving: Verovio keeps its resource path per thread (thread_local in C++)
    and its Python module sets it only for the thread that imported it, so a worker thread must set it
    again or every engraving fails with "font resources are not available"."""
    if getattr(_thread, "ready", False):
        return
    try:
        from importlib.resources import files

        import verovio

        verovio.setDefaultResourcePath(str(files("verovio") / "data"))
    except Exception:   # no Verovio: the engraving step reports it
        pass
    _thread.ready = True


# -- views ---------------------------------------------------------------------------------------

def page_set(image, progress=None, recognition=None) -> PageSet:
    pages = []
    for i in range(image.page_count):
        if progress:
            progress(i, image.page_count, f"rendering page {i + 1} of {image.page_count}")
        pages.append(np.ascontiguousarray(image.page(i), dtype=np.uint8))
    return PageSet(pages, image.dpi, recognition)


def roll_data(midi) -> RollData:
    """The notes as the roll draws them, one colour per part (:func:`model.api.part_names`: the tracks, or
    the two hands of a one-track piano piece)."""
    from model.api import note_parts, part_names

    pm = midi.pm
    rows = []
    for inst, parts in zip(pm.instruments, note_parts(midi)):
        for n, k in zip(inst.notes, parts):
            rows.append((n.start, n.end, n.pitch, n.velocity, int(k)))
    notes = np.array(rows, dtype=np.float64).reshape(-1, 5)
    conf = midi.note_confidence
    confidence = np.asarray(conf, dtype=np.float64) if conf is not None and len(conf) == len(notes) else None
    return RollData(notes, part_names(midi), float(pm.get_end_time()), confidence)


def _mono_chunk(samples: np.ndarray, a: int, b: int) -> np.ndarray:
    x = samples[a:b]
    if x.ndim == 2:
        x = x.mean(axis=1)
    return x.astype(np.float32, copy=False)


def wave_data(audio, progress=None) -> WaveData:
    samples, sr = audio.samples, audio.sample_rate
    n = len(samples)
    block = max(1, int(np.ceil(n / WAVE_BLOCKS)))
    nblocks = max(1, int(np.ceil(n / block)))
    mins = np.zeros(nblocks, np.float32)
    maxs = np.zeros(nblocks, np.float32)
    chunk = block * max(1, 1_000_000 // block)      # small chunks: the GUI thread gets the GIL often
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        x = _mono_chunk(samples, a, b)
        pad = (-len(x)) % block
        if pad:
            x = np.concatenate([x, np.zeros(pad, np.float32)])
        x = x.reshape(-1, block)
        i = a // block
        mins[i:i + len(x)] = x.min(axis=1)
        maxs[i:i + len(x)] = x.max(axis=1)
        if progress:
            progress(b, n, "drawing the waveform")
    blocks, lmins, lmaxs = [block], [mins], [maxs]
    while len(lmins[-1]) > 2000:
        m, M = lmins[-1], lmaxs[-1]
        pad = (-len(m)) % 4
        if pad:
            m, M = (
                np.concatenate([m, np.zeros(pad, np.float32)]),
                np.concatenate([M, np.zeros(pad, np.float32)]),
            )
        lmins.append(m.reshape(-1, 4).min(axis=1))
        lmaxs.append(M.reshape(-1, 4).max(axis=1))
        blocks.append(blocks[-1] * 4)
    peak = float(max(np.abs(mins).max(), np.abs(maxs).max())) if n else 1.0
    return WaveData(blocks, lmins, lmaxs, n / float(sr), sr, peak)


def spectrogram(audio, progress=None, should_stop=None) -> Spectrogram:
    """A log-frequency spectrogram whose rows follow the piano keyboard (so it lines up with note names)."""
    samples, sr = audio.samples, audio.sample_rate
    n = len(samples)
    frames = int(max(1, min(SPEC_FRAMES, n // 256)))
    hop = max(1, (n - SPEC_WINDOW) // frames) if n > SPEC_WINDOW else 1
    win = np.hanning(SPEC_WINDOW).astype(np.float32)
    freqs = np.fft.rfftfreq(SPEC_WINDOW, 1.0 / sr)
    # each output row averages the FFT bins of its pitch band (interpolated where bands are narrower)
    rows = np.arange(SPEC_LOW, SPEC_HIGH, 1.0 / SPEC_ROWS_PER_SEMITONE) + 0.5 / SPEC_ROWS_PER_SEMITONE
    row_hz = 440.0 * 2 ** ((rows - 69) / 12)
    row_hz = row_hz[row_hz < sr / 2]
    out = np.zeros((frames, len(row_hz)), np.float32)
    batch = 25        # small batches: the FFTs hold the GIL, the GUI thread must get it often
    for f0 in range(0, frames, batch):
        if progress:
            progress(f0, frames, "computing the spectrogram")
        chunk = []
        for f in range(f0, min(frames, f0 + batch)):
            a = f * hop
            x = _mono_chunk(samples, a, a + SPEC_WINDOW)
            if len(x) < SPEC_WINDOW:
                x = np.pad(x, (0, SPEC_WINDOW - len(x)))
            chunk.append(x * win)
        mag = np.abs(np.fft.rfft(np.stack(chunk), axis=1))
        interp = np.stack([np.interp(row_hz, freqs, m) for m in mag])
        out[f0:f0 + len(chunk)] = 20 * np.log10(interp + 1e-6)
    top = float(out.max()) if out.size else 0.0
    out = np.clip(out, top - 70.0, top)
    high = SPEC_LOW + len(row_hz) / SPEC_ROWS_PER_SEMITONE
    return Spectrogram(out, n / float(sr), SPEC_LOW - 0.5, high - 0.5)


def views_for(obj, progress=None) -> dict:
    """What the panes draw for one model object (engraving a score is part of it)."""
    from model.api import (
        Modality,
        TranslateOptions,
        bars,
        measure_boxes,
        measure_numbers,
        measure_times,
        translate,
    )

    m = obj.modality
    if m is Modality.IMAGE:
        return {"scan": page_set(obj, progress)}
    if m is Modality.NOTATION:
        from model.api import UnimtError

        prepare_thread()
        try:
            image = translate(obj, Modality.IMAGE, TranslateOptions(), progress=progress)
        except UnimtError as exc:   # the score itself is fine: show why it has no engraving
            return {"engrave_error": str(exc), "bars:notation": bars(obj)}
        ps = page_set(image, progress, getattr(obj, "recognition", None))
        if image.svg_pages:
            ps.measures = measure_boxes(image.svg_pages, [p.shape[:2] for p in ps.pages])
            first, order = measure_times(obj)
            ps.measure_times = first[:len(ps.measures)]
            ps.measures = ps.measures[:len(ps.measure_times)]
            ps.play_order = [(t, i) for t, i in order if i < len(ps.measures)]
            ps.measure_numbers = measure_numbers(obj)[:len(ps.measures)]
        return {"engraved": ps, "_image": image, "bars:notation": bars(obj)}
    if m is Modality.MIDI:
        return {"roll": roll_data(obj), "bars:midi": bars(obj)}
    return {"wave": wave_data(obj, progress)}


# -- jobs ----------------------------------------------------------------------------------------

def load_job(path: str | Path, dpi: int = 150, weights=None, *, progress, should_stop) -> Result:
    from model.api import capabilities, load

    steps = _Steps(progress, 2)
    steps.sub(0, 1, f"reading {Path(path).name}")
    obj = load(path, dpi=dpi)
    steps.next()
    if should_stop():
        from model.api import Cancelled

        raise Cancelled()
    res = Result({obj.modality: obj}, capabilities=capabilities(weights))
    res.views.update(views_for(obj, steps.sub))
    if "_image" in res.views:
        res.objects["engraved"] = res.views.pop("_image")
    return res


def translate_job(objects: dict, targets: list, options=None, *, progress, should_stop) -> Result:
    """Translate into each of ``targets`` (Modality) from the best loaded object, keeping each step. Each
    target's route is asked for once (:func:`model.api.best_route`) and run in one go
    (:func:`model.api.run_route`)."""
    from model.api import Modality, UnimtError, best_route, capabilities, name_untitled, run_route

    have = dict(objects)
    res = Result(capabilities=capabilities(getattr(getattr(options, "model", None), "weights", None)))

    def at_hand():
        return [m for m in have if isinstance(m, Modality)]

    plans = {t: best_route(at_hand(), t) for t in targets if t not in have}
    # the model loads lazily, on the first translation that needs it: a step of its own, with real progress
    loads = list(dict.fromkeys(e.src for r in plans.values() if r for e in r if e.needs_model))
    steps = _Steps(progress, max(1, len(loads) + sum(1 + len(r) for r in plans.values() if r)))
    for src in loads:
        _load_model(src, options, steps.sub, should_stop)
        steps.next()
    planned_with = set(at_hand())
    for t in targets:
        if t in have:
            continue
        route = plans[t] if set(at_hand()) == planned_with else best_route(at_hand(), t)
        if not route:
            continue
        src = have[route[0].src]
        done, error = [], None
        try:
            for edge, obj in run_route(src, route, options, progress=steps.sub, should_stop=should_stop):
                if edge.needs_model:   # the model ran: say on which device it actually did
                    from model.api import resolve_device

                    res.device = resolve_device(getattr(getattr(options, "model", None), "device", "auto"))
                if edge.dst is Modality.NOTATION:
                    name_untitled(obj, getattr(src, "source", None))
                have[edge.dst] = res.objects[edge.dst] = obj
                done.append(obj)
        except UnimtError as exc:
            error = exc
        steps.next()
        for obj in done:
            views = views_for(obj, steps.sub)
            if "_image" in views:
                res.objects["engraved"] = views.pop("_image")
            res.views.update(views)
            steps.next()
        if error is not None:
            res.error = in_words(error)
            if not res.objects:
                raise error
            break
    return res


def _load_model(src, options, progress, should_stop) -> None:
    """Load the model for a step from ``src`` (:func:`model.api.load_model`); a model that cannot load is
    left for the translation itself to report, in its own words."""
    from model.api import UnimtError, load_model

    try:
        load_model(src, options, progress=progress, should_stop=should_stop)
    except UnimtError:       # (Cancelled is not one: cancelling while it loads stops the job)
        pass


def rewrite_job(midi, recognition=None, options=None, title: Optional[str] = None, *, progress,
                should_stop) -> Result:
    """The score written again from edited notes (the MIDI -> score route of :func:`model.api.best_route`)
    and engraved. It keeps the old score's ``title`` and ``recognition`` (what the reader saw on the scan the
    score came from), so its measures still point at the scan."""
    from model.api import Modality, best_route, name_untitled, run_route

    steps = _Steps(progress, 2)
    notation = None
    for _edge, obj in run_route(midi, best_route([Modality.MIDI], Modality.NOTATION), options,
                                progress=steps.sub, should_stop=should_stop):
        notation = obj
    steps.next()
    notation.recognition = recognition
    name_untitled(notation, getattr(midi, "source", None), title)
    res = Result({Modality.NOTATION: notation})
    res.views.update(views_for(notation, steps.sub))
    if "_image" in res.views:
        res.objects["engraved"] = res.views.pop("_image")
    return res


def editor_file_job(notation, stem: str, *, progress, should_stop) -> str:
    """The score written (atomically) to a MusicXML file in a folder of its own under the system's temporary
    folder, for a notation editor to open; returns its path."""
    import re
    import tempfile

    from model.api import save

    folder = Path(tempfile.gettempdir()) / "unimt-scores"
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w\-. ]+", "_", stem).strip(" .") or "score"
    progress(0, 1, "writing the score for the notation editor")
    return str(save(notation, folder / f"{name}.musicxml")[0])


def spectrogram_job(audio, *, progress, should_stop) -> Spectrogram:
    return spectrogram(audio, progress, should_stop)


TRANSPOSE_NOTES = ("A recording cannot be transposed by itself: translate it to MIDI first, then export the "
                   "transposed MIDI, score or audio.")


def transposed(objects: dict, semitones: int) -> dict:
    """The score and the MIDI moved by ``semitones`` (:func:`model.api.transpose`); pages and audio are
    left out, so an export makes them again from the transposed notes."""
    from model.api import Modality, UnimtError, transpose

    out = {m: transpose(objects[m], semitones) for m in (Modality.NOTATION, Modality.MIDI) if m in objects}
    if not out:
        raise UnimtError(TRANSPOSE_NOTES)
    return out


def export_job(objects: dict, path: str | Path, options=None, semitones: int = 0, *, progress,
               should_stop) -> list:
    """Write ``path`` (format from its extension), translating first when needed; ``semitones`` transposes
    what is written (the score respelled by music21, MIDI and audio made from the moved notes)."""
    from model.api import Modality, UnimtError, output_format, save

    modality, fmt = output_format(Path(path))
    if semitones:
        objects = transposed(objects, semitones)
    obj = objects.get(modality)
    prepare_thread()
    if modality is Modality.IMAGE and obj is None:
        obj = objects.get("engraved")
    if obj is None:
        res = translate_job(objects, [modality], options, progress=progress, should_stop=should_stop)
        if res.error:
            raise UnimtError(res.error)    # in words already
        obj = res.objects.get(modality)
        if obj is None:
            raise UnimtError(f"nothing loaded can be turned into {fmt}", path)
    return [str(p) for p in save(obj, path)]
