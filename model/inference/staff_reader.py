"""Score images -> notation with the staff reader: pages -> systems -> staff strips -> symbols -> LMX.

Each page is cut into systems and each system into staff strips (:mod:`model.omr.strips`); the
reader (:mod:`model.omr.crnn`) reads every strip in one left-to-right pass (CTC, greedy), the staves
of a system are joined into its LMX (:func:`model.tokenizers.staff_symbols.assemble`), and the
systems into one score. Every measure gets a confidence (the mean probability of the symbols read
in it, over the system's staves) and a box on its page, from the columns where the reader saw its
bar lines, so that the app can show doubtful measures on the scan.

The reader's weights are a bundle of their own inside the weights folder: ``reader.json`` (network
configuration and the symbol vocabulary) and ``reader.safetensors``; they load without pickle.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.errors import BadInputError, UnimtError
from model.inference.weights import READER_FILES, has_reader  # noqa: F401  (has_reader: part of this API)
from model.io.types import Notation, ScoreImage
from model.progress import Reporter, stages_only

READER_CONFIG, READER_WEIGHTS = READER_FILES

FIT_COST = 8.0   # the most log-probability given up to make a voice fill its measure

# the steps after CTC: bar lines of a grand staff agreed, a bar line before a system's first note dropped, a
# pitch read after a chord mark or accidental that has none, courtesy signatures dropped, voices re-chosen
# where one overfills its measure, note values fitted to the measure, ties completed, pedal marks kept in
# pairs, a single staff's short voices filled with hidden rests (but none after a measure's last printed note,
# which nothing on a page shows), ties and slurs to nothing at the score's two ends dropped (see
# :meth:`StaffReaderEngine.read`)
AFTER_STEPS = ("bars", "opening", "pitches", "courtesy", "voices", "durations", "chords", "ties", "tied chords",
               "pedals", "fills", "rests", "dangling")

# the widths each strip is read at (x its own): the most probable reading is kept. On the 161 validation
# staves (reader12, symbol SER): 6.99% at its own width alone, 6.26% keeping the best of 1 and 1.19, 6.18%
# of 1, 1.12 and 1.25, 6.00% of five widths from 1 to 1.25. Each width costs a reading: with two, reader13
# reads the 3-page Maple Leaf Rag PDF in 2.4 s a page, start-up included (a page's strips read in one batch;
# three widths: 3.1 s). Validation LMX SER with every step after reading (python -m tools.reader_steps), three
# widths: all 9.54% -> 8.72%, single staves clean 4.95% -> 4.05%; 1.25 alone: 9.78%. Reading the second width
# only for strips with a column the reader is unsure of (best symbol under 0.45) cost 0.18 points of LMX SER
# on validation (8.59% -> 8.77%) and saved little: a page's long strips nearly all have such a column
SCALES = (1.0, 1.19)

_cache: dict[str, StaffReaderEngine] = {}
_lock = threading.Lock()


@dataclass
class MeasureBox:
    page: int
    system: int                         # index of its system in the whole score
    box: tuple[int, int, int, int]      # left, top, right, bottom on the page (deskewed)
    confidence: float


@dataclass
class ReadScore:
    """What reading found: the LMX of each system and every measure's place and confidence."""

    systems: list[tuple[int, tuple[int, int, int, int]]] = field(default_factory=list)   # (page, box)
    system_tokens: list[list[str]] = field(default_factory=list)
    measures: list[MeasureBox] = field(default_factory=list)

    @property
    def tokens(self) -> list[str]:
        return [t for s in self.system_tokens for t in s]

    @property
    def system_measures(self) -> list[int]:
        """Measures read in each system."""
        return [sum(1 for m in self.measures if m.system == i) for i in range(len(self.systems))]

    @property
    def measure_confidence(self) -> list[float]:
        return [m.confidence for m in self.measures]

    @property
    def measure_boxes(self) -> list[tuple[int, tuple[int, int, int, int]]]:
        """(page, box) of every measure, in score order."""
        return [(m.page, m.box) for m in self.measures]


def get_reader(folder: str | Path, report: Reporter | None = None) -> StaffReaderEngine:
    """The staff reader of ``folder``, loaded once per process (``report`` hears each stage)."""
    key = str(Path(folder).resolve())
    with _lock:
        if key not in _cache:
            _cache[key] = StaffReaderEngine(folder, report)
        return _cache[key]


def is_loaded(folder: str | Path) -> bool:
    return str(Path(folder).resolve()) in _cache


def layout_of(staves: int, grouped: bool = True) -> list[int]:
    """Staves per part for a system of ``staves`` staves: two grouped staves (a brace, or bar lines from one
    to the other) are one piano part, else each staff is a part."""
    return [2] if staves == 2 and grouped else [1] * staves


