"""Build paired training data: scores engraved, made to look scanned, performed and recorded.

    unimt data build --out data/v1 --count 400 --seed 0 --workers 2 \\
        --tasks image2lmx,image2midi,audio2midi,midi2lmx,audio2lmx

One *unit* is one source piece: a music21 corpus file of the training or validation split (the
test split is never read; see :mod:`model.data.split`) or a procedurally written piece
(``generated:<seed>``). A unit is cut into excerpts of 1 to 8 measures; every excerpt becomes
aligned examples by construction:

* its LMX (the target of the notation tasks; a full header, so each excerpt stands alone);
* one system image: the excerpt's LMX written back as MusicXML and engraved by Verovio with a
  random music font, staff size, spacing and width, rasterised at a random resolution, degraded to
  look scanned or photographed (:mod:`model.data.degrade`) and staff-normalised to the model's canvas;
* its exact MIDI (score time) and a human-like performance of it (:mod:`model.data.humanize`),
  rendered by FluidSynth with a random training soundfont and augmented (:mod:`model.data.audio_aug`)
  into log-mel frames.

Tasks and their (source, target): image2lmx (image, LMX), image2midi (image, exact MIDI events),
audio2midi (4 s audio window, performed MIDI events of that window), midi2lmx (performed MIDI events,
LMX), audio2lmx (audio of the excerpt, LMX). Excerpts longer than 10 s of music skip the tasks that
need them whole.

Each unit is written to its own shard ``DIR/shards/<split>-<unit>.npz`` (no pickles: arrays and a
JSON header), so data larger than memory streams; ``DIR/manifest.json`` lists every shard with its
split, seed, tasks, counts, settings and source. The same ``--seed`` gives the same data.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import multiprocessing
import os
import re
import signal
import sys
import time
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

TASKS = ("image2lmx", "image2midi", "audio2midi", "midi2lmx", "audio2lmx")
FORMAT = "unimt-shards v1"
AUDIO_WINDOW_S = 4.0      # audio2midi window (the engine's default)
WHOLE_MAX_S = 10.0        # longest excerpt for the tasks that take it whole (one MIDI window)
SAMPLE_RATE = 16000
FONTS = ("Leipzig", "Bravura", "Gootville", "Leland", "Petaluma")
# Soundfonts: the MuseScore General family (full and Lite share their piano samples) is held out of
# training, for evaluation on an unseen piano; the others train.
TRAIN_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2",
                    "/usr/share/sounds/sf2/FluidR3Mono_GM.sf3", "/usr/share/sounds/sf3/FluidR3Mono_GM.sf3")
HELD_OUT_SOUNDFONT = "/usr/share/sounds/sf3/MuseScore_General.sf3"
HELD_OUT_FAMILY = "MuseScore_General"
# the piano that plays validation recordings (threshold tuning): neither trained nor tested on (Debian
# csound-soundfont)
VALIDATION_PIANO = "/usr/share/sounds/sf2/sf_GMbank.sf2"


def held_out_soundfont(name: str) -> bool:
    """True for a soundfont (file name or path) of the held-out family: never trained on."""
    return Path(name).name.startswith(HELD_OUT_FAMILY)


@dataclass
class BuildSettings:
    tasks: tuple = TASKS
    max_measures: int = 8
    excerpts_per_unit: int = 12
    degrade_prob: float = 0.7
    generated_share: float = 0.5      # share of units written procedurally
    audio_prob: float = 0.6           # share of excerpts that are also performed and recorded
    timeout_s: int = 120              # per unit
    soundfonts: tuple = field(default_factory=tuple)
    keep_audio: bool = False          # evaluation: also return each excerpt's recording and performance
    piano_programs: tuple = (0,)      # GM programs the recordings are played with, one drawn per excerpt
    recording: str = "light"          # "rooms": every training piano, human dynamics, model.data.recording


# -- sources ------------------------------------------------------------------------------------
def _unit_seed(seed: int, index: int) -> int:
    return int.from_bytes(hashlib.sha1(f"{seed}:{index}".encode()).digest()[:4], "little")


def generated_split(seed: int) -> str:
    """Generated pieces: one in 20 goes to validation (they are never in the corpus test split)."""
    return "validation" if zlib.crc32(f"generated:{seed}".encode()) % 20 == 0 else "train"


def plan_units(count: int, seed: int, settings: BuildSettings) -> list[dict]:
    """The units of a build: corpus files (train and validation only) and generated seeds."""
    import random

    from model.data.split import corpus_files

    rng = random.Random(seed)
    corpus = [(rel, str(path), split) for split in ("train", "validation")
              for rel, path in corpus_files(split)]
    rng.shuffle(corpus)
    n_gen = int(round(count * settings.generated_share)) if _generator() else 0
    units = []
    for i in range(count - n_gen):
        rel, path, split = corpus[i % len(corpus)]
        units.append({"source": rel, "path": path, "split": split})
    for i in range(n_gen):
        gseed = _unit_seed(seed, 10**6 + i)
        units.append({"source": f"generated:{gseed}", "path": None, "split": generated_split(gseed)})
    rng.shuffle(units)
    for i, u in enumerate(units):
        u["index"], u["seed"] = i, _unit_seed(seed, i)
    return units


def _generator():
    try:
        from model.data.generate import generate_piece
    except ImportError:
        return None
    return generate_piece


def unit_scores(unit: dict, rng: np.random.Generator) -> list:
    """music21 scores of a unit (an Opus gives a few of its scores), reduced to at most two staves, every
    chord's notes low to high as notation programs write them (ABC keeps them as typed, often top down; the
    order is not on the page, so no reader can be asked for it)."""
    from music21 import chord, converter, stream

    if unit["path"] is None:
        gen = _generator()
        return [gen(int(unit["source"].split(":")[1]), measures=int(rng.integers(8, 33)))]
    parsed = converter.parse(unit["path"])
    scores = list(parsed.scores[:3]) if isinstance(parsed, stream.Opus) else [parsed]
    scores = [s for s in (keyboard_reduction(s) for s in scores) if s is not None]
    for c in (c for s in scores for c in s.recurse().getElementsByClass(chord.Chord)):   # reductions' too
        c.sortAscending(inPlace=True)
    return scores


def keyboard_reduction(score):
    """Scores of 3 to 5 parts (chorales, quartets, madrigals) onto a grand staff, at most 2 voices a staff.

    Parts are ordered high to low by mean pitch; the upper half goes to the treble staff, the lower
    half to the bass staff; a staff with 3 parts merges its lowest two into chords where they meet.
    One- and two-part scores are kept as they are; larger ones are dropped (None).
    """
    from music21 import clef, instrument, layout, stream

    parts = list(score.parts)
    if len(parts) <= 2:
        return score
    if len(parts) > 5:
        return None

    def mean_pitch(p):
        ps = [n.pitch.ps for n in p.recurse().notes if hasattr(n, "pitch")]
        return sum(ps) / len(ps) if ps else 60.0

    parts.sort(key=mean_pitch, reverse=True)
    half = (len(parts) + 1) // 2
    groups = [parts[:half], parts[half:]]
    measures = [list(p.getElementsByClass(stream.Measure)) for p in parts]
    n = min(len(m) for m in measures)
    if n == 0:
        return None
    out = stream.Score()
    staffs = []
    for g, group in enumerate(groups):
        ps = stream.PartStaff()
        if g == 0:
            ps.insert(0, instrument.Piano())
        for i in range(n):
            src = [list(p.getElementsByClass(stream.Measure))[i] for p in group][:2]
            m = stream.Measure(number=src[0].number)
            m.paddingLeft = src[0].paddingLeft
            if i == 0:
                m.insert(0, clef.TrebleClef() if g == 0 else clef.BassClef())
            for ctx in src[0].getElementsByClass(("KeySignature", "TimeSignature")):
                m.insert(0, copy.deepcopy(ctx))
            for k, sm in enumerate(src):
                v = stream.Voice(id=str(k + 1))
                for el in sm.flatten().notesAndRests:
                    v.insert(el.offset, copy.deepcopy(el))
                m.insert(0, v)
            ps.append(m)
        staffs.append(ps)
        out.insert(0, ps)
    out.insert(0, layout.StaffGroup(staffs, symbol="brace"))
    return out


# -- one excerpt ----------------------------------------------------------------------------------
def engrave_excerpt(musicxml: str, rng: np.random.Generator) -> np.ndarray:
    """One system image (uint8) of a short MusicXML, with a random engraving look."""
    import verovio

    from model.engrave import svg_to_array

    verovio.enableLog(verovio.LOG_OFF)
    tk = verovio.toolkit()
    # the delinearizer names parts "Part N"; printed music shows no name, or the instrument's
    r = float(rng.random())
    name = "" if r < 0.6 else ("Piano" if r < 0.8 else "Pno.")
    musicxml = re.sub(r"<part-name>[^<]*</part-name>", f"<part-name>{name}</part-name>", musicxml)
    opts = {
        "font": str(rng.choice(FONTS)),
        "breaks": "none",
        "adjustPageHeight": True, "adjustPageWidth": True,
        "pageMarginTop": 50, "pageMarginBottom": 50, "pageMarginLeft": int(rng.integers(0, 80)),
        "pageMarginRight": 30,
        "scale": 100,
        "spacingLinear": float(rng.uniform(0.15, 0.4)),
        "spacingNonLinear": float(rng.uniform(0.45, 0.7)),
        "spacingStaff": int(rng.integers(6, 14)),
        "header": "none", "footer": "none",
        "mnumInterval": int(rng.choice([0, 1, 5])),
        "svgViewBox": False,
        "svgRemoveXlink": True,
        "mmOutput": True,
    }
    tk.setOptions(opts)
    if not tk.loadData(musicxml):
        raise RuntimeError("verovio could not load the excerpt")
    svg = tk.renderToSVG(1)
    # staff space: 1.8 mm at scale 100 (mmOutput); choose dpi so the staff space is 6..14 px
    space_px = float(rng.uniform(6, 14))  # normalised to 5 px later: larger only costs rendering time
    dpi = int(space_px / 1.8 * 25.4)
    return svg_to_array(svg, dpi=dpi)


def excerpt_examples(tokens: list[str], n_measures: int, rng: np.random.Generator, settings: BuildSettings,
                     source: str, tokenizers) -> list[tuple[dict, Optional[np.ndarray]]]:
    """(header, array) pairs of every task made from one excerpt's LMX tokens."""
    from model.io.types import Midi, Notation
    from model.perform import notation_to_midi
    from model.tokenizers.lmx import delinearize

    lmx_tok, midi_tok, image_cfg, mel_cfg = tokenizers
    tasks = set(settings.tasks)
    out = []
    base = {"source": source, "measures": n_measures, "tgt_lmx": tokens}
    xml = delinearize(tokens)
    if tasks & {"image2lmx", "image2midi"}:
        from model.tokenizers.score_image import normalise_system

        img = engrave_excerpt(xml, rng)
        degraded = bool(rng.random() < settings.degrade_prob)
        if degraded:
            deg = _degrade()
            if deg is not None:
                img = deg(img, rng, float(rng.uniform(0.2, 1.0)))
        canvas = normalise_system(img, image_cfg)
        canvas8 = np.clip(canvas * 255.0 + 0.5, 0, 255).astype(np.uint8)
        out.append(({**base, "task": "image", "degraded": degraded}, canvas8))
    need_midi = tasks & {"image2midi", "audio2midi", "midi2lmx", "audio2lmx"}
    if not need_midi:
        return out
    from music21 import converter

    score = converter.parseData(xml, format="musicxml")
    exact = notation_to_midi(Notation(score), expand=False).pm
    length = exact.get_end_time()
    if "image2midi" in tasks and out and length <= WHOLE_MAX_S:
        seqs = midi_tok.encode_windows(exact, WHOLE_MAX_S)
        if len(seqs) == 1:
            out[0][0]["tgt_midi_exact"] = seqs[0].tokens
    if not tasks & {"audio2midi", "midi2lmx", "audio2lmx"} or rng.random() >= settings.audio_prob:
        return out
    hum = _humanize()
    perf = hum(exact, rng, float(rng.uniform(0.3, 1.0))) if hum is not None else exact
    perf_len = perf.get_end_time()
    if "midi2lmx" in tasks and perf_len <= WHOLE_MAX_S:
        seqs = midi_tok.encode_windows(perf, WHOLE_MAX_S)
        if len(seqs) == 1:
            out.append(({**base, "task": "midi2lmx", "src_midi": seqs[0].tokens}, None))
    if tasks & {"audio2midi", "audio2lmx"} and settings.soundfonts:
        from model.synth import midi_to_audio
        from model.tokenizers.audio import log_mel

        if settings.recording == "rooms":
            perf, audio, sf = _rooms_recording(perf, rng)
        else:
            sf = str(rng.choice(list(settings.soundfonts)))
            played = perf
            # one draw always
            program = int(settings.piano_programs[int(rng.random() * len(settings.piano_programs))])
            if len(settings.piano_programs) > 1:   # another piano of the soundfont; the labels stay
                played = copy.deepcopy(perf)
                for inst in played.instruments:
                    if not inst.is_drum:
                        inst.program = program
            audio = midi_to_audio(Midi(played), sf, sample_rate=SAMPLE_RATE).mono()
            aug = _audio_aug()
            if aug is not None:
                audio = aug(audio, SAMPLE_RATE, rng, float(rng.uniform(0.0, 1.0)))
        frames = log_mel(audio, mel_cfg).astype(np.float16)
        fps = int(round(mel_cfg.frames_per_second))
        meta = {"soundfont": Path(sf).name}
        if settings.keep_audio:
            notes = [[n.pitch, n.start, n.end, n.velocity] for inst in perf.instruments if not inst.is_drum
                     for n in inst.notes]
            out.append(({**base, **meta, "task": "recording", "perf_notes": notes}, audio.astype(np.float32)))
        if "audio2lmx" in tasks and perf_len <= WHOLE_MAX_S:
            out.append(({**base, **meta, "task": "audio2lmx"}, frames))
        if "audio2midi" in tasks:
            per = int(AUDIO_WINDOW_S * fps)
            for k, seq in enumerate(midi_tok.encode_windows(perf, AUDIO_WINDOW_S)):
                chunk = frames[k * per:(k + 1) * per]
                if len(chunk) < fps // 2:
                    break
                out.append(({**base, **meta, "task": "audio2midi", "window": k, "tgt_midi": seq.tokens,
                             "tgt_lmx": None}, chunk))
    return out


