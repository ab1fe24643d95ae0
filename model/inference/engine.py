"""The model at inference: loads a weights bundle once and runs recognition and transcription.

* score image -> notation: pages -> systems (``model.omr.systems``) -> staff-normalised canvases ->
  LMX per system (greedy, logits masked to LMX) -> the systems' LMX joined in order (each system
  restates clef, key and time; ties and slurs at system ends meet their stops in the next system)
  -> one MusicXML score, with a confidence for every measure;
* audio -> MIDI: 16 kHz log-mel in consecutive windows -> MIDI events per window (tie sections carry
  notes across window borders) -> windows stitched into one performance.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from model.errors import BadInputError, UnimtError
from model.io.types import Audio, Midi, Notation, ScoreImage
from model.progress import Reporter

TASK_TARGET = {"image2lmx": "lmx", "image2midi": "midi", "audio2midi": "midi", "midi2lmx": "lmx",
               "audio2lmx": "lmx"}

_cache: dict[tuple[str, str], "Engine"] = {}
_lock = threading.Lock()


@dataclass
class Recognition:
    """What recognition found, for the app: system boxes per page and a confidence per measure."""

    systems: list[tuple[int, tuple[int, int, int, int]]] = field(default_factory=list)  # (page, box)
    system_measures: list[int] = field(default_factory=list)   # measures recognised in each system
    measure_confidence: list[float] = field(default_factory=list)


def resolve_device(name: str = "auto") -> str:
    import torch

    if name in ("auto", "", None):
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        return "cpu"  # fall back rather than fail: the CPU always works
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        return "cpu"
    return name


class Engine:
    """A loaded bundle plus its tokenizers."""

    def __init__(self, folder: str | Path, device: str = "auto", report: Optional[Reporter] = None):
        from model.bundle import load_bundle
        from model.tokenizers.audio import MelConfig
        from model.tokenizers.lmx import LMXConfig, LMXTokenizer
        from model.tokenizers.midi import MidiTokenizer, MidiTokenizerConfig
        from model.tokenizers.score_image import SystemImageConfig
        from model.vocab import Vocabulary

        self.device = resolve_device(device)
        self.folder = Path(folder)
        self.model, self.config = load_bundle(folder, self.device, report)
        self.vocab = Vocabulary.from_dict(self.config["vocab"])
        toks = self.config.get("tokenizers", {})
        self.lmx = LMXTokenizer(LMXConfig(**toks.get("lmx", {}).get("config", {})))
        self.midi = MidiTokenizer(MidiTokenizerConfig(**toks.get("midi", {}).get("config", {})))
        self.image_config = SystemImageConfig(**toks.get("image", {}).get("config", {}))
        self.mel_config = MelConfig(**toks.get("audio", {}).get("config", {}))
        self.tasks = dict(self.config.get("tasks", {}))
        self.inference = dict(self.config.get("inference", {}))   # settings measured on validation (README)
        self.audio_window_s = float(self.inference.get("audio_window_s", 4.0))
        # windows of the note head overlap by this much and are cross-faded: every frame heard in two contexts
        self.audio_overlap_s = float(self.inference.get("audio_overlap_s", 0.5))
        # recordings are brought to this loudness (model.tokenizers.audio.loudness) before the note head hears
        # them
        self.audio_level = self.inference.get("audio_level")

    def supports(self, task: str) -> bool:
        return task in self.tasks

    def _mask(self, target: str):
        import torch

        return torch.as_tensor(self.vocab.modality_mask(target), device=self.device)

    def _generate(self, kind: str, batch, pad, target: str, max_len: int, on_step=None):
        import torch

        tm = torch.full((batch.shape[0],), self.vocab.target_id(target), dtype=torch.long, device=self.device)
        return self.model.generate(
            kind,
            batch.to(self.device),
            tm,
            bos_id=self.vocab.bos,
            eos_id=self.vocab.eos,
            logit_mask=self._mask(target),
            src_pad=None if pad is None else pad.to(self.device),
            max_len=max_len,
            return_scores=True,
            on_step=on_step,
        )

    # -- score images ---------------------------------------------------------------------------
    def recognise(self, image: ScoreImage, report: Reporter, batch_size: int = 4) -> Notation:
        import torch

        from model.batching import Example, collate
        from model.tokenizers.lmx import decode_tokens
        from model.tokenizers.score_image import system_canvases

        if not self.supports("image2lmx"):
            raise UnimtError("these weights were not trained to read score images", self.folder)
        canvases, where = [], []
        for p in range(image.page_count):
            report(p, image.page_count * 2, f"finding systems on page {p + 1}")
            for box, canvas in system_canvases(image.page(p), self.image_config):
                canvases.append(canvas)
                where.append((p, box))
        if not canvases:
            raise BadInputError("no music staves found in the image; is this a score?", image.source)
        system_tokens, system_conf = [], []
        lmx_range = self.vocab.range("lmx")
        max_len = min(self.lmx.config.max_length, self.model.config.max_tgt_len - 1)
        for i in range(0, len(canvases), batch_size):
            exs = [Example("image2lmx", "image", c, [], 0) for c in canvases[i:i + batch_size]]
            b = collate(exs, self.vocab.bos, self.vocab.eos)
            steps = decoding_progress(report, len(canvases) + i, len(exs), 2 * len(canvases),
                                      "reading " + batch_label("system", i, len(exs), len(canvases)))
            with torch.inference_mode():
                ids, scores = self._generate("image", b.src, b.src_pad, "lmx", max_len, steps)
            for seq, sc in zip(ids, scores):
                local = [t - lmx_range[0] for t in seq if lmx_range[0] <= t < lmx_range[1]]
                probs = [p for t, p in zip(seq, sc) if lmx_range[0] <= t < lmx_range[1]]
                tokens = self.lmx.ids_to_tokens(local)
                system_tokens.append(tokens)
                system_conf.append(probs)
        rec = Recognition(systems=where)
        all_tokens: list[str] = []
        for tokens, probs in zip(system_tokens, system_conf):
            confs = measure_confidences(tokens, probs)
            rec.system_measures.append(len(confs))
            rec.measure_confidence.extend(confs)
            all_tokens.extend(tokens)
        report(2 * len(canvases), 2 * len(canvases), "writing the score")
        if not all_tokens:
            raise UnimtError("the model found no measures on the page", image.source)
        score = decode_tokens(all_tokens)
        notation = Notation(score, source=None)
        notation.recognition = rec
        return notation

    # -- performance MIDI -> notation ----------------------------------------------------------------
    def notate(self, midi: Midi, report: Reporter, batch_size: int = 32) -> Notation:
        """Performance MIDI -> a score through the model (the performance-to-score task): the performance is
        cut into passages of at most ``PASSAGE_S`` seconds where fewest notes sound across the cut, each
        passage is written as measures of LMX, and the measures are joined into one score with a
        confidence per measure."""
        import torch

        from model.batching import Example, collate
        from model.tokenizers.lmx import decode_tokens

        if not self.supports("midi2lmx"):
            raise UnimtError("these weights were not trained to write performances as scores", self.folder)
        passages = performance_passages(midi.pm, PASSAGE_S)
        if not passages:
            raise BadInputError("the MIDI has no notes to write as a score", midi.source)
        off = self.vocab.offset("midi")
        lmx_range = self.vocab.range("lmx")
        max_len = min(self.lmx.config.max_length, self.model.config.max_tgt_len - 1)
        sources = [np.asarray(self.midi.tokens_to_ids(self.midi.encode_windows(pm, PASSAGE_S)[0].tokens),
                              dtype=np.int64) + off for pm in passages]
        tokens_per, conf_per = [], []
        for i in range(0, len(sources), batch_size):
            exs = [Example("midi2lmx", "tokens", src, [], 0) for src in sources[i:i + batch_size]]
            b = collate(exs, self.vocab.bos, self.vocab.eos)
            caps = [min(max_len, notation_length_cap(len(e.src))) for e in exs]
            steps = decoding_progress(
                report,
                i,
                len(exs),
                len(passages),
                "writing " + batch_label("passage", i, len(exs), len(passages)) + " as notation",
            )
            with torch.inference_mode():
                ids, scores = self._generate("tokens", b.src, b.src_pad, "lmx", max(caps), steps)
            for cap, seq, sc in zip(caps, ids, scores):  # each passage to its own cap, as `unimt eval`
                keep = [
                    (t - lmx_range[0], p)
                    for t, p in zip(seq[:cap], sc[:cap])
                    if lmx_range[0] <= t < lmx_range[1]
                ]
                tokens_per.append(self.lmx.ids_to_tokens([t for t, _ in keep]))
                conf_per.append([p for _, p in keep])
        report(len(passages), len(passages), "joining passages")
        tokens, conf = join_passages(tokens_per, conf_per)
        if not tokens:
            raise UnimtError("the model wrote no measures for this performance", midi.source)
        notation = Notation(decode_tokens(tokens), source=None)
        notation.recognition = Recognition(measure_confidence=measure_confidences(tokens, conf))
        return notation

    # -- audio --------------------------------------------------------------------------------
    def transcribe(self, audio: Audio, report: Reporter, batch_size: int = 8) -> Midi:
        import torch

        from model.batching import Example, collate
        from model.tokenizers.audio import log_mel

        if self.supports("audio2notes") and self.model.note_head is not None:
            return self.transcribe_notes(audio, report, batch_size)
        if not self.supports("audio2midi"):
            raise UnimtError("these weights were not trained to transcribe audio", self.folder)
        mono = audio.mono(self.mel_config.sample_rate)
        frames = log_mel(mono, self.mel_config)
        per_window = int(round(self.audio_window_s * self.mel_config.frames_per_second))
        n = max(1, int(np.ceil(len(frames) / per_window)))
        midi_range = self.vocab.range("midi")
        windows = []
        for i in range(0, n, batch_size):
            report(i, n, f"transcribing {i * self.audio_window_s:.0f} s of {audio.duration:.0f} s")
            exs = [Example("audio2midi", "audio", frames[j * per_window:(j + 1) * per_window], [], 1)
                   for j in range(i, min(n, i + batch_size))]
            b = collate(exs, self.vocab.bos, self.vocab.eos)
            with torch.inference_mode():
                ids, _ = self._generate("audio", b.src, b.src_pad, "midi", self.model.config.max_tgt_len - 1)
            for seq in ids:
                local = [t - midi_range[0] for t in seq if midi_range[0] <= t < midi_range[1]]
                windows.append(self.midi.decode_window(local, self.audio_window_s))
        report(n, n, "joining windows")
        pm = self.midi.stitch(windows, self.audio_window_s)
        return Midi(pm, source=None)


    def note_probabilities(self, frames: np.ndarray, report: Optional[Reporter] = None, batch_size: int = 8,
                           overlap_s: Optional[float] = None) -> np.ndarray:
        """(T, 88, 4) note-head probabilities of log-mel ``frames`` (T, n_mels): windows as long as the
        training windows, overlapping by ``overlap_s`` (the bundle's ``audio_overlap_s`` by default) and
        cross-faded."""
        import torch

        from model.batching import Example, collate
        from model.notes import blend_windows, window_starts

        fps = self.mel_config.frames_per_second
        per_window = int(round(self.audio_window_s * fps))
        overlap = int(round((self.audio_overlap_s if overlap_s is None else overlap_s) * fps))
        overlap = min(overlap, per_window - 1)       # every window moves on
        starts = window_starts(len(frames), per_window, overlap)
        tm = self.vocab.target_id("midi")
        chunks = []
        for i in range(0, len(starts), batch_size):
            if report is not None:
                report(i, len(starts), f"transcribing {starts[i] / fps:.0f} s of {len(frames) / fps:.0f} s")
            exs = [
                Example("audio2notes", "audio", frames[s : s + per_window], [], tm)
                for s in starts[i : i + batch_size]
            ]
            b = collate(exs, self.vocab.bos, self.vocab.eos)
            with torch.inference_mode():
                logits = self.model.notes(b.src.to(self.device), b.target_modality.to(self.device),
                                          b.src_pad.to(self.device))
            probs = torch.sigmoid(logits.float()).cpu().numpy()
            for e, pr in zip(exs, probs):
                chunks.append(pr[:len(e.src)])
        return blend_windows(chunks, starts, len(frames), overlap)

    def note_frames(self, samples: np.ndarray) -> np.ndarray:
        """Log-mel frames of mono samples as the note head hears them: brought to the bundle's ``audio_level``
        where it names one (a quiet recording is heard at the level the thresholds were tuned at)."""
        from model.tokenizers.audio import level_mel

        level = None if self.audio_level is None else float(self.audio_level)
        return level_mel(samples, level, self.mel_config)

    def transcribe_notes(self, audio: Audio, report: Reporter, batch_size: int = 8) -> Midi:
        """Audio -> MIDI through the encoder's note head: a piano roll, then notes with a confidence each."""
        from model.inference.longaudio import SEGMENT_S, transcribe_streamed
        from model.notes import notes_to_midi, roll_to_notes

        if audio.duration > 2 * SEGMENT_S:  # read from the file in segments: memory bounded by a segment
            return transcribe_streamed(self, audio, report, batch_size)
        probs = self.note_probabilities(
            self.note_frames(audio.mono(self.mel_config.sample_rate)), report, batch_size
        )
        report(1, 1, "reading notes")
        # tuned by training.thresholds
        notes = roll_to_notes(probs, fps=int(round(self.mel_config.frames_per_second)),
                              onset_threshold=float(self.inference.get("onset_threshold", 0.5)),
                              frame_threshold=float(self.inference.get("frame_threshold", 0.4)))
        midi = Midi(notes_to_midi(notes), source=None)
        midi.note_confidence = [n[4] for n in notes]
        return midi


PASSAGE_S = 10.0          # the longest performance the model was trained to write at once (WHOLE_MAX_S)


def notation_length_cap(midi_tokens: int) -> int:
    """The most LMX tokens worth decoding for a passage of ``midi_tokens`` MIDI tokens: in training data
    (data/v3) a score never had more than 2 x its performance's tokens + 50, so a decoder that runs past
    that is repeating itself."""
    return 2 * midi_tokens + 50


def batch_label(noun: str, start: int, size: int, total: int) -> str:
    """'passage 3 of 5' for a batch of one, 'passages 1 to 3 of 5' for more."""
    return (
        f"{noun} {start + 1} of {total}" if size == 1 else f"{noun}s {start + 1} to {start + size} of {total}"
    )


def decoding_progress(report: Reporter, done: int, batch: int, total: int, message: str, every: int = 8):
    """An ``on_step`` callback for one decoded batch of ``batch`` items after ``done`` of ``total``: progress
    moves through the batch as decoding steps pass (in thousandths of an item, as the longest item may stop
    early), and a cancel is seen within ``every`` steps instead of at the end of the batch."""
    def on_step(step: int, max_len: int) -> None:
        if step % every == 0:
            report(1000 * done + (1000 * batch * step) // max(1, max_len), 1000 * total, message)
    return on_step


def measure_confidences(tokens: list[str], probs: list[float]) -> list[float]:
    """One confidence per measure of decoded LMX: the geometric mean of its tokens' probabilities."""
    from model.tokenizers.lmx import split_measures

    out, k = [], 0
    for m in split_measures(tokens) if tokens else []:
        c = probs[k:k + len(m)]
        k += len(m)
        out.append(float(np.exp(np.mean(np.log(np.clip(c, 1e-6, 1))))) if c else 0.0)
    return out


_ATTRIBUTES = ("key:", "time", "beats:", "beat-type:", "clef:", "staff:")


def performance_passages(pm, max_s: float = PASSAGE_S, min_s: float = 4.0) -> list:
    """A performance cut into PrettyMIDI passages, each starting at 0 s and lasting at most ``max_s``: a cut
    falls just before an onset between ``min_s`` and ``max_s`` into the passage where the fewest notes sound
    across it (the latest such onset on a tie). A note still sounding at the cut is cut short there;
    sustain-pedal changes go with the passage they fall in."""
    import pretty_midi

    notes = sorted((n for inst in pm.instruments if not inst.is_drum for n in inst.notes),
                   key=lambda n: (n.start, n.pitch))
    pedal = sorted((c for inst in pm.instruments if not inst.is_drum for c in inst.control_changes
                    if c.number == 64), key=lambda c: c.time)
    out, i = [], 0
    while i < len(notes):
        t0 = notes[i].start
        onsets = sorted({n.start for n in notes[i:] if t0 + min_s <= n.start <= t0 + max_s})
        if notes[-1].start <= t0 + max_s and max(n.end for n in notes[i:]) <= t0 + max_s:
            cut = float("inf")
        elif onsets:
            def crossing(c, rest=notes[i:]):
                return sum(1 for n in rest if n.start < c - 0.02 and n.end > c + 0.02)
            cut = min(onsets, key=lambda c: (crossing(c), -c))
        else:
            cut = next((n.start for n in notes[i:] if n.start > t0 + max_s), float("inf"))
        j = i
        while j < len(notes) and notes[j].start < cut:
            j += 1
        end = min(cut, t0 + max_s)
        part = pretty_midi.PrettyMIDI()
        inst = pretty_midi.Instrument(program=0, name="Piano")
        for n in notes[i:j]:
            inst.notes.append(pretty_midi.Note(n.velocity, n.pitch, n.start - t0,
                                               max(n.start - t0 + 0.01, min(n.end, end) - t0)))
        for c in pedal:
            if t0 <= c.time < end:
                inst.control_changes.append(pretty_midi.ControlChange(64, c.value, c.time - t0))
        part.instruments.append(inst)
        out.append(part)
        i = j
    return out


def join_passages(
    token_lists: list[list[str]], conf_lists: list[list[float]]
) -> tuple[list[str], list[float]]:
    """The passages' LMX measures one after another; a later passage's opening key, time and clefs are
    dropped where they only repeat the earlier ones (a notation program would print them again)."""
    tokens: list[str] = []
    conf: list[float] = []
    previous = None
    for toks, cf in zip(token_lists, conf_lists):
        if not toks:
            continue
        first = 1 if toks[0] == "measure" else 0
        n = first
        while n < len(toks) and toks[n].startswith(_ATTRIBUTES):
            n += 1
        head = toks[first:n]
        if previous is not None and head == previous and first:
            toks, cf = ["measure"] + toks[n:], cf[:1] + cf[n:]
        elif head:
            previous = head
        tokens += toks
        conf += cf
    return tokens, conf


def get_engine(folder: str | Path, device: str = "auto", report: Optional[Reporter] = None) -> Engine:
    """A cached engine per (weights folder, device): the model loads once per process, telling ``report``
    each stage of the loading (:func:`model.bundle.load_bundle`)."""
    key = (str(Path(folder).resolve()), resolve_device(device))
    with _lock:
        if key not in _cache:
            _cache[key] = Engine(folder, device, report)
        return _cache[key]


def is_loaded(folder: str | Path, device: str = "auto") -> bool:
    return (str(Path(folder).resolve()), resolve_device(device)) in _cache
