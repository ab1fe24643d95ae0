"""Training staves for the staff reader, drawn afresh at every use.

A *pool* holds the measures of many pieces as LMX (training-split corpus files, piano reductions as
:func:`model.data.build.unit_scores` makes them, and generated piano music), two lists per piece:
every measure with a full header (key, time, clefs) and every measure without one, so that an
excerpt from measure ``a`` to ``b`` is ``headed[a] + plain[a+1:b]`` without parsing anything again.

:func:`staff_examples` turns one excerpt into training pairs: the excerpt is written as MusicXML,
engraved by Verovio with a random look (any of its five fonts, spacing, margins, bar numbers, part
names, staff size and resolution), degraded half of the time (:mod:`model.data.degrade`: scans and
phone photos), cut into staff strips by the very function the product uses
(:func:`model.omr.strips.staff_strips`) and paired with each staff's symbols
(:func:`model.tokenizers.staff_symbols.staff_sequences`). Nothing is stored: every image is new.

    python -m model.data.staff_images pool --out data/staff_pool.jsonl.gz --pieces 400
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from model.omr.strips import STAFF_SPACE

FONTS = ("Leipzig", "Bravura", "Gootville", "Leland", "Petaluma")


# -- the pool of pieces ---------------------------------------------------------------------------
def piece_measures(score) -> tuple[list[list[str]], list[list[str]]]:
    """(every measure with a full header, every measure without) of a music21 score."""
    from model.tokenizers.lmx import _to_root
    from model.tokenizers.lmx_linearize import linearize_parts

    root = _to_root(score)
    plain = linearize_parts(root, 0, None, frozenset({0}))
    headed = linearize_parts(root, 0, None, frozenset(range(len(plain))))
    return headed, plain


def _units(split: str, seed: int, suffix: str | None = None) -> Iterator[dict]:
    """Corpus files of ``split`` (shuffled) interleaved with generated pieces of the same split; with
    ``suffix``, only the corpus files whose name ends so (no generated pieces)."""
    import random

    from model.data.build import generated_split
    from model.data.split import corpus_files

    files = [(rel, path) for rel, path in corpus_files(split) if suffix is None or rel.endswith(suffix)]
    random.Random(seed).shuffle(files)
    if suffix is not None:
        yield from ({"source": rel, "path": str(path)} for rel, path in files)
        return
    gen = (s for s in range(seed * 10**6, seed * 10**6 + 10**6) if generated_split(s) == split)
    for i, (rel, path) in enumerate(files):
        yield {"source": rel, "path": str(path)}
        if i % 2 == 1:
            g = next(gen)
            yield {"source": f"generated:{g}", "path": None}


def build_pool(out: Path, pieces: int, split: str = "train", seed: int = 0, log=print, suffix: str | None = None
               ) -> int:
    """Append ``pieces`` pieces of ``split`` to the pool file ``out`` (gzip JSON lines); returns the count.
    With ``suffix`` only corpus files of that kind are added (``.rntxt``: chorale and madrigal realisations,
    dense chords that a random share of the corpus holds too few of)."""
    from model.data.build import unit_scores

    done = {p["source"] for p in load_pool(out)} if out.exists() else set()
    out.parent.mkdir(parents=True, exist_ok=True)
    added, t0 = 0, time.time()
    with gzip.open(out, "at") as f:
        for unit in _units(split, seed, suffix):
            if added >= pieces:
                break
            if unit["source"] in done:
                continue
            rng = np.random.default_rng(len(done) + added)
            try:
                for score in unit_scores(unit, rng)[:2]:
                    headed, plain = piece_measures(score)
                    if headed:
                        f.write(json.dumps({"source": unit["source"], "headed": headed, "plain": plain}) + "\n")
            except Exception as exc:  # a piece music21 cannot read is skipped, as in every build
                log(f"skipped {unit['source']}: {type(exc).__name__}")
                continue
            added += 1
            if added % 25 == 0:
                f.flush()
                log(f"{added} pieces in {time.time() - t0:.0f} s")
    return added


def load_pool(path: Path) -> list[dict]:
    out = []
    with gzip.open(path, "rt") as f:
        try:
            for line in f:
                out.append(json.loads(line))
        except (EOFError, json.JSONDecodeError):   # a pool still being written, or cut by a stopped build
            pass
    return out


def random_excerpt(piece: dict, rng: np.random.Generator, max_measures: int, untimed: float = 0.0) -> list[str]:
    """Measures ``a`` to ``a + k`` of a pool piece, ``k`` at most ``max_measures``; with probability
    ``untimed`` its opening has no time signature, as every system of a page after the first. Ties and
    slurs the excerpt's edges cut are left out, as the engraving leaves them out."""
    from model.tokenizers.lmx import without_cut_curves

    n = len(piece["plain"])
    k = int(rng.integers(1, max_measures + 1))
    a = int(rng.integers(0, max(1, n - k + 1)))
    head = piece["headed"][a]
    if rng.random() < untimed:
        head = without_time(head)
    return without_cut_curves(head + [t for m in piece["plain"][a + 1:a + k] for t in m])


