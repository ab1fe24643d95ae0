"""``unimt eval --only rooms``: audio -> MIDI on test-split performances recorded in rooms never trained on.

    unimt eval --only rooms [--weights DIR] [--pieces 8] [--excerpts 2] [--seed 0]
                            [--conditions dry,living,reverberant,drr+10,drr0,drr-6,drr-12] [--json OUT]

Each excerpt of a test-split piece (:func:`model.evaluate_reader.held_out_excerpts`) is performed with
human timing (:func:`model.data.humanize.humanize`, amount 0.5-1) and human dynamics
(:func:`model.data.dynamics.dynamics`, velocities 15-127), played by the held-out piano (the MuseScore
General bank's grand, detuned by up to +-10 cents; never trained on), and then recorded in each condition:

===============  =========================================================================================
condition        room (always of the held-out family, :func:`model.data.rooms.is_held_out`) and noise
===============  =========================================================================================
``dry``          no room, no noise: the piano as synthesised
``living``       DRR +3..+8 dB, RT60 0.3-0.6 s, noise 40-50 dB below the music
``reverberant``  DRR -12..-6 dB, RT60 0.6-1.5 s, noise 30-45 dB below
``drr+10`` ...   the DRR sweep: exactly +10, 0, -6 or -12 dB, RT60 0.4-1.2 s, noise 40-50 dB below
===============  =========================================================================================

Noise is one or two of pink, mains hum, HVAC and speech-like babble (:mod:`model.data.channel`). The DRR and
RT60 reported are measured on each impulse response (:func:`model.data.rooms.measure_drr`), not taken from
the room's parameters. Every system scores the same audio: the weights through the product's own path
(``Engine.transcribe``) and any ``systems`` passed in (``tools/compare_rooms.py`` adds basic-pitch), with
note onset F1 and onset-offset F1 (mir_eval, 50 ms; :class:`model.metrics.NoteF1`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

SR = 16000
EVAL_DETUNE_CENTS = 10.0


@dataclass(frozen=True)
class Condition:
    """A recording condition: DRR and RT60 ranges of a held-out room (None: no room) and the noise's distance
    below the music (dB; None: no noise)."""

    drr_db: tuple | None
    rt60: tuple | None
    snr_db: tuple | None


CONDITIONS = {
    "dry": Condition(None, None, None),
    "living": Condition((3.0, 8.0), (0.3, 0.6), (40.0, 50.0)),
    "reverberant": Condition((-12.0, -6.0), (0.6, 1.5), (30.0, 45.0)),
    "drr+10": Condition((10.0, 10.0), (0.4, 1.2), (40.0, 50.0)),
    "drr0": Condition((0.0, 0.0), (0.4, 1.2), (40.0, 50.0)),
    "drr-6": Condition((-6.0, -6.0), (0.4, 1.2), (40.0, 50.0)),
    "drr-12": Condition((-12.0, -12.0), (0.4, 1.2), (40.0, 50.0)),
}


def record(dry: np.ndarray, condition: Condition, rng: np.random.Generator,
           sr: int = SR) -> tuple[np.ndarray, dict]:
    """``dry`` recorded in ``condition`` (a held-out room drawn from ``rng``): float32 audio of the same
    length, peak 0.89 (or silent), and what was measured ({"drr_db", "rt60", "snr_db", "noise"})."""
    from model.data.channel import noise, safe
    from model.data.rooms import draw_room, impulse_response, measure_drr, measure_rt60, reverberate

    y = np.asarray(dry, dtype=np.float64)
    meta: dict = {}
    if condition.drr_db is not None:
        room = draw_room(rng, condition.drr_db, condition.rt60, held_out=True)
        ir = impulse_response(room, rng, sr)
        y = reverberate(y, ir)
        meta.update(drr_db=round(measure_drr(ir, sr), 2), rt60=round(measure_rt60(ir, sr), 3),
                    room=[round(v, 1) for v in room.dims], distance=round(room.distance, 2))
    if condition.snr_db is not None:
        snr = float(rng.uniform(*condition.snr_db))
        y = noise(y, sr, rng, snr, params=meta)
        meta["snr_db"] = round(snr, 1)
    peak = float(np.abs(y).max()) if y.size else 0.0
    if peak > 0:
        y = y * (0.89 / peak)
    return safe(y), meta


def performances(pieces: int, excerpts: int, seed: int, split: str = "test", log=print,
                 dense: bool = False, transpose: int = 0) -> list[dict]:
    """Excerpts of ``split`` pieces performed with human timing and dynamics, played by the held-out piano:
    [{"source", "perf" (PrettyMIDI), "audio" (dry float32), "piano", "dynamics"}], deterministic for a
    seed. ``dense``: excerpts are drawn from four times as many pieces and the ``pieces * excerpts`` with the
    most notes a second are kept (piano music is denser than the chorales and songs that most pieces are).
    ``transpose``: every excerpt moved by that many semitones (``12``: played an octave higher, where piano
    music often is and the corpus's vocal lines rarely are), notes off the keyboard left out."""
    from dataclasses import replace

    from model.data.dynamics import dynamics
    from model.data.humanize import humanize
    from model.data.pianos import pianos, play

    bank = pianos("test" if split == "test" else "validation")
    if not bank:
        raise FileNotFoundError(f"no {split} piano installed (musescore-general-soundfont, csound-soundfont)")
    chosen = _excerpt_midis(pieces * 4 if dense else pieces, excerpts, seed, split, log)
    if dense:
        def rate(item):
            pm = item[2]
            return sum(len(i.notes) for i in pm.instruments) / max(1.0, pm.get_end_time())

        chosen = sorted(sorted(chosen, key=rate, reverse=True)[:pieces * excerpts])
    out = []
    for k, source, exact in chosen:
        if transpose:
            exact = _transposed(exact, transpose)
        rng = np.random.default_rng([seed, k, 7919])
        dyn: dict = {}
        perf = dynamics(humanize(exact, rng, float(rng.uniform(0.5, 1.0))), rng, params=dyn)
        piano = replace(bank[0], detune_cents=float(rng.uniform(-EVAL_DETUNE_CENTS, EVAL_DETUNE_CENTS)))
        out.append({"source": source, "perf": perf, "audio": play(perf, piano, SR), "piano": piano.name,
                    "dynamics": dyn["dynamics"]})
    return out


def _transposed(pm, semitones: int):
    import copy

    out = copy.deepcopy(pm)
    for inst in out.instruments:
        inst.notes = [n for n in inst.notes if 21 <= n.pitch + semitones <= 108]
        for n in inst.notes:
            n.pitch += semitones
    return out


def _excerpt_midis(pieces: int, excerpts: int, seed: int, split: str, log) -> list[tuple]:
    """[(index, source, exact PrettyMIDI)] of the held-out excerpts that have notes."""
    from music21 import converter

    from model.evaluate_reader import held_out_excerpts
    from model.io.types import Notation
    from model.perform import notation_to_midi
    from model.tokenizers.lmx import delinearize

    out = []
    for k, (source, lmx) in enumerate(held_out_excerpts(pieces, excerpts, seed, split, log=log)):
        try:
            score = converter.parseData(delinearize(lmx), format="musicxml")
            exact = notation_to_midi(Notation(score), expand=False).pm
        except Exception as exc:  # an excerpt music21 cannot read back is skipped, as in training
            log(f"skipped an excerpt of {source}: {type(exc).__name__}")
            continue
        if any(i.notes for i in exact.instruments):
            out.append((k, source, exact))
    return out


def _reference(perf):
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start, n.end) for i in perf.instruments
                  if not i.is_drum for n in i.notes]
    pm.instruments.append(inst)
    return pm


