"""Score reading measured through the product's own path: an engraved page in, the score's LMX out.

    unimt eval --only image2lmx [--split test] [--pieces 40] [--excerpts 3] [--no-musescore]

Excerpts of 1 to 8 measures of held-out pieces (the test split unless told; piano reductions as in
training) are engraved afresh, by Verovio (a random font and look for each, then once clean and once
degraded as a scan or phone photo) and by MuseScore 3 (``mscore3``, an engraver the reader never
trained on), and read by :func:`model.inference.staff_reader.recognise` exactly as ``unimt convert
page.png score.musicxml`` reads them: systems found, staves cut, read and joined. SER is on LMX
tokens against the excerpt's own LMX, apart for single-staff and grand-staff excerpts.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np


def score_chunks(score, rng: np.random.Generator, excerpts: int,
                 max_measures: int) -> list[tuple[list[str], int]]:
    """(LMX, measures) of ``excerpts`` random chunks of 1 to ``max_measures`` measures of a score, in order;
    chunks longer than 1,000 tokens are left out. Evaluation's one way of cutting a held-out piece. A chunk
    keeps no tie or slur its edges cut (:func:`~model.tokenizers.lmx.without_cut_curves`): no engraver draws
    one, so no reader can read one."""
    from model.tokenizers.lmx import _to_root, linearize_chunks, without_cut_curves
    from model.tokenizers.lmx_linearize import linearize_parts

    root = _to_root(score)
    n = len(linearize_parts(root))
    starts, s = [], 0
    while s < n:
        starts.append(s)
        s += int(rng.integers(1, max_measures + 1))
    chunks = linearize_chunks(root, starts)
    out = []
    for i in sorted(rng.choice(len(starts), size=min(excerpts, len(starts)), replace=False)):
        stop = starts[i + 1] if i + 1 < len(starts) else n
        if chunks[i] and len(chunks[i]) <= 1000:
            out.append((without_cut_curves(chunks[i]), stop - starts[i]))
    return out


def held_out_excerpts(pieces: int, excerpts: int, seed: int, split: str = "test", max_measures: int = 8,
                      log=print) -> list[tuple[str, list[str]]]:
    """(source, LMX) of excerpts of ``split`` pieces, deterministic for a seed."""
    from model.data.build import unit_scores
    from model.data.split import corpus_files

    files = sorted(corpus_files(split))
    random.Random(seed).shuffle(files)
    out, used = [], 0
    for k, (rel, path) in enumerate(files):
        if used >= pieces:
            break
        rng = np.random.default_rng([seed, k])
        try:
            score = unit_scores({"path": str(path), "source": rel}, rng)[0]
            out += [(rel, chunk) for chunk, _ in score_chunks(score, rng, excerpts, max_measures)]
            used += 1
        except Exception as exc:  # a piece music21 cannot parse is skipped, as in training
            log(f"skipped {rel}: {type(exc).__name__}")
    return out


def musescore_pages(musicxml: str) -> list[np.ndarray] | None:
    """The excerpt engraved by MuseScore 3 (grey pages on white), or None where it is not installed."""
    import os

    from PIL import Image

    exe = shutil.which("mscore3") or shutil.which("musescore3")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "x.musicxml"
        src.write_text(musicxml)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        subprocess.run([exe, "-r", "150", "-o", str(Path(tmp) / "x.png"), str(src)], env=env, timeout=120,
                       capture_output=True)
        pages = []
        for png in sorted(Path(tmp).glob("x*.png")):
            with Image.open(png) as im:
                rgba = im.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                pages.append(np.asarray(Image.alpha_composite(white, rgba).convert("L")))
        return pages


def _staves_as_parts(musicxml: str, path: Path) -> None:
    """The excerpt written to ``path`` with each staff of a grand staff as a part of its own, the two braced
    together: ``musicxml2ly`` 2.24 puts all of a two-staff part's notes on its upper staff."""
    import copy

    from music21 import converter, layout, stream

    score = converter.parseData(musicxml, format="musicxml")
    out = stream.Score()
    parts = []
    for staff in score.parts:
        part = stream.Part()
        for el in staff.elements:
            if not isinstance(el, layout.StaffGroup):
                part.append(copy.deepcopy(el))
        parts.append(part)
        out.insert(0, part)
    out.insert(0, layout.StaffGroup(parts, symbol="brace", barTogether=True))
    out.write("musicxml", fp=str(path))