def without_time(measure: list[str]) -> list[str]:
    """A measure's LMX without its time signature (``time beats:N beat-type:M [time:SYMBOL]``)."""
    out, skipping = [], False
    for t in measure:
        if t == "time":
            skipping = True
            continue
        if skipping and (t.startswith(("beats:", "beat-type:")) or t in ("time:common", "time:cut")):
            continue
        skipping = False
        out.append(t)
    return out


# -- one excerpt -> strips --------------------------------------------------------------------------
def engrave_system(musicxml: str, rng: np.random.Generator, space: int = STAFF_SPACE) -> np.ndarray:
    """One system (uint8) in a random Verovio look, ``space`` to twice that many px per staff space (a strip
    is then cut at ``space``: the engraving is never enlarged)."""
    import verovio

    from model.engrave import svg_to_array

    verovio.enableLog(verovio.LOG_OFF)
    tk = verovio.toolkit()
    r = float(rng.random())
    name = "" if r < 0.6 else ("Piano" if r < 0.8 else "Pno.")
    musicxml = re.sub(r"<part-name>[^<]*</part-name>", f"<part-name>{name}</part-name>", musicxml)
    tk.setOptions({
        "font": str(rng.choice(FONTS)),
        "breaks": "none", "adjustPageHeight": True, "adjustPageWidth": True,
        "pageMarginTop": 50, "pageMarginBottom": 50, "pageMarginLeft": int(rng.integers(0, 80)),
        "pageMarginRight": int(rng.integers(10, 60)), "scale": 100,
        "spacingLinear": float(rng.uniform(0.15, 0.4)), "spacingNonLinear": float(rng.uniform(0.45, 0.7)),
        "spacingStaff": int(rng.integers(6, 14)), "header": "none", "footer": "none",
        "mnumInterval": int(rng.choice([0, 1, 5])), "svgViewBox": False, "svgRemoveXlink": True, "mmOutput": True,
        "stemWidth": float(rng.uniform(0.15, 0.3)), "staffLineWidth": float(rng.uniform(0.1, 0.25)),
    })
    if not tk.loadData(musicxml):
        raise RuntimeError("verovio could not load the excerpt")
    svg = tk.renderToSVG(1)
    space_px = float(rng.uniform(8, 16)) * space / STAFF_SPACE     # staff space 1.8 mm at scale 100 with mmOutput
    return svg_to_array(svg, dpi=int(space_px / 1.8 * 25.4))


def staff_examples(tokens: list[str], rng: np.random.Generator, degrade_prob: float = 0.5,
                   text_share: float = 0.0, space: int = STAFF_SPACE) -> list[tuple[np.ndarray, list[int]]]:
    """(strip as uint8 ink, symbol ids) for every staff of one excerpt; [] when the staves found on
    the image do not match the excerpt's (a rare detection failure: such samples are skipped). With
    probability ``text_share`` the page also carries lyrics, words and fingerings
    (:func:`model.data.text.add_text`), which are not symbols to read. Strips have ``space`` px a staff space."""
    from model.data.degrade import degrade
    from model.tokenizers.lmx import delinearize

    img = engrave_system(with_text(delinearize(tokens), rng, text_share), rng, space)
    if rng.random() < degrade_prob:
        img = degrade(img, rng, float(rng.uniform(0.2, 1.0)))
    return strips_of(img, tokens, space)


def strips_of(img: np.ndarray, tokens: list[str], space: int = STAFF_SPACE) -> list[tuple[np.ndarray, list[int]]]:
    """Pairs (strip as uint8 ink at ``space`` px a staff space, symbol ids) of a one-system image of
    ``tokens``, pitches as drawn (:func:`model.tokenizers.clef_octaves.as_drawn`); [] when the staves found
    do not match the excerpt's."""
    from model.omr.strips import staff_strips
    from model.tokenizers.clef_octaves import as_drawn
    from model.tokenizers.staff_symbols import ids, staff_sequences

    systems, _ = staff_strips(img, space)
    strips = [s for row in systems for s in row]
    seqs = [as_drawn(q) for q in staff_sequences(tokens)]   # pitches where they stand, under any clef
    if len(systems) != 1 or len(strips) != len(seqs):
        return []
    return [(np.clip(s.image * 255.0 + 0.5, 0, 255).astype(np.uint8), ids(q)) for s, q in zip(strips, seqs)]


