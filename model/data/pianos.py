"""Pianos to record with: every piano preset of the Debian soundfonts, detuned, and an additive piano.

Soundfont pianos (:func:`soundfont_pianos`) are read from each bank's preset headers (the ``phdr`` chunk,
no samples loaded): General MIDI programs 0-3 (grand, bright, electric grand, honky-tonk) of bank 0 and
any preset in another bank whose name says piano but not electric. On this machine (Debian 12):

=================================  =============================================  ==========
bank                               pianos                                         used for
=================================  =============================================  ==========
FluidR3_GM.sf2 (fluid-soundfont)   Yamaha Grand, Bright Yamaha Grand, Electric,   training
                                   Honky Tonk
FluidR3Mono_GM.sf3                 its mono variant, same four programs           training
TimGM6mb.sf2                       Piano 1-3, Honky Tonk                          training
sf_GMbank.sf2 (csound-soundfont)   Piano 1-3, Honky Tonk, Acou Piano 1-3          validation
MuseScore_General(_Lite).sf3       the held-out test piano (never trained on)     test
=================================  =============================================  ==========

Training also draws the :func:`additive_piano` (one timbre in five): every note a sum of inharmonic
partials f_n = n f0 sqrt(1 + B n^2) (B from 3e-5 in the bass to 3e-3 in the top octave, scaled per
instrument), one to three strings a few cents apart (beats), a hammer-position comb on the partial
amplitudes, a two-stage decay (prompt and aftersound) that is faster for high partials and high notes,
brightness and loudness rising with velocity, a felt thump, dampers on release (not while the sustain
pedal is down) and a short soundboard response. It is a caricature of a piano, not a model of one: its
purpose is that no single bank's sound is what a model learns.

Every piano is detuned by up to +-20 cents (drawn; a pitch bend for soundfonts, the oscillators for the
additive piano). :func:`play` renders mono float32 at 16 kHz with FluidSynth's own reverb and chorus
off (the room comes from :mod:`model.data.rooms`), loading each soundfont once per process.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

__all__ = ["Piano", "additive_piano", "draw_piano", "pianos", "play", "soundfont_pianos", "TRAIN_BANKS",
           "VALIDATION_BANKS", "TEST_BANKS"]

_SF2, _SF3 = "/usr/share/sounds/sf2/", "/usr/share/sounds/sf3/"
TRAIN_BANKS = (_SF2 + "FluidR3_GM.sf2", _SF3 + "FluidR3Mono_GM.sf3", _SF2 + "TimGM6mb.sf2")
VALIDATION_BANKS = (_SF2 + "sf_GMbank.sf2",)
TEST_BANKS = (_SF3 + "MuseScore_General.sf3", _SF3 + "MuseScore_General_Lite.sf3")
ADDITIVE_SHARE = 0.2
MAX_DETUNE_CENTS = 20.0
_PIANO = re.compile(r"piano|grand", re.I)
_NOT_PIANO = re.compile(r"elec|e\.\s*piano|\bep\b|rhodes|harpsi|clav", re.I)


@dataclass(frozen=True)
class Piano:
    """One instrument: a soundfont preset, or the additive piano (``path`` None) with its ``seed``."""

    name: str
    path: str | None = None
    bank: int = 0
    program: int = 0
    detune_cents: float = 0.0
    seed: int = 0


def _phdr(path: str) -> list[tuple[int, int, str]]:
    """(bank, program, name) of every preset of a .sf2/.sf3 file, from its RIFF ``pdta/phdr`` chunk (sf3 files
    leave odd chunks unpadded, so no padding is assumed)."""
    out = []
    with open(path, "rb") as f:
        if f.read(12)[:4] != b"RIFF":
            return out
        while True:
            head = f.read(8)
            if len(head) < 8:
                return out
            cid, size = head[:4], struct.unpack("<I", head[4:])[0]
            if cid != b"LIST":
                f.seek(size, 1)
                continue
            if f.read(4) != b"pdta":
                f.seek(size - 4, 1)
                continue
            end = f.tell() + size - 4
            while f.tell() < end:
                sub = f.read(8)
                sid, ssize = sub[:4], struct.unpack("<I", sub[4:])[0]
                if sid != b"phdr":
                    f.seek(ssize, 1)
                    continue
                raw = f.read(ssize)
                for k in range(0, ssize - 38, 38):             # the last record is the terminal EOP
                    name, prog, bank = struct.unpack("<20sHH", raw[k:k + 24])
                    out.append((bank, prog, name.split(b"\0")[0].decode("latin-1").strip()))
                return out
    return out


def soundfont_pianos(path: str) -> list[Piano]:
    """The acoustic-piano presets of one soundfont (empty when the file is absent)."""
    if not Path(path).is_file():
        return []
    out = []
    for bank, prog, name in sorted(_phdr(path)):
        gm_piano = bank == 0 and prog <= 3
        named = bank not in (0, 128) and _PIANO.search(name) and not _NOT_PIANO.search(name)
        if gm_piano or named:
            out.append(Piano(f"{Path(path).stem}:{bank}:{prog} {name}", str(Path(path)), bank, prog))
    return out


def pianos(split: str = "train") -> list[Piano]:
    """The soundfont pianos of a split (train, validation or test) present on this machine; for test, the
    first bank of the held-out family found."""
    banks = {"train": TRAIN_BANKS, "validation": VALIDATION_BANKS, "test": TEST_BANKS}[split]
    seen, out = set(), []
    for path in banks:
        real = Path(path).resolve() if Path(path).exists() else None
        if real is None or real in seen:
            continue
        seen.add(real)
        out += soundfont_pianos(path)
        if split == "test" and out:
            break
    return out


def draw_piano(rng: np.random.Generator, split: str = "train") -> Piano:
    """A piano of ``split``, detuned by up to +-20 cents; in training the additive piano one time in five."""
    choices = pianos(split)
    detune = float(rng.uniform(-MAX_DETUNE_CENTS, MAX_DETUNE_CENTS))
    if split == "train" and (not choices or rng.random() < ADDITIVE_SHARE):
        return Piano("additive", None, detune_cents=detune, seed=int(rng.integers(2 ** 31)))
    if not choices:
        raise FileNotFoundError(f"no {split} soundfont piano is installed")
    return replace(choices[int(rng.integers(len(choices)))], detune_cents=detune)


# -- rendering --------------------------------------------------------------------------------------
_SYNTHS: dict = {}


def _synth(path: str, sr: int):
    """A FluidSynth instance with ``path`` loaded, dry (no reverb, no chorus), kept for the process."""
    key = (str(Path(path).resolve()), sr)
    if key not in _SYNTHS:
        import fluidsynth

        synth = fluidsynth.Synth(samplerate=float(sr), gain=0.5, **{"synth.reverb.active": 0,
                                                                    "synth.chorus.active": 0})
        sfid = synth.sfload(str(path))
        if sfid == -1:
            raise OSError(f"FluidSynth cannot load {path}")
        _SYNTHS[key] = (synth, sfid)
    return _SYNTHS[key]


def _fluid(pm, piano: Piano, sr: int) -> np.ndarray:
    synth, sfid = _synth(piano.path, sr)
    synth.system_reset()
    events = []
    for ch, inst in enumerate(i for i in pm.instruments if not i.is_drum):
        ch = ch % 9
        events.append((0.0, 0, "prog", ch, 0, 0))
        events += [(float(c.time), 1, "cc", ch, int(c.number), int(c.value)) for c in inst.control_changes]
        for n in inst.notes:
            if n.end > n.start:
                events += [(float(n.start), 3, "on", ch, int(n.pitch), int(n.velocity)),
                           (float(n.end), 2, "off", ch, int(n.pitch), 0)]
    events.sort(key=lambda e: (e[0], e[1]))
    bend = int(round(piano.detune_cents / 200.0 * 8192))          # the default bend range is 2 semitones
    total = int((max((e[0] for e in events), default=0.0) + 1.5) * sr)
    chunks, done = [], 0
    for t, _, kind, ch, a, b in events:
        at = min(int(round(t * sr)), total)
        if at > done:
            chunks.append(synth.get_samples(at - done))
            done = at
        if kind == "prog":
            synth.program_select(ch, sfid, piano.bank, piano.program)
            synth.pitch_bend(ch, bend)
        elif kind == "cc":
            synth.cc(ch, a, b)
        elif kind == "off":
            synth.noteoff(ch, a)
        else:
            synth.noteon(ch, a, b)
    if total > done:
        chunks.append(synth.get_samples(total - done))
    stereo = np.concatenate(chunks).reshape(-1, 2).astype(np.float64) if chunks else np.zeros((1, 2))
    for ch in range(16):
        synth.all_notes_off(ch)
    return stereo.mean(axis=1)


def play(pm, piano: Piano, sr: int = 16000) -> np.ndarray:
    """``pm`` played by ``piano``: mono float32 at ``sr``, peak 0.89 (the level the project's synthesis
    gives), 1.5 s of release after the last event. The labels are ``pm``'s notes as they are."""
    y = additive_piano(pm, np.random.default_rng(piano.seed), sr, piano.detune_cents) if piano.path is None \
        else _fluid(pm, piano, sr)
    peak = float(np.abs(y).max()) if y.size else 0.0
    return (y * (0.89 / peak) if peak > 0 else y).astype(np.float32)