def _rooms_recording(perf, rng: np.random.Generator):
    """(performance with human dynamics (four times in five), its recording, the piano's name): a training
    piano (soundfont or additive, detuned) in a training room (model.data.recording)."""
    from model.data.dynamics import dynamics
    from model.data.pianos import draw_piano, play
    from model.data.recording import recorded

    if rng.random() < 0.8:
        perf = dynamics(perf, rng)
    piano = draw_piano(rng, "train")
    return perf, recorded(play(perf, piano, SAMPLE_RATE), SAMPLE_RATE, rng), piano.name


def _degrade():
    try:
        from model.data.degrade import degrade
    except ImportError:
        return None
    return degrade


def _humanize():
    try:
        from model.data.humanize import humanize
    except ImportError:
        return None
    return humanize


def _audio_aug():
    try:
        from model.data.audio_aug import augment
    except ImportError:
        return None
    return augment


def make_tokenizers():
    from model.tokenizers.audio import MelConfig
    from model.tokenizers.lmx import LMXTokenizer
    from model.tokenizers.midi import MidiTokenizer
    from model.tokenizers.score_image import SystemImageConfig

    return LMXTokenizer(), MidiTokenizer(), SystemImageConfig(), MelConfig()


# -- one unit -> one shard --------------------------------------------------------------------------
class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def build_unit(unit: dict, out_dir: str, settings: BuildSettings) -> dict:
    """Write one unit's shard; returns its manifest entry (with ``error`` when it failed)."""
    from model.tokenizers.lmx import _to_root, linearize_chunks
    from model.tokenizers.lmx_linearize import linearize_parts

    t0 = time.time()
    rng = np.random.default_rng(unit["seed"])
    entry = {"unit": unit["index"], "source": unit["source"], "split": unit["split"], "seed": unit["seed"]}
    if unit["split"] == "test":  # never, by construction; guarded all the same
        return {**entry, "error": "test split"}
    name = f"shards/{unit['split']}-{unit['index']:06d}.npz"
    if (Path(out_dir) / name).exists():  # resuming an interrupted build: units are deterministic
        try:
            records = read_shard(Path(out_dir) / name)
            if any(h.get("source") != unit["source"] for h, _ in records):
                raise ValueError("a shard of another plan")
            counts = Counter(t for h, _ in records for t in tasks_of(h, settings.tasks))
            return {**entry, "file": name, "counts": dict(counts), "resumed": True, "seconds": 0.0}
        except Exception:
            pass  # a damaged shard is rebuilt
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(settings.timeout_s)
    records: list[tuple[dict, Optional[np.ndarray]]] = []
    try:
        toks = make_tokenizers()
        for score in unit_scores(unit, rng):
            root = _to_root(score)
            n = len(linearize_parts(root))
            if n == 0:
                continue
            starts, s = [], 0
            while s < n:
                starts.append(s)
                s += int(rng.integers(1, settings.max_measures + 1))
            chosen = sorted(
                rng.choice(len(starts), size=min(len(starts), settings.excerpts_per_unit), replace=False)
            )
            chunks = linearize_chunks(root, starts)
            for i in chosen:
                stop = starts[i + 1] if i + 1 < len(starts) else n
                tokens = chunks[i]
                if not tokens or len(tokens) > 1500:
                    continue
                try:
                    records += excerpt_examples(tokens, stop - starts[i], rng, settings, unit["source"], toks)
                except _Timeout:
                    raise
                except Exception as exc:  # one bad excerpt does not spoil the unit
                    entry.setdefault("excerpt_errors", []).append(f"{type(exc).__name__}: {exc}"[:200])
    except _Timeout:
        entry["error"] = f"timeout after {settings.timeout_s} s"
    except Exception as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    if records:
        write_shard(Path(out_dir) / name, records)
        entry["file"] = name
        counts = Counter()
        for h, _ in records:
            counts.update(tasks_of(h, settings.tasks))
        entry["counts"] = dict(counts)
    entry["seconds"] = round(time.time() - t0, 2)
    return entry