def recordings(performed: list[dict], names: tuple, seed: int) -> dict:
    """{condition: [(audio, reference PrettyMIDI, measured meta)]}: every performance in every condition, each
    with its own room and noise (the same for every system)."""
    out = {}
    for c, name in enumerate(names):
        cond = CONDITIONS[name]
        out[name] = []
        for k, p in enumerate(performed):
            audio, meta = record(p["audio"], cond, np.random.default_rng([seed, k, c, 104729]))
            out[name].append((audio, _reference(p["perf"]), meta))
    return out


def evaluate_rooms(weights: str | None, pieces: int = 8, excerpts: int = 2, seed: int = 0,
                   conditions: tuple = tuple(CONDITIONS), device: str = "cpu", systems: dict | None = None,
                   split: str = "test", log=print, dense: bool = False, transpose: int = 0) -> dict:
    """The report: per condition and system, note F1 and what the rooms measured (``dense``: the densest
    excerpts, ``transpose``: moved by semitones, see :func:`performances`).

    ``systems``: {name: fn(list of float32 16 kHz arrays) -> list of PrettyMIDI}, scored on the same audio.
    """
    from model.inference.engine import get_engine
    from model.inference.weights import find_weights
    from model.io.types import Audio
    from model.metrics import NoteF1
    from model.progress import Reporter

    t0 = time.time()
    folder = find_weights(weights)
    engine = get_engine(folder, device)
    performed = performances(pieces, excerpts, seed, split, log, dense, transpose)
    log(f"{len(performed)} {split} performances in {time.time() - t0:.0f} s")
    recs = recordings(performed, tuple(conditions), seed)
    report: dict = {"weights": str(folder), "split": split, "pieces": pieces, "excerpts": excerpts,
                    "dense": dense, "transpose": transpose, "notes_per_second": round(
                        sum(len(i.notes) for p in performed for i in p["perf"].instruments)
                        / max(1e-9, sum(p["audio"].size for p in performed) / SR), 1),
                    "seed": seed,
                    "piano": performed[0]["piano"] if performed else None,
                    "velocity_range": [min((p["dynamics"][1] for p in performed), default=0),
                                       max((p["dynamics"][2] for p in performed), default=0)],
                    "seconds_of_audio": round(sum(p["audio"].size for p in performed) / SR, 1),
                    "conditions": {}}
    for name, items in recs.items():
        scores = {"unimt": NoteF1()}
        t = time.time()
        for audio, ref, _ in items:
            scores["unimt"].add(engine.transcribe(Audio(audio, SR), Reporter()).pm, ref)
        seconds = {"unimt": time.time() - t}
        for sys_name, fn in (systems or {}).items():
            t = time.time()
            scores[sys_name] = NoteF1()
            for est, (_, ref, _) in zip(fn([a for a, _, _ in items]), items, strict=True):
                scores[sys_name].add(est, ref)
            seconds[sys_name] = time.time() - t
        metas = [m for _, _, m in items]
        report["conditions"][name] = {
            "measured": {k: [min(m[k] for m in metas), max(m[k] for m in metas)]
                         for k in ("drr_db", "rt60", "snr_db") if metas and k in metas[0]},
            "systems": {s: {**{m: x for m, x in f.summary().items()}, "seconds": round(seconds[s], 1)}
                        for s, f in scores.items()},
        }
        row = "  ".join(f"{s} {f.onset_f1:.1%} / {f.onset_offset_f1:.1%}" for s, f in scores.items())
        log(f"{name:12s} onset / onset-offset F1: {row}")
    report["seconds"] = round(time.time() - t0, 1)
    return report