def _events(onsets: list[tuple[int, int]]) -> list[tuple[tuple[int, ...], int]]:
    """Notes (onset, pitch) as chords in time order, each with the time to the next chord."""
    by: dict[int, list[int]] = {}
    for t, p in onsets:
        by.setdefault(t, []).append(p)
    times = sorted(by)
    return [(tuple(sorted(by[t])), b - t) for t, b in zip(times, times[1:] + times[-1:])]


def _notes_agree(midi: Path, musicxml: str) -> bool:
    """Whether LilyPond's MIDI of an excerpt sounds the excerpt's notes: its chords in the same order, each
    the same time (in 48ths of a quarter) before the next, at most 3% of them missed or changed (tied notes
    joined, grace notes left out). Times are compared chord to chord, because LilyPond plays a pickup as a
    whole measure whose first beats are silent; chords it adds are allowed, because it plays repeats twice."""
    import difflib
    import warnings

    import pretty_midi
    from music21 import converter

    with warnings.catch_warnings():   # LilyPond writes its tempo on each track, which pretty_midi warns of
        warnings.simplefilter("ignore")
        pm = pretty_midi.PrettyMIDI(str(midi))
    got = _events([(round(pm.time_to_tick(n.start) / pm.resolution * 48), n.pitch)
                   for inst in pm.instruments for n in inst.notes])
    score = converter.parseData(musicxml, format="musicxml").stripTies()
    want = _events([(round(float(n.getOffsetInHierarchy(score)) * 48), p.midi)
                    for n in score.recurse().notes if not n.duration.isGrace for p in n.pitches])
    if not want or not got:
        return False
    ops = difflib.SequenceMatcher(a=want, b=got, autojunk=False).get_opcodes()
    wrong = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag != "equal")
    return wrong <= 0.03 * len(want) + 1


def lilypond_pages(musicxml: str) -> list[np.ndarray] | None:
    """The excerpt engraved by LilyPond (through its own ``musicxml2ly``, at 150 dpi, without title or
    tagline), or None where LilyPond is not installed, fails, or engraves other notes than the excerpt's
    (its MIDI checked by :func:`_notes_agree`: ``musicxml2ly`` loses voices now and then): an engraver the
    reader never trains on. A grand staff goes through music21 as two braced parts first
    (:func:`_staves_as_parts`)."""
    from PIL import Image

    exes = [shutil.which("musicxml2ly"), shutil.which("lilypond")]
    if None in exes:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, ly = Path(tmp) / "x.musicxml", Path(tmp) / "x.ly"
        try:
            if "<staves>2</staves>" in musicxml:
                _staves_as_parts(musicxml, src)
            else:
                src.write_text(musicxml)
            subprocess.run([exes[0], "--midi", "-o", str(ly), str(src)], timeout=60, capture_output=True)
            if not ly.exists():
                return None
            ly.write_text(ly.read_text() + "\n\\header { tagline = ##f title = ##f composer = ##f }\n")
            subprocess.run([exes[1], "-dno-point-and-click", "--png", "-dresolution=150", "-o",
                            str(Path(tmp) / "x"), str(ly)], cwd=tmp, timeout=120, capture_output=True)
            if not _notes_agree(Path(tmp) / "x.midi", musicxml):
                return None
        except Exception:   # music21 or LilyPond could not take the excerpt (or took too long)
            return None
        pages = []
        for png in sorted(Path(tmp).glob("x*.png")):
            with Image.open(png) as im:
                pages.append(np.asarray(im.convert("L")))
        return pages or None


# the evaluation's extra sets (``variants``), kept out of the overall figure so that it stays comparable
VARIANT_SETS = {"clefs": "verovio clef changes", "text": "verovio with text", "lilypond": "lilypond clean",
                "octave": "verovio tenor clef"}