# -- MuseScore 3 engravings: a second engraver, rendered ahead in batches (its start-up is slow) ------------
# the music fonts MuseScore 3 names (Debian's 3.2 draws Gonville and Bravura much as Emmentaler; MuseJazz is
# a handwritten look)
MUSESCORE_FONTS = ("Emmentaler", "Gonville", "Bravura", "MuseJazz")


def musescore_style(rng: np.random.Generator) -> str:
    """A random MuseScore 3 look, as the tags of a score's ``<Style>``: its music font, line, stem and beam
    widths and note spacing, each drawn around MuseScore's default (in staff spaces)."""
    font = str(rng.choice(MUSESCORE_FONTS))
    widths = {"staffLineWidth": (0.06, 0.16), "stemWidth": (0.08, 0.16), "beamWidth": (0.4, 0.6),
              "ledgerLineWidth": (0.12, 0.22), "barWidth": (0.1, 0.22), "minNoteDistance": (0.15, 0.5),
              "measureSpacing": (1.0, 1.6)}
    tags = "".join(f"<{k}>{rng.uniform(*r):.3f}</{k}>" for k, r in widths.items())
    return f"<musicalSymbolFont>{font}</musicalSymbolFont><musicalTextFont>{font} Text</musicalTextFont>{tags}"