def print_table(report: dict, out=sys.stdout) -> None:
    """The report as a table: a row per condition, onset and onset-offset F1 per system."""
    systems = sorted({s for c in report["conditions"].values() for s in c["systems"]},
                     key=lambda s: s != "unimt")
    head = " | ".join(f"{s} onset F1 | {s} onset-offset F1" for s in systems)
    print(f"| condition | measured DRR (dB) | RT60 (s) | noise below (dB) | {head} |", file=out)
    print("|" + " --- |" * (4 + 2 * len(systems)), file=out)
    for name, c in report["conditions"].items():
        m = c["measured"]
        m = {k: [round(float(x), 2) + 0.0 for x in v] for k, v in m.items()}       # no "-0"
        rng_ = {k: (f"{v[0]:g} to {v[1]:g}" if v[0] != v[1] else f"{v[0]:g}") for k, v in m.items()}
        cells = " | ".join(f"{c['systems'][s]['onset_f1']:.1%} | {c['systems'][s]['onset_offset_f1']:.1%}"
                           for s in systems)
        print(f"| {name} | {rng_.get('drr_db', '-')} | {rng_.get('rt60', '-')} | {rng_.get('snr_db', '-')} | "
              f"{cells} |", file=out)
    moved = f", moved {report['transpose']:+d} semitones" if report.get("transpose") else ""
    print(f"{report['pieces']} pieces x {report['excerpts']} excerpts "
          f"({report['seconds_of_audio']} s of audio, {report.get('notes_per_second', '?')} notes/s"
          f"{', the densest' if report.get('dense') else ''}{moved}), "
          f"piano {report['piano']}, velocities {report['velocity_range']}, {report['seconds']} s", file=out)


def run(args) -> int:
    """``unimt eval --only rooms``."""
    import json

    from model.evaluate import basic_pitch_transcriber

    names = tuple(c.strip() for c in args.conditions.split(",") if c.strip()) or tuple(CONDITIONS)
    unknown = [c for c in names if c not in CONDITIONS]
    if unknown:
        raise SystemExit(f"unknown condition(s) {unknown}; known: {', '.join(CONDITIONS)}")
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    systems = {}
    bp = basic_pitch_transcriber() if args.basic_pitch else None
    if bp is not None:
        systems["basic-pitch"] = lambda audios: [bp(a, SR) for a in audios]
    report = evaluate_rooms(args.weights, args.pieces, args.excerpts, args.seed, names, args.device, systems,
                            args.split, log, dense=args.dense, transpose=getattr(args, "transpose", 0))
    print_table(report)
    if args.json:
        from model.io.atomic import write_bytes_atomic

        write_bytes_atomic(args.json, json.dumps(report, indent=2).encode())
    return 0