def tasks_of(header: dict, tasks) -> list[str]:
    """The tasks a stored record serves."""
    kind = header["task"]
    if kind == "image":
        return [
            t
            for t in ("image2lmx", "image2midi")
            if t in tasks and (t == "image2lmx" or "tgt_midi_exact" in header)
        ]
    return [kind] if kind in tasks else []


def write_shard(path: Path, records: list[tuple[dict, Optional[np.ndarray]]]) -> None:
    """``header`` (JSON bytes as uint8) plus ``a<i>`` arrays; written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    headers, arrays = [], {}
    for i, (h, arr) in enumerate(records):
        if arr is not None:
            arrays[f"a{i}"] = arr
        headers.append(h)
    arrays["header"] = np.frombuffer(json.dumps(headers).encode("utf-8"), dtype=np.uint8)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def read_shard(path: Path) -> list[tuple[dict, Optional[np.ndarray]]]:
    with np.load(path, allow_pickle=False) as z:
        headers = json.loads(bytes(z["header"]).decode("utf-8"))
        return [(h, z[f"a{i}"] if f"a{i}" in z.files else None) for i, h in enumerate(headers)]


def _init_worker():
    import torch

    torch.set_num_threads(1)


def _run_unit(job):
    unit, out_dir, settings = job
    return build_unit(unit, out_dir, settings)


def build(out: Path, count: int, seed: int, workers: int, settings: BuildSettings, log=print) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    settings.soundfonts = tuple(p for p in TRAIN_SOUNDFONTS if Path(p).exists()) or settings.soundfonts
    units = plan_units(count, seed, settings)
    t0 = time.time()
    entries = []
    jobs = [(u, str(out), settings) for u in units]
    if workers <= 1:
        _init_worker()
        results = map(_run_unit, jobs)
    else:
        pool = multiprocessing.get_context("fork").Pool(
            workers, initializer=_init_worker, maxtasksperchild=20
        )
        results = pool.imap_unordered(_run_unit, jobs)
    totals = Counter()
    for k, e in enumerate(results, 1):
        entries.append(e)
        totals.update(e.get("counts", {}))
        if k % 10 == 0 or k == len(jobs):
            log(f"{k}/{len(jobs)} units, {dict(totals)}, {time.time() - t0:.0f} s")
            write_manifest(
                out, _manifest(seed, count, settings, workers, t0, totals, entries, complete=False)
            )
    if workers > 1:
        pool.close()
        pool.join()
    manifest = _manifest(seed, count, settings, workers, t0, totals, entries, complete=True)
    write_manifest(out, manifest)
    return manifest


def _manifest(seed, count, settings, workers, t0, totals, entries, complete: bool) -> dict:
    return {
        "format": FORMAT, "seed": seed, "count": count, "complete": complete, "settings": asdict(settings),
        "held_out_soundfont": Path(HELD_OUT_SOUNDFONT).name,
        "modules": {"generate": _generator() is not None, "degrade": _degrade() is not None,
                    "humanize": _humanize() is not None, "audio_aug": _audio_aug() is not None},
        "seconds": round(time.time() - t0, 1), "workers": workers,
        "totals": dict(totals), "shards": sorted(entries, key=lambda e: e["unit"]),
    }


def write_manifest(out: Path, manifest: dict) -> None:
    """Written atomically, also while building (``complete`` false), so training can start early."""
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, out / "manifest.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="output folder (shards + manifest.json)")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, from {', '.join(TASKS)}")
    parser.add_argument("--count", type=int, default=100, help="number of source pieces (units)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--generated-share", type=float, default=0.5, help="share of generated pieces")
    parser.add_argument("--excerpts", type=int, default=12, help="excerpts per piece")
    parser.add_argument("--audio-prob", type=float, default=0.6, help="share of excerpts also recorded")
    parser.add_argument(
        "--piano-programs",
        default="0",
        help="GM programs to record with, one drawn per excerpt (e.g. 0,0,1,2: grand, bright, "
        "electric grand)",
    )
    parser.add_argument("--recording", choices=["light", "rooms"], default="light",
                        help="rooms: every training piano, human dynamics, rooms/microphones/noise/codecs")


def run(args) -> int:
    tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
    bad = [t for t in tasks if t not in TASKS]
    if bad:
        print(
            f"unimt data build: unknown task(s) {', '.join(bad)}; choose from {', '.join(TASKS)}",
            file=sys.stderr,
        )
        return 1
    settings = BuildSettings(
        tasks=tasks,
        generated_share=args.generated_share,
        excerpts_per_unit=args.excerpts,
        audio_prob=args.audio_prob,
        piano_programs=tuple(int(p) for p in args.piano_programs.split(",") if p.strip()),
        recording=args.recording,
    )
    m = build(args.out, args.count, args.seed, args.workers, settings, log=lambda s: print(s, flush=True))
    errors = sum(1 for e in m["shards"] if "error" in e)
    print(
        f"{args.out}: {len(m['shards'])} units ({errors} failed) in {m['seconds']} s; examples {m['totals']}"
    )
    return 0


def main(argv=None) -> int:  # python -m model.data.build
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
