"""MIDI <-> MT3-style event tokens (U-MusT paper section 2.3), with velocity bins and sustain pedal.

A window of ``max_shift_steps`` steps (10 ms each by default, so 10 s) is written as::

    window := tie_section "tie" body
    tie_section := (["program:P"] ["velocity:V"] "pitch:N")*     # notes sounding at the window start
    body := (["time:T"] (["program:P"] (["velocity:V"] "pitch:N" | "pedal:on|off")))*

* ``time:T`` is the absolute step inside the window (0..max_shift_steps), written only when it
  changes (it starts at 0); the offset of a note that ends exactly at the window end is in the
  window, its onset would be in the next one.
* ``program:P`` (0..127, ``program:drums``) and ``velocity:V`` are states, written only when they
  change: ``velocity:0`` turns the following ``pitch`` tokens into note-offs, ``velocity:1..B``
  (``B = velocity_bins``) into note-ons. The paper drops velocity; we keep it in bins.
* ``pedal:on|off`` is the sustain pedal (CC64 >= 64) of the current program; a pedal held from
  before the window is restated as ``pedal:on`` at step 0.
* Within a step: note-offs, then pedal changes, then note-ons (sorted by program, velocity, pitch).
* EOS, PAD, BOS and SEP are not local tokens: the unified vocabulary (:mod:`model.vocab`) adds them.

Decoding is forgiving: any sequence of valid ids gives a PrettyMIDI (time never goes back,
note-offs without a note-on are ignored, notes still open are closed at the window end, pitches
before any velocity token use a middle velocity). Ids outside the vocabulary and unknown token
strings raise :class:`~model.tokenizers.base.TokenizationError` naming the position.

The codec follows MT3's ``event_codec`` design (named :class:`EventRange` blocks,
``encode_event`` / ``decode_event_index`` / ``event_type_range``) and the tokenizer MidiTok's API
shape (``encode`` / ``decode`` / ``encode_windows``); the code is our own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from model.tokenizers.base import TokenizationError, Tokenizer, TokenSequence

MAX_TICK = 10**9  # pretty_midi's default (1e7) rejects long files written by music21 at 10080 ticks/quarter
DRUMS = 128  # program value standing for the drum kit
WINDOW_INFO = "unimt_window"  # attribute set on decoded windows: which notes are tied / left open


# -- codec ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventRange:
    """A named block of consecutive event values ``min_value..max_value`` (inclusive)."""

    type: str
    min_value: int
    max_value: int


@dataclass(frozen=True)
class Event:
    """One event: its type (an :class:`EventRange` name) and value."""

    type: str
    value: int


class Codec:
    """Events <-> ids, the blocks laid out one after the other in the given order."""

    def __init__(self, ranges: list[EventRange]):
        self.ranges = tuple(ranges)
        self._start: dict[str, int] = {}
        self._by_type: dict[str, EventRange] = {}
        n = 0
        for r in ranges:
            if r.type in self._by_type:
                raise ValueError(f"event type {r.type!r} given twice")
            if r.max_value < r.min_value:
                raise ValueError(f"event range {r.type!r} is empty")
            self._start[r.type], self._by_type[r.type] = n, r
            n += r.max_value - r.min_value + 1
        self.num_classes = n

    def _range(self, event_type: str) -> EventRange:
        if event_type not in self._by_type:
            raise ValueError(f"unknown event type {event_type!r}")
        return self._by_type[event_type]

    def encode_event(self, event: Event) -> int:
        """Id of an event; ValueError for an unknown type or a value out of its range."""
        r = self._range(event.type)
        if not r.min_value <= event.value <= r.max_value:
            raise ValueError(f"{event.type} value {event.value} is outside {r.min_value}..{r.max_value}")
        return self._start[event.type] + event.value - r.min_value

    def event_type_range(self, event_type: str) -> tuple[int, int]:
        """First and last id (inclusive, as in MT3) of an event type."""
        r = self._range(event_type)
        start = self._start[event_type]
        return start, start + r.max_value - r.min_value

    def has_type(self, event_type: str) -> bool:
        return event_type in self._by_type

    def decode_event_index(self, index: int) -> Event:
        """Event of an id; ValueError for an id outside ``0..num_classes-1``."""
        if not 0 <= index < self.num_classes:
            raise ValueError(f"id {index} is outside 0..{self.num_classes - 1}")
        for r in self.ranges:
            start = self._start[r.type]
            if index <= start + r.max_value - r.min_value:
                return Event(r.type, r.min_value + index - start)
        raise AssertionError("unreachable")


# -- configuration and notes ------------------------------------------------------------------------
@dataclass
class MidiTokenizerConfig:
    """MIDI tokenizer settings (saved as JSON with a checkpoint).

    Attributes:
        steps_per_second: time resolution (100 = 10 ms, as in MT3 and the paper).
        max_shift_steps: window length in steps; time tokens run 0..max_shift_steps (1000 = 10 s).
        velocity_bins: number of note-on velocity bins (velocity 0 is the note-off).
        use_programs: program tokens (0..127 and drums); off: every note becomes program 0.
        use_pedal: sustain pedal tokens; off: the pedal is dropped.
        vocab_version: version of the token layout.
    """

    steps_per_second: int = 100
    max_shift_steps: int = 1000
    velocity_bins: int = 16
    use_programs: bool = True
    use_pedal: bool = True
    vocab_version: int = 1

    def __post_init__(self) -> None:
        for name in ("steps_per_second", "max_shift_steps", "velocity_bins"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.velocity_bins > 127:
            raise ValueError("velocity_bins must be at most 127")

    @property
    def window_s(self) -> float:
        return self.max_shift_steps / self.steps_per_second


class MidiNote(NamedTuple):
    """A note in seconds; ``program`` 128 is the drum kit."""

    pitch: int
    start: float
    end: float
    velocity: int = 100
    program: int = 0


class QNote(NamedTuple):
    """A note quantised to steps, as the tokens see it (``vbin`` 1..velocity_bins)."""

    program: int
    pitch: int
    on: int
    off: int
    vbin: int


def load_midi(source: Any):
    """A PrettyMIDI from a PrettyMIDI, a :class:`model.io.types.Midi`, or a path."""
    import pretty_midi

    if isinstance(source, pretty_midi.PrettyMIDI):
        return source
    if isinstance(getattr(source, "pm", None), pretty_midi.PrettyMIDI):
        return source.pm
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise TokenizationError(f"no such MIDI file: {path}")
        pretty_midi.pretty_midi.MAX_TICK = max(pretty_midi.pretty_midi.MAX_TICK, MAX_TICK)
        try:
            return pretty_midi.PrettyMIDI(str(path))
        except Exception as exc:  # mido and pretty_midi raise many kinds
            raise TokenizationError(f"cannot read the MIDI {path} ({type(exc).__name__}: {exc})") from None
    raise TokenizationError(
        f"cannot encode {type(source).__name__}: give a PrettyMIDI, a path or a list of notes"
    )


class MidiTokenizer(Tokenizer):
    """MIDI (PrettyMIDI, path, or list of notes) <-> MT3-style event ids, one window at a time."""

    modality = "midi"

    def __init__(self, config: MidiTokenizerConfig | None = None):
        super().__init__(config)
        c = self.config
        ranges = [EventRange("time", 0, c.max_shift_steps), EventRange("pitch", 0, 127),
                  EventRange("velocity", 0, c.velocity_bins), EventRange("tie", 0, 0)]
        if c.use_programs:
            ranges.append(EventRange("program", 0, DRUMS))
        if c.use_pedal:
            ranges.append(EventRange("pedal", 0, 1))
        self.codec = Codec(ranges)
        self._vocab = [self._name(self.codec.decode_event_index(i)) for i in range(self.codec.num_classes)]
        self._index = {t: i for i, t in enumerate(self._vocab)}

    @classmethod
    def default_config(cls) -> MidiTokenizerConfig:
        return MidiTokenizerConfig()

    @property
    def vocab(self) -> list[str]:
        return self._vocab

    @staticmethod
    def _name(ev: Event) -> str:
        if ev.type == "tie":
            return "tie"
        if ev.type == "program" and ev.value == DRUMS:
            return "program:drums"
        if ev.type == "pedal":
            return "pedal:on" if ev.value else "pedal:off"
        return f"{ev.type}:{ev.value}"

    # -- velocity bins ------------------------------------------------------------------------------
    def velocity_to_bin(self, velocity: int) -> int:
        """Bin 1..velocity_bins of a MIDI velocity 1..127 (ceil(v * B / 127), as in MT3)."""
        b = self.config.velocity_bins
        return min(b, max(1, math.ceil(int(velocity) * b / 127)))

    def bin_to_velocity(self, vbin: int) -> int:
        """The middle MIDI velocity of a bin."""
        b = self.config.velocity_bins
        return min(127, max(1, round((vbin - 0.5) * 127 / b)))

    # -- quantisation -------------------------------------------------------------------------------
    def quantise(self, source: Any) -> tuple[list[QNote], dict[int, list[tuple[int, bool]]]]:
        """Notes and sustain-pedal changes of a source, on the step grid, as the tokens keep them.

        Onsets and offsets are rounded to the nearest step (a note keeps at least one step);
        instruments of one program are merged; the pedal of each program is folded to its
        changes (last value within a step wins, repeats dropped, starting from off).

        Returns:
            (notes sorted by onset, {program: [(step, pedal_down), ...]}).
        """
        c = self.config
        sps = c.steps_per_second
        raw_pedal: dict[int, list[tuple[float, bool]]] = {}
        if isinstance(source, (list, tuple)):
            notes = [self._as_note(n) for n in source]
        else:
            pm = load_midi(source)
            notes = []
            for inst in pm.instruments:
                prog = DRUMS if inst.is_drum else int(inst.program)
                notes += [MidiNote(n.pitch, n.start, n.end, n.velocity, prog) for n in inst.notes]
                if c.use_pedal:
                    raw_pedal.setdefault(prog if c.use_programs else 0, []).extend(
                        (cc.time, cc.value >= 64) for cc in inst.control_changes if cc.number == 64)
        out = []
        for n in notes:
            if not 0 <= n.pitch <= 127:
                raise TokenizationError(f"pitch {n.pitch} is outside 0..127")
            on = max(0, round(n.start * sps))
            off = max(on + 1, round(n.end * sps))
            prog = (n.program if 0 <= n.program <= DRUMS else 0) if c.use_programs else 0
            out.append(QNote(prog, int(n.pitch), on, off, self.velocity_to_bin(n.velocity)))
        out = self._one_key_one_note(out)
        out.sort(key=lambda q: (q.on, q.program, q.pitch, q.off, q.vbin))
        pedals = {}
        for prog, evs in raw_pedal.items():
            last: dict[int, bool] = {}
            for t, down in sorted(evs, key=lambda e: e[0]):
                last[max(0, round(t * sps))] = down
            folded, state = [], False
            for step in sorted(last):
                if last[step] != state:
                    state = last[step]
                    folded.append((step, state))
            if folded:
                pedals[prog] = folded
        return out, pedals

    @staticmethod
    def _one_key_one_note(notes: list[QNote]) -> list[QNote]:
        """A key sounds one note at a time, as on a piano: a note struck again ends the one before.

        Notes of one program and pitch starting on the same step become one (the longer, the louder);
        a note still sounding when its key is struck again ends there. MIDI files cannot tell
        overlapping notes of one key apart either, so this is the form the tokens keep exactly.
        """
        by_key: dict[tuple[int, int], list[QNote]] = {}
        for q in notes:
            by_key.setdefault((q.program, q.pitch), []).append(q)
        out = []
        for group in by_key.values():
            group.sort(key=lambda q: (q.on, -q.off))
            merged: list[QNote] = []
            for q in group:
                if merged and merged[-1].on == q.on:
                    m = merged[-1]
                    merged[-1] = m._replace(off=max(m.off, q.off), vbin=max(m.vbin, q.vbin))
                    continue
                if merged and merged[-1].off > q.on:
                    merged[-1] = merged[-1]._replace(off=q.on)
                merged.append(q)
            out += merged
        return out

    @staticmethod
    def _as_note(n: Any) -> MidiNote:
        if isinstance(n, MidiNote):
            return n
        if all(hasattr(n, a) for a in ("pitch", "start", "end", "velocity")):  # pretty_midi.Note
            return MidiNote(
                int(n.pitch), float(n.start), float(n.end), int(n.velocity), int(getattr(n, "program", 0))
            )
        try:
            return MidiNote(*n)
        except TypeError:
            raise TokenizationError(
                f"not a note: {n!r} (give MidiNote(pitch, start, end, velocity, program))"
            ) from None

    # -- encoding -----------------------------------------------------------------------------------
    def _event_id(self, kind: str, value: int) -> int:
        return self.codec.encode_event(Event(kind, value))

    def _encode_window(self, notes: list[QNote], pedals: dict[int, list[tuple[int, bool]]],
                       start: int, length: int) -> TokenSequence:
        end = start + length
        tie = sorted((n.program, n.vbin, n.pitch) for n in notes if n.on < start < n.off)
        body = []  # (step, order, program, vbin, value): offs 0, pedal 1, ons 2
        for n in notes:
            if start <= n.on < end:
                body.append((n.on - start, 2, n.program, n.vbin, n.pitch))
            if start < n.off <= end:
                body.append((n.off - start, 0, n.program, 0, n.pitch))
        for prog, evs in pedals.items():
            state = False
            for step, down in evs:
                if step <= start:
                    state = down
                elif step < end:
                    body.append((step - start, 1, prog, 0, int(down)))
            if state:
                body.append((0, 1, prog, 0, 1))
        body.sort()
        ids: list[int] = []
        prog, vel, time = 0, -1, 0
        for p, vb, pitch in tie:
            if p != prog:
                ids.append(self._event_id("program", p))
                prog = p
            if vb != vel:
                ids.append(self._event_id("velocity", vb))
                vel = vb
            ids.append(self._event_id("pitch", pitch))
        ids.append(self._event_id("tie", 0))
        for step, order, p, vb, value in body:
            if step != time:
                ids.append(self._event_id("time", step))
                time = step
            if p != prog:
                ids.append(self._event_id("program", p))
                prog = p
            if order == 1:
                ids.append(self._event_id("pedal", value))
                continue
            if vb != vel:
                ids.append(self._event_id("velocity", vb))
                vel = vb
            ids.append(self._event_id("pitch", value))
        return TokenSequence(ids=ids, tokens=[self._vocab[i] for i in ids])

    def _encode(self, obj: Any) -> TokenSequence:
        """One window from time 0; TokenizationError if the MIDI is longer than the window."""
        notes, pedals = self.quantise(obj)
        length = self.config.max_shift_steps
        last = max([n.off for n in notes] + [s + 1 for evs in pedals.values() for s, _ in evs] + [0])
        if last > length:
            raise TokenizationError(
                f"the MIDI lasts {last / self.config.steps_per_second:g} s, longer than the "
                f"{self.config.window_s:g} s window; use encode_windows"
            )
        return self._encode_window(notes, pedals, 0, length)

    def _steps(self, window_s: float | None, hop_s: float | None) -> tuple[int, int]:
        c = self.config
        length = c.max_shift_steps if window_s is None else round(window_s * c.steps_per_second)
        if not 1 <= length <= c.max_shift_steps:
            raise ValueError(f"window of {window_s} s: must be above 0 and at most {c.window_s:g} s")
        hop = length if hop_s is None else round(hop_s * c.steps_per_second)
        if not 1 <= hop <= length:
            raise ValueError(f"hop of {hop_s} s: must be above 0 and at most the window ({window_s} s)")
        return length, hop

    def encode_windows(self, midi: Any, window_s: float | None = None,
                       hop_s: float | None = None) -> list[TokenSequence]:
        """Cut a MIDI into windows of ``window_s`` seconds every ``hop_s`` (default: no overlap).

        Notes sounding at a window start are listed in its tie section; the windows run until
        every note has ended (at least one window, even for an empty MIDI).
        """
        length, hop = self._steps(window_s, hop_s)
        notes, pedals = self.quantise(midi)
        last_off = max([n.off for n in notes] + [0])
        last_pedal = max([s for evs in pedals.values() for s, _ in evs] + [-1])
        count = 1
        while (count - 1) * hop + length < last_off or (count - 1) * hop + length <= last_pedal:
            count += 1
        return [self._encode_window(notes, pedals, k * hop, length) for k in range(count)]

    # -- decoding -----------------------------------------------------------------------------------
    def _events(self, ids: list[int]) -> list[Event]:
        out = []
        for pos, i in enumerate(ids):
            try:
                out.append(self.codec.decode_event_index(int(i)))
            except (ValueError, TypeError) as exc:
                raise TokenizationError(
                    f"position {pos}: {exc} (MIDI vocabulary of {self.vocab_size})"
                ) from None
        return out

    def decode_window(self, ids: list[int], window_s: float | None = None):
        """PrettyMIDI of one window; notes still open are closed at ``window_s`` (default: the config's).

        The result carries ``unimt_window`` = {"tied": [(instrument, note)], "open": [...]}, the
        notes continued from before the window and those closed at its end, for :meth:`stitch`.
        """
        import pretty_midi

        c = self.config
        length = self._steps(window_s, None)[0]
        events = self._events(list(ids))
        tie_at = next((i for i, e in enumerate(events) if e.type == "tie"), -1)
        if any(e.type not in ("program", "velocity", "pitch") for e in events[:max(tie_at, 0)]):
            tie_at = -1
        default_vel = self.velocity_to_bin(64)
        prog, vel, time = 0, None, 0
        open_: dict[tuple[int, int], list[list]] = {}
        done = []  # [program, pitch, on, off, vbin, tied, left_open]
        pedal: dict[int, list[tuple[int, bool]]] = {}
        for i, ev in enumerate(events):
            if ev.type == "time":
                time = time if i < tie_at else max(time, ev.value)
            elif ev.type == "program":
                prog = ev.value
            elif ev.type == "velocity":
                vel = ev.value
            elif ev.type == "pedal":
                evs = pedal.setdefault(prog, [])
                if bool(ev.value) != (evs[-1][1] if evs else False):
                    evs.append((time, bool(ev.value)))
            elif ev.type == "pitch":
                key = (prog, ev.value)
                if vel == 0:
                    if i > tie_at and open_.get(key):
                        note = open_[key].pop(0)
                        done.append(
                            [prog, ev.value, note[0], max(time, note[0] + 1), note[1], note[2], False]
                        )
                elif i < tie_at:
                    open_.setdefault(key, []).append([0, vel or default_vel, True])
                else:
                    open_.setdefault(key, []).append([time, vel or default_vel, False])
        for (p, pitch), notes in open_.items():
            done += [[p, pitch, n[0], max(length, n[0] + 1), n[1], n[2], True] for n in notes]
        pm = pretty_midi.PrettyMIDI()
        sps = c.steps_per_second
        info: dict[str, list[tuple[int, int]]] = {"tied": [], "open": []}
        for k, p in enumerate(sorted({d[0] for d in done} | set(pedal))):
            inst = pretty_midi.Instrument(program=0 if p == DRUMS else p, is_drum=p == DRUMS,
                                          name="Drums" if p == DRUMS else "")
            for j, d in enumerate(sorted((d for d in done if d[0] == p), key=lambda d: (d[2], d[1], d[3]))):
                inst.notes.append(pretty_midi.Note(self.bin_to_velocity(d[4]), d[1], d[2] / sps, d[3] / sps))
                if d[5]:
                    info["tied"].append((k, j))
                if d[6]:
                    info["open"].append((k, j))
            inst.control_changes = [pretty_midi.ControlChange(64, 127 if down else 0, t / sps)
                                    for t, down in pedal.get(p, [])]
            pm.instruments.append(inst)
        setattr(pm, WINDOW_INFO, info)
        return pm

    def _decode(self, ids: list[int]):
        return self.decode_window(ids)

    def decode_tokens(self, tokens: list[str]):
        """PrettyMIDI of one window given as token strings."""
        return self.decode_window(self.tokens_to_ids(tokens))

    def tokens_to_ids(self, tokens: list[str]) -> list[int]:
        """Ids of token strings; TokenizationError naming the first unknown token's position."""
        out = []
        for pos, t in enumerate(tokens):
            if t not in self._index:
                raise TokenizationError(f"position {pos}: unknown MIDI token {t!r}")
            out.append(self._index[t])
        return out

    def stitch(self, windows: list, window_s: float | None = None, hop_s: float | None = None):
        """Join decoded windows (from :meth:`encode_windows`' layout) into one PrettyMIDI.

        Each window owns the onsets in its first ``hop_s`` seconds (the last window all of its
        own); a note left open at a window end is extended by its tied copy in the next window.
        Windows without the ``unimt_window`` record (decoded elsewhere) are read with a rule:
        a note at step 0 continues a note of the same program and pitch that ended at the
        window start, a note reaching the window end is open.
        """
        length, hop = self._steps(window_s, hop_s)
        return _stitch(windows, length, hop, self.config.steps_per_second)


def _window_entries(pm, length: int, sps: int, pending: dict) -> tuple[list[tuple], dict[int, list]]:
    """(notes as (program, pitch, on, off, velocity, tied, left_open), {program: [(step, down)]})."""
    info = getattr(pm, WINDOW_INFO, None)
    tied_set = set(map(tuple, info["tied"])) if info else set()
    open_set = set(map(tuple, info["open"])) if info else set()
    entries, pedal = [], {}
    for a, inst in enumerate(pm.instruments):
        p = DRUMS if inst.is_drum else int(inst.program)
        for b, n in enumerate(inst.notes):
            on, off = round(n.start * sps), round(n.end * sps)
            if info is not None:
                tied, left_open = (a, b) in tied_set, (a, b) in open_set
            else:
                tied, left_open = on == 0 and bool(pending.get((p, n.pitch))), off >= length
            entries.append((p, int(n.pitch), on, off, int(n.velocity), tied, left_open))
        ccs = [(round(cc.time * sps), cc.value >= 64) for cc in inst.control_changes if cc.number == 64]
        if ccs:
            pedal.setdefault(p, []).extend(sorted(ccs, key=lambda e: e[0]))
    return entries, pedal


def _stitch(windows: list, length: int, hop: int, sps: int):
    """Join decoded windows starting every ``hop`` steps (see :meth:`MidiTokenizer.stitch`)."""
    import pretty_midi

    notes: list[list] = []  # [program, pitch, on, off, velocity]
    by_key: dict[tuple[int, int], list[int]] = {}
    pending: dict[tuple[int, int], list[int]] = {}  # notes left open at the previous window end
    pedal_windows = []
    for k, pm in enumerate(windows):
        o, last = k * hop, k == len(windows) - 1
        entries, pedal = _window_entries(pm, length, sps, pending)
        pedal_windows.append((o, last, pedal))
        new_pending: dict[tuple[int, int], list[int]] = {}

        def add(e, start, o=o, new_pending=new_pending):
            notes.append([e[0], e[1], start, o + e[3], e[4]])
            by_key.setdefault((e[0], e[1]), []).append(len(notes) - 1)
            if e[6]:
                new_pending.setdefault((e[0], e[1]), []).append(len(notes) - 1)

        tied = sorted((e for e in entries if e[5]), key=lambda e: (e[0], e[1], e[3]))
        for key in dict.fromkeys((e[0], e[1]) for e in tied):
            cands = pending.pop(key, [])
            known = [
                notes[i][3] for i in by_key.get(key, []) if i not in cands and notes[i][2] < o < notes[i][3]
            ]
            for e in (e for e in tied if (e[0], e[1]) == key):
                if not e[6] and o + e[3] in known:
                    known.remove(o + e[3])  # overlapping windows: already complete
                elif cands:
                    i = cands.pop(0)
                    notes[i][3] = o + e[3]
                    if e[6]:
                        new_pending.setdefault(key, []).append(i)
                else:
                    add(e, o)  # a tie with nothing to continue: start it here
            pending[key] = cands
        for idxs in pending.values():  # open notes the window did not continue end at the old window end
            for i in idxs:
                notes[i][3] = min(notes[i][3], o - hop + length)
        for e in entries:
            if not e[5] and (last or e[2] < hop):
                add(e, o + e[2])
        pending = new_pending
    programs = sorted({n[0] for n in notes} | {p for _, _, ped in pedal_windows for p in ped})
    pm = pretty_midi.PrettyMIDI()
    for p in programs:
        inst = pretty_midi.Instrument(program=0 if p == DRUMS else p, is_drum=p == DRUMS,
                                      name="Drums" if p == DRUMS else "")
        for n in sorted((n for n in notes if n[0] == p), key=lambda n: (n[2], n[1], n[3])):
            inst.notes.append(pretty_midi.Note(n[4], n[1], n[2] / sps, n[3] / sps))
        changes: dict[int, bool] = {}
        for o, last, ped in pedal_windows:
            evs = ped.get(p, [])
            changes[o] = next((d for s, d in reversed(evs) if s <= 0), False)
            changes.update((o + s, d) for s, d in evs if s > 0 and (last or s < hop))
        state = False
        for step in sorted(changes):
            if changes[step] != state:
                state = changes[step]
                inst.control_changes.append(pretty_midi.ControlChange(64, 127 if state else 0, step / sps))
        pm.instruments.append(inst)
    return pm