def _pedal_up_times(inst) -> tuple[np.ndarray, np.ndarray]:
    """(down, up) times of the sustain pedal (CC64 >= 64)."""
    downs, ups, down = [], [], None
    for c in sorted((c for c in inst.control_changes if c.number == 64), key=lambda c: c.time):
        if c.value >= 64 and down is None:
            down = c.time
        elif c.value < 64 and down is not None:
            downs.append(down)
            ups.append(c.time)
            down = None
    if down is not None:
        downs.append(down)
        ups.append(np.inf)
    return np.asarray(downs, dtype=np.float64), np.asarray(ups, dtype=np.float64)


def _damper_time(end: float, downs: np.ndarray, ups: np.ndarray) -> float:
    held = np.nonzero((downs <= end) & (ups > end))[0]
    return float(ups[held[0]]) if held.size else end


def additive_piano(pm, rng: np.random.Generator, sr: int = 16000, detune_cents: float = 0.0) -> np.ndarray:
    """``pm`` played by an additive piano drawn from ``rng`` (see the module's docstring); float64 mono."""
    from scipy.signal import fftconvolve

    end = max((n.end for i in pm.instruments for n in i.notes), default=0.0)
    out = np.zeros(int((end + 1.5) * sr) + 1)
    inst_rng = {"b0": rng.uniform(1.5e-4, 4.5e-4), "x0": rng.uniform(1 / 9, 1 / 7),
                "decay": rng.uniform(0.6, 1.6), "tilt": rng.uniform(0.8, 1.4),
                "damp": rng.uniform(0.04, 0.15),
                "thump": rng.uniform(0.01, 0.05)}
    tune = 2.0 ** (detune_cents / 1200.0)
    for inst in pm.instruments:
        if inst.is_drum:
            continue
        downs, ups = _pedal_up_times(inst)
        for n in inst.notes:
            off = _damper_time(float(n.end), downs, ups) if n.pitch < 89 else np.inf   # no dampers at the top
            _add_note(out, n.pitch, n.velocity, float(n.start), off, sr, rng, inst_rng, tune)
    body_n = int(rng.uniform(0.02, 0.04) * sr)
    body = rng.standard_normal(body_n) * np.exp(-np.arange(body_n) / (0.006 * sr))
    body[0] = 1.0 / rng.uniform(0.1, 0.3)                    # mostly the strings, some board
    return fftconvolve(out, body / np.abs(body).sum() * 4.0)[:out.size]