def _run_jobs(exe: str, jobs: list[dict], folder: Path) -> None:
    import os
    import subprocess

    (folder / "job.json").write_text(json.dumps(jobs))
    subprocess.run([exe, "-r", "150", "-j", str(folder / "job.json")], capture_output=True, timeout=600,
                   env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def musescore_batch(excerpts: list[list[str]], out: Path, text_share: float = 0.0, seed: int = 0,
                    style: str | None = None) -> int:
    """Engrave ``excerpts`` with MuseScore 3 in one process (in ``style`` where given: :func:`musescore_style`);
    keep those that fit one system (the system's crop and its LMX) in ``out`` (npz); a share ``text_share``
    of them carries text (:func:`with_text`). Returns how many were kept.

    A style is written into each score: MuseScore 3.2 ignores a style file (``-S``) for imported MusicXML,
    so the excerpts are first saved as MuseScore files, given the style there, then engraved."""
    import shutil
    import tempfile

    from PIL import Image

    from model.omr.systems import find_systems
    from model.tokenizers.lmx import delinearize

    exe = shutil.which("mscore3") or shutil.which("musescore3")
    if exe is None:
        return 0
    kept: dict[str, np.ndarray] = {}
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        for i, ex in enumerate(excerpts):
            sources.append(Path(tmp) / f"e{i}.musicxml")
            sources[-1].write_text(with_text(delinearize(ex), rng, text_share))
        if style:
            _run_jobs(exe, [{"in": str(p), "out": str(p.with_suffix(".mscx"))} for p in sources], Path(tmp))
            sources = [p.with_suffix(".mscx") for p in sources]
            for p in sources:
                if p.exists():
                    p.write_text(p.read_text().replace("<Style>", "<Style>" + style, 1))
        _run_jobs(exe, [{"in": str(p), "out": str(Path(tmp) / f"e{i}.png")} for i, p in enumerate(sources)],
                  Path(tmp))
        for i, ex in enumerate(excerpts):
            pngs = sorted(Path(tmp).glob(f"e{i}-*.png"))
            if len(pngs) != 1:
                continue
            with Image.open(pngs[0]) as im:
                rgba = im.convert("RGBA")
            page = np.asarray(Image.alpha_composite(Image.new("RGBA", rgba.size, (255,) * 4), rgba).convert("L"))
            systems, straight = find_systems(page)
            if len(systems) != 1:
                continue
            left, top, right, bottom = systems[0].box
            kept[f"img{len(kept) // 2}"] = straight[max(0, top - 20):bottom + 20, max(0, left - 20):right + 20]
            kept[f"lmx{len(kept) // 2}"] = np.asarray(" ".join(ex))
    if kept:
        np.savez_compressed(out, **kept)
    return len(kept) // 2


def load_musescore(folder: Path) -> list[tuple[np.ndarray, list[str]]]:
    """(system image, LMX) of every MuseScore 3 engraving made ahead; ties and slurs cut by an excerpt's edges
    are left out of the LMX (batches made before :func:`random_excerpt` dropped them carry them)."""
    from model.tokenizers.lmx import without_cut_curves

    out = []
    for f in sorted(Path(folder).glob("*.npz")) if Path(folder).is_dir() else []:
        data = np.load(f, allow_pickle=False)
        out += [(data[f"img{i}"], without_cut_curves(str(data[f"lmx{i}"]).split()))
                for i in range(len(data.files) // 2)]
    return out


def _rescale(img: np.ndarray, factor: float) -> np.ndarray:
    from PIL import Image

    h, w = img.shape
    return np.asarray(Image.fromarray(img).resize((max(8, int(w * factor)), max(8, int(h * factor))), Image.BILINEAR))


def with_text(musicxml: str, rng: np.random.Generator, share: float) -> str:
    """``musicxml``, or with probability ``share`` the same with lyrics, words and fingerings added."""
    from model.data.text import add_text

    return add_text(musicxml, rng) if share > 0 and rng.random() < share else musicxml


def with_clefs(excerpt: list[str], rng: np.random.Generator, share: float) -> list[str]:
    """``excerpt``, or with probability ``share`` the excerpt with one staff in the other clef over some
    measures (:func:`model.data.clefs.vary_clefs`), written back in the LMX's own order."""
    from model.data.clefs import vary_clefs
    from model.tokenizers.lmx import delinearize, linearize

    if share <= 0 or rng.random() >= share:
        return excerpt
    varied = vary_clefs(excerpt, rng)
    return excerpt if varied == excerpt else linearize(delinearize(varied))


def stream(pool: list[dict], seed: int, max_measures, degrade_prob: float = 0.5, musescore: list | None = None,
           musescore_share: float = 0.2, clef_share: float = 0.0, text_share: float = 0.0, space: int = STAFF_SPACE,
           octave_share: float = 0.0) -> Iterator[tuple[np.ndarray, list[int]]]:
    """Training strips forever; ``max_measures()`` is asked before every excerpt (a curriculum). A share of
    the systems comes from ``musescore`` (MuseScore 3 engravings made ahead), at a random resolution and
    degraded afresh; a share ``clef_share`` of the others changes clef (:func:`with_clefs`) and a share
    ``text_share`` carries text (:func:`with_text`) and a share ``octave_share`` writes a treble staff in the
    tenor's clef (:func:`model.data.clefs.octave_clef`). Strips have ``space`` px a staff space (MuseScore's
    pages, made at about 10 px, are scaled to match)."""
    from model.data.clefs import octave_clef
    from model.data.degrade import degrade

    rng = np.random.default_rng(seed)
    while True:
        try:
            if musescore and rng.random() < musescore_share:
                img, tokens = musescore[int(rng.integers(len(musescore)))]
                img = _rescale(img, float(rng.uniform(0.8, 1.6)) * space / STAFF_SPACE)
                if rng.random() < degrade_prob:
                    img = degrade(img, rng, float(rng.uniform(0.2, 1.0)))
                yield from strips_of(img, tokens, space)
                continue
            piece = pool[int(rng.integers(len(pool)))]
            excerpt = with_clefs(random_excerpt(piece, rng, int(max_measures()), untimed=0.2), rng, clef_share)
            if octave_share > 0 and rng.random() < octave_share:
                excerpt = octave_clef(excerpt, rng)
            examples = staff_examples(excerpt, rng, degrade_prob, text_share, space)
        except Exception:  # an excerpt Verovio or the tokenizers cannot take is skipped
            continue
        yield from examples


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="staff-reader training data")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pool", help="add pieces to a pool file")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--pieces", type=int, default=400)
    p.add_argument("--split", choices=["train", "validation"], default="train")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--suffix", default=None, help="only corpus files whose name ends so (e.g. .rntxt)")
    m = sub.add_parser("musescore", help="engrave excerpts of a pool with MuseScore 3, in batches")
    m.add_argument("--pool", type=Path, required=True)
    m.add_argument("--out", type=Path, required=True, help="folder of npz batches")
    m.add_argument("--excerpts", type=int, default=600)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--clef-share", type=float, default=0.0, help="share of excerpts that change clef")
    m.add_argument("--text-share", type=float, default=0.0, help="share of excerpts with lyrics, words, fingerings")
    m.add_argument("--styles", action="store_true", help="each batch of 50 in a random look (musescore_style)")
    args = ap.parse_args(argv)
    log = lambda s: print(s, file=sys.stderr, flush=True)
    if args.cmd == "pool":
        n = build_pool(args.out, args.pieces, args.split, args.seed, log=log, suffix=args.suffix)
        print(f"{n} pieces added to {args.out}")
        return 0
    pool = load_pool(args.pool)
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    kept = 0
    for b in range(0, args.excerpts, 50):
        excerpts = [with_clefs(random_excerpt(pool[int(rng.integers(len(pool)))], rng, 4), rng, args.clef_share)
                     for _ in range(50)]
        style = musescore_style(rng) if args.styles else None
        kept += musescore_batch(excerpts, args.out / f"s{args.seed}_{b:05d}.npz", args.text_share, args.seed * 10**6 + b,
                                style)
        log(f"{b + 50} excerpts engraved, {kept} kept")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