class StaffReaderEngine:
    def __init__(self, folder: str | Path, report: Reporter | None = None):
        import torch

        from model.bundle import dequantize, read_weights
        from model.omr.chords import NOTE_PREFIXES
        from model.omr.crnn import ReaderConfig, StaffReader, native_bf16
        from model.omr.header import NOTE_HEADS
        from model.tokenizers.staff_symbols import _PITCH_SET, _VOICE_SYMS, SYMBOLS

        folder = Path(folder)
        if report is not None:
            report(0, 0, f"loading the score reader: reading its configuration ({READER_CONFIG})")
        meta = json.loads((folder / READER_CONFIG).read_text())
        if list(meta["symbols"]) != list(SYMBOLS):
            raise UnimtError("the score reader's weights were made for another symbol set; reinstall unimt", folder)
        self.config = ReaderConfig.from_dict(meta["config"])
        self.model = StaffReader(self.config)
        state = dequantize(read_weights(folder / READER_WEIGHTS, report, "the score reader"))
        self.model.load_state_dict(state)   # a reader without a header head has no header weights either
        self.model.eval()
        # what reads: batch norms folded into the convolutions, in bfloat16 where the CPU computes it
        self.fast = self.model.fused(bf16=native_bf16())
        self.torch = torch
        self.duration_ids = torch.tensor([i for i, s in enumerate(SYMBOLS) if s.startswith("d:")])
        self.pitch_ids = torch.tensor([i for i, s in enumerate(SYMBOLS) if s in _PITCH_SET])
        self.voice_ids = torch.tensor([i for i, s in enumerate(SYMBOLS) if s in _VOICE_SYMS])
        self.prefix_ids = {i for i, s in enumerate(SYMBOLS) if s in NOTE_PREFIXES}
        self.head_ids = {i for i, s in enumerate(SYMBOLS) if s in NOTE_HEADS}
        self.max_cost = FIT_COST
        self.after = set(AFTER_STEPS)   # what reading does after CTC (a research tool turns steps off)
        self.scales = SCALES

    def read_strips(self, strips: list[np.ndarray], batch: int = 16) -> list[tuple]:
        """Greedy CTC reading of strips (all those of a page at once: the network reads a batch of strips
        of like widths in about the time of one): per strip (symbol ids, probabilities, output positions),
        the header head's key and time log-probabilities (None without a head), and the reader's best note
        values at each note value read, best pitches at each pitch read and best voices at each voice read
        (:func:`model.omr.durations.symbol_alternatives`).

        Each strip is read at every width in :data:`SCALES` (stretched sideways) and the reading whose best
        path is the most probable is kept; its output positions are given at the strip's own width."""
        from model.omr.durations import gap_alternatives, symbol_alternatives

        slots = self.config.slots
        reads = [self._read_at(strips, f, batch) for f in self.scales]
        out = []
        for i in range(len(strips)):
            f, (decoded, _, key_lp, time_lp, log_probs) = max(((f, r[i]) for f, r in zip(self.scales, reads)),
                                                              key=lambda c: c[1][1])
            ids, probs, pos = decoded
            durations = symbol_alternatives(log_probs, ids, pos, self.duration_ids)
            pitches = symbol_alternatives(log_probs, ids, pos, self.pitch_ids)
            voices = symbol_alternatives(log_probs, ids, pos, self.voice_ids)
            gaps = gap_alternatives(log_probs, ids, pos, self.prefix_ids, self.head_ids, self.pitch_ids)
            out.append(((ids, probs, [int(t // slots / f) * slots + t % slots for t in pos]), key_lp, time_lp,
                        [d or p or v or g for d, p, v, g in zip(durations, pitches, voices, gaps)]))
        return out

    def read_systems(self, rows: list[list[np.ndarray]]) -> list[tuple]:
        """The strips of each system of a page (:meth:`read_strips`, read together): per system the
        readings of its strips, the key and time log-probabilities summed over them (the staves of a system
        share their key and time) and their alternatives."""
        flat = self.read_strips([s for row in rows for s in row]) if rows else []
        out, k = [], 0
        for row in rows:
            mine, k = flat[k:k + len(row)], k + len(row)
            keys = [m[1] for m in mine if m[1] is not None]
            times = [m[2] for m in mine if m[2] is not None]
            out.append(([m[0] for m in mine], sum(keys[1:], keys[0]) if keys else None,
                        sum(times[1:], times[0]) if times else None, [m[3] for m in mine]))
        return out

    def _read_at(self, strips: list[np.ndarray], scale: float, batch: int) -> list[tuple]:
        """Per strip, read ``scale`` times as wide: (decoded, best-path log-probability, key and time
        log-probabilities or None, its output log-probabilities)."""
        from model.omr.crnn import greedy_decode

        torch = self.torch
        if scale != 1.0:
            strips = [torch.nn.functional.interpolate(torch.from_numpy(np.ascontiguousarray(s))[None, None],
                                                      size=(s.shape[0], max(8, round(s.shape[1] * scale))),
                                                      mode="bilinear", align_corners=False)[0, 0].numpy()
                      for s in strips]
        order = sorted(range(len(strips)), key=lambda i: strips[i].shape[1])
        out: list = [None] * len(strips)
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            width = max(((strips[i].shape[1] + 3) // 4) * 4 for i in idx)
            x = np.zeros((len(idx), 1, strips[idx[0]].shape[0], width), np.float32)
            for j, i in enumerate(idx):
                x[j, 0, :, :strips[i].shape[1]] = strips[i]
            widths = torch.tensor([strips[i].shape[1] for i in idx])
            lengths = self.model.output_lengths(widths)
            with torch.inference_mode():
                if self.config.keys:
                    log_probs, key_logits, time_logits = self.fast(torch.from_numpy(x), header=True)
                    key_lp, time_lp = key_logits.log_softmax(-1), time_logits.log_softmax(-1)
                else:
                    log_probs, key_lp, time_lp = self.fast(torch.from_numpy(x)), None, None
                decoded = greedy_decode(log_probs, lengths)
                best = [float(log_probs[j, : int(lengths[j])].max(-1).values.sum()) for j in range(len(idx))]
            for j, i in enumerate(idx):
                out[i] = (decoded[j], best[j], None if key_lp is None else key_lp[j],
                          None if time_lp is None else time_lp[j], log_probs[j])
        return out

    def read(self, image: ScoreImage, report: Reporter) -> ReadScore:
        """Every page's systems read, then joined: a grand staff's bar lines made to agree between its staves
        (:func:`model.omr.bars.agree_bars`) and a bar line read before a system's first note dropped
        (:func:`model.omr.bars.drop_opening_bar`), the key of each system chosen over the whole score
        (:func:`model.omr.header.smooth_keys`), the time signature checked against the measures read, voices
        re-chosen where one holds more than its measure (:func:`model.omr.voices.fit_voices`), and note values
        re-chosen where a voice does not fill its measure (:func:`model.omr.durations.fit_durations`,
        the time signature carried from system to system); ties read at their end only are given their start
        (:func:`model.omr.ties.complete_ties`), a chord tied on some notes tied on all (:func:`model.omr.ties.tie_chords`)
        and pedal marks kept only in pairs (:func:`model.omr.ties.pair_pedals`); a tie or slur end read in the
        score's first or last measure that has no partner is dropped (:func:`model.omr.ties.drop_dangling_ends`);
        no hidden rest follows a measure's last printed note (:func:`model.tokenizers.lmx.without_trailing_rests`)."""
        from concurrent.futures import ThreadPoolExecutor

        from model.omr.bars import agree_bars, drop_opening_bar
        from model.omr.chords import fix_chords, missing_pitches
        from model.omr.durations import fit_durations
        from model.omr.header import (
            drop_courtesy,
            header_symbols,
            key_changes,
            read_header,
            smooth_keys,
            time_length,
        )
        from model.omr.strips import staff_strips
        from model.omr.ties import complete_ties, drop_dangling_ends, pair_pedals, tie_chords
        from model.omr.voices import fit_voices
        from model.tokenizers.clef_octaves import as_sounding
        from model.tokenizers.lmx import without_trailing_rests
        from model.tokenizers.staff_symbols import SYMBOLS, assemble

        symbols = list(SYMBOLS)
        read = []
        total = image.page_count
        with ThreadPoolExecutor(1) as ahead:   # the next page's staves are found while the network reads
            def find(q: int):
                return staff_strips(image.page(q), self.config.space)[0]

            coming = ahead.submit(find, 0)
            for p in range(total):
                report(p, total, f"reading page {p + 1} of {total}")
                systems = coming.result()
                if p + 1 < total:
                    coming = ahead.submit(find, p + 1)
                read += [(p, row, *r) for row, r in zip(systems, self.read_systems([[s.image for s in row]
                                                                                     for row in systems]))]
        keys = smooth_keys([k for _, _, _, k, _, _ in read]) if self.config.keys else []
        twos = [row[0].grouped for _, row, *_ in read if len(row) == 2]   # one layout for a whole score:
        grouped = 2 * sum(twos) >= len(twos)          # a piano's grand staff unless most such systems say not
        key_ids = header_symbols(symbols)[0]
        result, length = ReadScore(), None
        for n, (p, row, reads, key_sum, time_sum, alts) in enumerate(read):
            if "bars" in self.after:
                reads, alts = agree_bars(reads, alts, symbols, self.config.slots)
            if "opening" in self.after:
                reads, alts = drop_opening_bar(reads, alts, symbols)
            if "pitches" in self.after:
                reads, alts = map(list, zip(*[missing_pitches(r, a, symbols) for r, a in zip(reads, alts)]))
            fixed = [ids for ids, _, _ in reads]
            if "voices" in self.after:   # before the time signature is checked against the measures' lengths
                fixed = [fit_voices(ids, al, symbols, length, n == 0, n == len(read) - 1)
                         for ids, al in zip(fixed, alts)]
            if self.config.keys:
                fixed = read_header(fixed, key_sum, time_sum, symbols, key=keys[n])
            if "courtesy" in self.after:
                fixed = [drop_courtesy(ids, symbols) for ids in fixed]
            length = next((time_length(SYMBOLS[i]) for i in fixed[0][:4] if SYMBOLS[i].startswith("time:")), length)
            if "durations" in self.after:
                fixed = [fit_durations(ids, al, symbols, length, n == 0, n == len(read) - 1, self.max_cost)
                         for ids, al in zip(fixed, alts)]
            if "chords" in self.after:
                fixed = [fix_chords(ids, al, symbols) for ids, al in zip(fixed, alts)]
            if self.config.keys:
                then = key_ids[keys[n + 1]] if n + 1 < len(keys) else None
                fixed = key_changes(fixed, symbols, key_ids[keys[n]], then)
            reads = [(ids, probs, pos) for ids, (_, probs, pos) in zip(fixed, reads)]
            seqs = [as_sounding([SYMBOLS[i] for i in ids]) for ids, _, _ in reads]   # an octave clef's pitches move
            if "ties" in self.after:
                seqs = [complete_ties(q) for q in seqs]
            if "tied chords" in self.after:
                seqs = [tie_chords(q) for q in seqs]
            if "pedals" in self.after:
                seqs = [pair_pedals(q) for q in seqs]
            # a single staff's voice that starts late or ends early gets hidden rests, as engravers write it (single
            # staves 6.9% -> 6.1% validation SER); on a grand staff fills were more often wrong (11.3% -> 15.0%)
            fill = "fills" in self.after and len(row) == 1
            tokens = assemble(seqs, layout_of(len(row), grouped), fill=fill)
            result.system_tokens.append(without_trailing_rests(tokens) if "rests" in self.after else tokens)
            left = min(s.box[0] for s in row)
            top, right, bottom = row[0].box[1], max(s.box[2] for s in row), row[-1].box[3]
            result.systems.append((p, (left, top, right, bottom)))
            result.measures.extend(_measure_boxes(p, len(result.systems) - 1, row, reads, self.config.slots))
        if "dangling" in self.after and result.system_tokens:
            ends = result.system_tokens
            ends[0] = drop_dangling_ends(ends[0], True, len(ends) == 1)
            if len(ends) > 1:
                ends[-1] = drop_dangling_ends(ends[-1], False, True)
        report(total, total, "writing the score")
        return result


def _measure_boxes(page: int, system: int, row, reads, slots: int) -> list[MeasureBox]:
    """Each measure of a system: its columns (between the bar lines read on its first staff) and the mean
    probability of the symbols read in it over all staves."""
    from model.tokenizers.staff_symbols import SYMBOL_INDEX

    bar = SYMBOL_INDEX["measure"]
    per_staff = []
    for ids, probs, pos in reads:
        measures, cur_p = [], []
        for i, p, t in zip(ids, probs, pos):
            if i == bar:
                measures.append((cur_p, t))
                cur_p = []
            else:
                cur_p.append(p)
        measures.append((cur_p, None))
        per_staff.append(measures)
    n = max(len(m) for m in per_staff)
    first = row[0]
    left, top, right, bottom = min(s.box[0] for s in row), first.box[1], max(s.box[2] for s in row), row[-1].box[3]
    out, x0 = [], left
    for k in range(n):
        probs = [p for m in per_staff if k < len(m) for p in m[k][0]]
        end = per_staff[0][k][1] if k < len(per_staff[0]) else None
        x1 = right if end is None else int(left + (end // slots) * 4 / first.scale)
        out.append(MeasureBox(page, system, (x0, top, max(x0 + 1, x1), bottom),
                              float(np.mean(probs)) if probs else 0.0))
        x0 = x1
    return out


def recognise(folder: str | Path, image: ScoreImage, report: Reporter) -> Notation:
    """Read every page of ``image`` into one score (``notation.recognition`` says where each measure is)."""
    from model.io.notation import file_title, lazy_notation
    from model.tokenizers.lmx import delinearize

    read = get_reader(folder, stages_only(report)).read(image, report)
    if not read.system_tokens:
        raise BadInputError("no music staves found in the image; is this a score?", image.source)
    tokens = read.tokens
    if "measure" not in tokens:
        raise UnimtError("the score reader found no measures on the page", image.source)
    title = file_title(image.source) if image.source else None
    notation = lazy_notation(delinearize(tokens, title), read_from=image.source)
    notation.recognition = read
    return notation