def _add_note(out: np.ndarray, pitch: int, vel: int, start: float, off: float, sr: int,
              rng: np.random.Generator, p: dict, tune: float) -> None:
    """One struck note added into ``out`` (see :func:`additive_piano`)."""
    f0 = 440.0 * 2.0 ** ((pitch - 69) / 12.0) * tune
    v = max(vel, 1) / 127.0
    b = p["b0"] * np.exp((pitch - 60) * 0.05)
    n = np.arange(1, 33)
    fn = n * f0 * np.sqrt(1.0 + b * n ** 2)
    keep = fn < 0.45 * sr
    n, fn = n[keep], fn[keep]
    if n.size == 0:
        return
    n, fn = n[:24], fn[:24]
    t1 = p["decay"] * 2.5 * 2.0 ** (-(pitch - 21) / 20.0) / (1.0 + 0.15 * (n - 1))   # prompt decay (s)
    t2 = 5.0 * t1                                                                   # aftersound
    amp = n ** -(p["tilt"] * (1.9 - 0.9 * v)) * np.abs(np.sin(np.pi * n * p["x0"])) + 0.02
    dur = min(off - start + 5.0 * p["damp"], 6.0 * float(t1[0]) + 0.2, 8.0)
    i0 = int(round(start * sr))
    length = min(int(dur * sr), out.size - i0)
    if length <= 0:
        return
    t = np.arange(length) / sr
    strings = 1 if pitch < 35 else (2 if pitch < 50 else 3)
    cents = rng.uniform(-1.5, 1.5, size=strings)
    env = 0.7 * np.exp(-t[None, :] / t1[:, None]) + 0.3 * np.exp(-t[None, :] / t2[:, None])
    tone = np.zeros(length)
    for c in cents:
        phase0 = rng.uniform(0, 2 * np.pi, size=(n.size, 1))
        phase = 2.0 * np.pi * np.outer(fn * 2.0 ** (c / 1200.0), t) + phase0
        tone += np.sum(amp[:, None] * env * np.sin(phase), axis=0)
    tone /= strings * amp.sum()
    if off - start < dur:                                   # dampers
        k = max(int((off - start) * sr), 0)
        tone[k:] *= np.exp(-np.arange(length - k) / (p["damp"] * sr))
    thump_n = min(length, int(0.03 * sr))
    thump = rng.standard_normal(thump_n) * np.exp(-np.arange(thump_n) / (0.004 * sr))
    tone[:thump_n] += p["thump"] * v * thump
    out[i0:i0 + length] += tone * v ** 1.6
