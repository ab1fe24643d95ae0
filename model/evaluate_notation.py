"""``unimt eval --only midi2lmx``: performance -> score, every system on the same performances.

The performances are the evaluation's own midi2lmx records (:func:`model.evaluate.test_examples`:
humanised performances of held-out excerpts, the reference being the excerpt's LMX). Each is written
as a score by

* ``unimt notate``: the rule route of :mod:`model.notate` (beats, meter, key, hands, voices);
* the music21 quantiser (:func:`model.quantize.midi_to_notation`);
* MuseScore 3's MIDI import (``mscore3``, one batch job), when installed;
* the seq2seq writer of the installed weights, when they were trained for it (``writer=True``).

Sets: *one track* (the performance as a digital piano records it: every note in one track) and *one
track per staff* (the grand-staff excerpts, each staff's notes in its own track; the notes and
timings are the same performance's). With ``strong=True`` the same excerpts are also played with a
far stronger humanisation (tempo curves of +-30 %, swing, arpeggiated chords) as a third set.
Reported per system and set: SER on LMX tokens, time signature right, key right, measure count within
one of the reference.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SYSTEMS = ("unimt notate", "music21 quantiser", "MuseScore 3 import", "seq2seq writer")


def _first(tokens: list, prefix: str) -> str | None:
    return next((t for t in tokens if t.startswith(prefix)), None)


def time_signature(tokens: list) -> str | None:
    if "time" not in tokens:
        return None
    i = tokens.index("time")
    return " ".join(tokens[i + 1 : i + 3])


def key_of(tokens: list) -> str:
    return _first(tokens, "key:fifths:") or "key:fifths:0"


class Tally:
    """SER and the score-level checks of one system on one set."""

    def __init__(self):
        from model.metrics import SER

        self.ser, self.time_ok, self.key_ok, self.measures_ok, self.failed, self.seconds = (
            SER(),
            0,
            0,
            0,
            0,
            0.0,
        )

    def add(self, hyp: list, ref: list, seconds: float = 0.0) -> None:
        self.ser.add(hyp, ref)
        self.failed += not hyp
        self.time_ok += time_signature(hyp) == time_signature(ref)
        self.key_ok += key_of(hyp) == key_of(ref)
        self.measures_ok += abs(hyp.count("measure") - ref.count("measure")) <= 1
        self.seconds += seconds

    def summary(self) -> dict:
        n = max(self.ser.count, 1)
        return {
            "ser": round(self.ser.value, 4),
            "time_signature_right": round(self.time_ok / n, 3),
            "key_right": round(self.key_ok / n, 3),
            "measures_within_one": round(self.measures_ok / n, 3),
            "excerpts": self.ser.count,
            "reference_tokens": self.ser.reference,
            "failed": self.failed,
            "seconds_per_excerpt": round(self.seconds / n, 3),
        }


def per_staff(pm, tgt_lmx: list):
    """The same performance with each staff's notes in its own track (None for a one-staff excerpt): the
    k-th performed note of a pitch is the k-th written note of that pitch (the performance keeps the
    order)."""
    import copy

    import pretty_midi
    from music21 import converter

    from model.perform import score_notes
    from model.tokenizers.lmx import delinearize

    if "staff:2" not in tgt_lmx:
        return None
    score = converter.parseData(delinearize(tgt_lmx), format="musicxml")
    written = sorted(score_notes(score, expand=False), key=lambda n: (n.onset, -n.pitch))
    by_pitch: dict[int, list[int]] = {}
    for n in written:
        by_pitch.setdefault(n.pitch, []).append(n.part)
    played = sorted((n for inst in pm.instruments for n in inst.notes), key=lambda n: (n.start, -n.pitch))
    seen: dict[int, int] = {}
    tracks = [pretty_midi.Instrument(program=0, name=f"Staff {k + 1}") for k in range(2)]
    for n in played:
        k = seen.get(n.pitch, 0)
        seen[n.pitch] = k + 1
        parts = by_pitch.get(n.pitch, [0])
        tracks[min(parts[min(k, len(parts) - 1)], 1)].notes.append(copy.copy(n))
    out = pretty_midi.PrettyMIDI()
    out.instruments = [t for t in tracks if t.notes]
    return out if len(out.instruments) == 2 else None


def strong_performance(tgt_lmx: list, rng: np.random.Generator):
    """The excerpt played with far more freedom than training data: the usual humanisation, then a tempo
    curve of up to +-30 %, swung off-beat eighths (half of the excerpts) and arpeggiated chords."""
    import pretty_midi
    from music21 import converter

    from model.data.humanize import humanize
    from model.io.types import Notation
    from model.perform import notation_to_midi
    from model.tokenizers.lmx import delinearize

    exact = notation_to_midi(
        Notation(converter.parseData(delinearize(tgt_lmx), format="musicxml")), expand=False
    ).pm
    if rng.random() < 0.5:  # swing: off-beat eighths late by a third of an eighth
        for inst in exact.instruments:
            for n in inst.notes:
                q = n.start / 0.5
                if abs(q - np.floor(q) - 0.5) < 0.01:
                    n.start += 0.5 / 6
    perf = humanize(exact, rng, 1.0)
    end = max(perf.get_end_time(), 1.0)
    grid = np.linspace(0.0, end + 1.0, 200)
    knots = rng.uniform(-1.0, 1.0, size=6)
    rate = 1.0 + 0.3 * np.interp(grid, np.linspace(0.0, end + 1.0, 6), knots)  # local tempo factor
    warped = np.concatenate([[0.0], np.cumsum(np.diff(grid) / ((rate[1:] + rate[:-1]) / 2))])

    def warp(t):
        return float(np.interp(t, grid, warped))

    out = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0, name="Piano")
    notes = sorted((n for i in perf.instruments for n in i.notes), key=lambda n: (n.start, n.pitch))
    spread = {}
    for n in notes:  # chords of three or more notes rolled upwards
        key = round(n.start, 2)
        spread.setdefault(key, []).append(n)
    roll = {k: rng.random() < 0.3 for k in spread}
    for key, group in spread.items():
        for j, n in enumerate(sorted(group, key=lambda n: n.pitch)):
            delay = 0.025 * j if roll[key] and len(group) >= 3 else 0.0
            s, e = warp(n.start) + delay, warp(n.end) + delay
            inst.notes.append(pretty_midi.Note(n.velocity, n.pitch, s, max(e, s + 0.03)))
    out.instruments.append(inst)
    return out


def _linearize(source) -> list:
    from model.tokenizers.lmx import linearize

    try:
        return linearize(source)
    except Exception:  # noqa: BLE001 - a score the linearizer cannot read counts as an empty answer
        return []


def musescore_batch(pms: list, log: Callable = print) -> list:
    """LMX of MuseScore 3's import of every performance (one ``mscore3 -j`` job); [] where it failed."""
    exe = shutil.which("mscore3") or shutil.which("musescore3")
    if exe is None:
        log("mscore3 is not installed: no MuseScore comparison (apt install musescore3)")
        return [None] * len(pms)
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for i, pm in enumerate(pms):
            src, dst = Path(tmp) / f"{i}.mid", Path(tmp) / f"{i}.musicxml"
            pm.write(str(src))
            jobs.append({"in": str(src), "out": str(dst)})
        (Path(tmp) / "job.json").write_text(json.dumps(jobs))
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        try:
            subprocess.run(
                [exe, "-j", str(Path(tmp) / "job.json")],
                env=env,
                timeout=60 + 5 * len(pms),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            log("mscore3 timed out")
        return [_linearize(Path(j["out"])) if Path(j["out"]).exists() else [] for j in jobs]


def _writer(weights: str | None, device: str, log: Callable):
    """The installed weights' seq2seq writer as a function pm -> LMX, or None when there is none."""
    try:
        from model.inference.engine import get_engine
        from model.inference.weights import find_weights

        engine = get_engine(find_weights(weights), device)
    except Exception as exc:  # noqa: BLE001
        log(f"no seq2seq writer: {exc}")
        return None
    if not engine.supports("midi2lmx"):
        return None
    from model.io.types import Midi
    from model.progress import Reporter

    return lambda pm: _linearize(engine.notate(Midi(pm), Reporter()).score)


def _systems(writer) -> dict:
    from model.io.types import Midi
    from model.notate import performance_to_score
    from model.quantize import midi_to_notation

    def ours(pm):
        return _linearize(performance_to_score(pm)[0].score)

    def m21(pm):
        return _linearize(midi_to_notation(Midi(pm)).score)

    out = {"unimt notate": ours, "music21 quantiser": m21}
    if writer is not None:
        out["seq2seq writer"] = writer
    return out


def _run_set(name: str, items: list, systems: dict, musescore: bool, log: Callable) -> dict:
    """items: (performance, reference LMX). Every system on every item."""
    tallies = {s: Tally() for s in systems}
    for k, (pm, ref) in enumerate(items):
        for s, fn in systems.items():
            t = time.perf_counter()
            try:
                hyp = fn(pm)
            except Exception:  # noqa: BLE001 - a system failing on an excerpt scores an empty answer
                hyp = []
            tallies[s].add(hyp, ref, time.perf_counter() - t)
        if (k + 1) % 25 == 0:
            log(f"{name}: {k + 1}/{len(items)}")
    if musescore:
        t = time.perf_counter()
        hyps = musescore_batch([pm for pm, _ in items], log)
        if hyps and hyps[0] is not None:
            tally = Tally()
            per = (time.perf_counter() - t) / max(len(items), 1)
            for hyp, (_, ref) in zip(hyps, items):
                tally.add(hyp, ref, per)
            tallies["MuseScore 3 import"] = tally
    return {s: t.summary() for s, t in tallies.items()}


def one_track_performances(pieces: int, excerpts: int, seed: int, split: str, log: Callable) -> list:
    """(performance, reference LMX) of the evaluation's midi2lmx records: every note in one track."""
    from model.evaluate import test_examples
    from model.tokenizers.midi import MidiTokenizer

    tok = MidiTokenizer()
    ids = {t: i for i, t in enumerate(tok.vocab)}
    return [
        (tok.decode_window([ids[t] for t in h["src_midi"]], 10.0), h["tgt_lmx"])
        for h, _ in test_examples(pieces, excerpts, seed, ("midi2lmx",), log, split=split)
        if h["task"] == "midi2lmx"
    ]


def evaluate_notation(
    pieces: int = 40,
    excerpts: int = 3,
    seed: int = 0,
    split: str = "test",
    weights: str | None = None,
    device: str = "cpu",
    musescore: bool = True,
    writer: bool = True,
    strong: bool = True,
    log: Callable = print,
) -> dict:
    """Every system on the same performances of ``split``: the report of :mod:`model.evaluate_notation`."""
    t0 = time.time()
    one, staves, strong_items = one_track_performances(pieces, excerpts, seed, split, log), [], []
    for k, (pm, lmx) in enumerate(one):
        split_pm = per_staff(pm, lmx)
        if split_pm is not None:
            staves.append((split_pm, lmx))
        if strong:
            strong_items.append((strong_performance(lmx, np.random.default_rng([seed, 7, k])), lmx))
    log(f"{len(one)} {split} performances from {pieces} pieces ({len(staves)} on two staves)")
    systems = _systems(_writer(weights, device, log) if writer else None)
    grand = [item for item in one if "staff:2" in item[1]]
    sets = {"one track": one, "one track, grand-staff excerpts": grand, "one track per staff": staves}
    if strong:
        sets["one track, stronger humanisation"] = strong_items
    report = {"split": split, "pieces": pieces, "excerpts": excerpts, "seed": seed, "sets": {}}
    for name, items in sets.items():
        if items:
            report["sets"][name] = _run_set(name, items, systems, musescore, log)
    report["seconds"] = round(time.time() - t0, 1)
    return report


def print_report(report: dict, out=None) -> None:
    import sys

    out = out or sys.stdout
    for name, systems in report["sets"].items():
        n = next(iter(systems.values()))["excerpts"]
        print(f"{name} ({n} performances)", file=out)
        for s, r in systems.items():
            print(
                f"  {s:22s} SER {r['ser']:7.2%}  time sig {r['time_signature_right']:6.1%}  key "
                f"{r['key_right']:6.1%}  measures±1 {r['measures_within_one']:6.1%}  "
                f"{r['seconds_per_excerpt']:.2f} s each",
                file=out,
            )


def run_notation_eval(args, log: Callable) -> int:
    """``unimt eval --only midi2lmx``."""
    report = evaluate_notation(
        args.pieces,
        args.excerpts,
        args.seed,
        args.split,
        args.weights,
        args.device,
        musescore=args.musescore,
        writer=getattr(args, "writer", True),
        log=log,
    )
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0