def readings(items: list[tuple[str, list[str]]], seed: int, musescore: bool = True, variants: tuple = ()):
    """(excerpt index, engraving, pages, reference LMX) of every reading of every excerpt: engraved by Verovio
    (a random font and look), read clean and degraded, and by MuseScore 3 where asked and installed. Among
    ``variants``, engraved clean by Verovio: ``clefs``, the excerpt with one staff in the other clef over
    some measures (:func:`model.data.clefs.vary_clefs`, as piano music changes clef); ``text``, the excerpt
    with lyrics, words and fingerings (:func:`model.data.text.add_text`), which are not read; ``lilypond``,
    the excerpt engraved by LilyPond (:func:`lilypond_pages`), an engraver training never draws; ``octave``,
    a treble staff of the excerpt in the tenor's clef ``G2-8`` (:func:`model.data.clefs.octave_clef`). The
    reference has no hidden rest after a measure's last printed note (nothing on the page shows one:
    :func:`~model.tokenizers.lmx.without_trailing_rests`)."""
    from model.data.clefs import octave_clef
    from model.data.degrade import degrade
    from model.data.staff_images import engrave_system, with_clefs, with_text
    from model.tokenizers.lmx import delinearize, without_trailing_rests

    for k, (_, written) in enumerate(items):
        rng = np.random.default_rng([seed, 7, k])
        xml, ref = delinearize(written), without_trailing_rests(written)
        clean = engrave_system(xml, rng)
        yield k, "verovio clean", [clean], ref
        yield k, "verovio degraded", [degrade(clean, rng, float(rng.uniform(0.2, 1.0)))], ref
        pages = musescore_pages(xml) if musescore else None
        if pages:
            yield k, "musescore clean", pages, ref
        # each variant draws from its own generator: its readings do not depend on which others are asked
        redrawn = (("clefs", 11, lambda w, r: with_clefs(w, r, 1.0)), ("octave", 17, octave_clef))
        for variant, salt, vary in redrawn:
            if variant in variants:
                own = np.random.default_rng([seed, salt, k])
                varied = vary(written, own)
                if varied != written:
                    pages = [engrave_system(delinearize(varied), own)]
                    yield k, VARIANT_SETS[variant], pages, without_trailing_rests(varied)
        if "text" in variants:
            own = np.random.default_rng([seed, 13, k])
            yield k, VARIANT_SETS["text"], [engrave_system(with_text(xml, own, 1.0), own)], ref
        if "lilypond" in variants:
            pages = lilypond_pages(xml)
            if pages:
                yield k, VARIANT_SETS["lilypond"], pages, ref


def evaluate_reader(folder, pieces: int = 40, excerpts: int = 3, seed: int = 0, split: str = "test",
                    musescore: bool = True, log=print, variants: tuple = ()) -> dict:
    from model.errors import UnimtError
    from model.inference.staff_reader import get_reader
    from model.io.types import ScoreImage
    from model.metrics import SER
    from model.progress import Reporter

    reader = get_reader(folder)
    t0 = time.time()
    items = held_out_excerpts(pieces, excerpts, seed, split, log=log)
    log(f"{len(items)} {split} excerpts from {pieces} pieces in {time.time() - t0:.0f} s")
    sers: dict[str, SER] = {}
    seconds: list[float] = []

    def score(name: str, pages: list[np.ndarray], ref: list[str], staves: str) -> None:
        t = time.time()
        try:
            hyp = reader.read(ScoreImage.from_arrays(pages), Reporter()).tokens
        except UnimtError:
            hyp = []
        seconds.append(time.time() - t)
        overall = () if name in VARIANT_SETS.values() else ("image2lmx",)
        for key in (f"image2lmx {name} {staves}", f"image2lmx {name}", *overall):
            sers.setdefault(key, SER()).add(hyp, ref)

    for k, name, pages, ref in readings(items, seed, musescore, variants):
        score(name, pages, ref, "grand staff" if "staff:2" in ref else "single staff")
        if (k + 1) % 20 == 0 and name.startswith("verovio degraded"):
            log(f"{k + 1} / {len(items)} excerpts read")
    return {
        "weights": str(folder), "split": split, "pieces": pieces, "seed": seed, "excerpts": len(items),
        "ser": {k: {"ser": round(v.value, 4), "sequences": v.count, "reference_tokens": v.reference}
                for k, v in sorted(sers.items())},
        "seconds_per_page": round(float(np.mean(seconds)), 3) if seconds else None,
        "seconds": round(time.time() - t0, 1),
    }
