"""The LMX vocabulary: token groups, their fixed order, and small shared helpers.

The order of :data:`VOCAB` is part of the checkpoint format: only append to it. The groups are
documented in :mod:`model.tokenizers.lmx`.
"""

from __future__ import annotations

from fractions import Fraction

PAD = "<pad>"

#: note/rest duration types, shortest first, with their length in quarter notes
DURATION_TYPES: dict[str, Fraction] = {
    "1024th": Fraction(1, 256), "512th": Fraction(1, 128), "256th": Fraction(1, 64),
    "128th": Fraction(1, 32), "64th": Fraction(1, 16), "32nd": Fraction(1, 8), "16th": Fraction(1, 4),
    "eighth": Fraction(1, 2), "quarter": Fraction(1), "half": Fraction(2), "whole": Fraction(4),
    "breve": Fraction(8), "long": Fraction(16), "maxima": Fraction(32),
}
#: number of beams (flags) per type
BEAM_LEVELS = {"eighth": 1, "16th": 2, "32nd": 3, "64th": 4, "128th": 5, "256th": 6, "512th": 7, "1024th": 8}

MAX_TUPLET = 16
#: time-modification ratios "AinN" (A notes in the time of N), unreduced, A in 2..16, N in 1..16,
#: N/2 <= A <= 2N (duplets 2in3 ... triplets 3in2 ... 15in8 nested ones; no 13in2 nonsense)
TUPLET_RATIOS = [f"{a}in{n}" for a in range(2, MAX_TUPLET + 1) for n in range(1, MAX_TUPLET + 1)
                 if a != n and n <= 2 * a and a <= 2 * n]

STEPS = "CDEFGAB"
PITCHES = [f"{s}{o}" for o in range(10) for s in STEPS]
PITCH_SET = frozenset(PITCHES)

#: accidental token -> alter in semitones
ACCIDENTALS = {"sharp": 1, "flat": -1, "natural": 0, "double-sharp": 2, "flat-flat": -2,
               "natural-sharp": 1, "natural-flat": -1, "sharp-sharp": 2}
ALTER_TO_ACCIDENTAL = {1: "sharp", -1: "flat", 0: "natural", 2: "double-sharp", -2: "flat-flat"}

#: clef token -> (sign, line, octave change)
CLEFS = {
    "clef:G2": ("G", "2", 0),
    "clef:F4": ("F", "4", 0),
    "clef:C1": ("C", "1", 0),
    "clef:C2": ("C", "2", 0),
    "clef:C3": ("C", "3", 0),
    "clef:C4": ("C", "4", 0),
    "clef:C5": ("C", "5", 0),
    "clef:F3": ("F", "3", 0),
    "clef:F5": ("F", "5", 0),
    "clef:G1": ("G", "1", 0),
    "clef:G2-8": ("G", "2", -1),
    "clef:G2+8": ("G", "2", 1),
    "clef:G2+15": ("G", "2", 2),
    "clef:G2-15": ("G", "2", -2),
    "clef:F4-8": ("F", "4", -1),
    "clef:F4+8": ("F", "4", 1),
    "clef:percussion": ("percussion", "2", 0),
    "clef:TAB": ("TAB", "5", 0),
}
CLEF_LOOKUP = {v: k for k, v in CLEFS.items()}

BEATS = [f"beats:{i}" for i in range(1, 33)]
BEAT_TYPES = [f"beat-type:{i}" for i in (1, 2, 4, 8, 16, 32, 64)]
KEYS = [f"key:fifths:{i}" for i in range(-7, 8)]
VOICES = [f"voice:{i}" for i in range(1, 17)]
STAVES = [f"staff:{i}" for i in range(1, 5)]

ARTICULATIONS = ["staccato", "accent", "strong-accent", "tenuto", "staccatissimo", "detached-legato",
                 "spiccato"]
ORNAMENTS = ["trill-mark", "mordent", "inverted-mordent", "turn", "inverted-turn"]
TREMOLOS = ["tremolo:single", "tremolo:start", "tremolo:stop", "tremolo:unmeasured"]
TREMOLO_MARKS = [f"tremolo-marks:{i}" for i in range(1, 5)]

DYNAMICS = ["pppp", "ppp", "pp", "p", "mp", "mf", "f", "ff", "fff", "ffff", "sf", "sfz", "sffz", "sfp",
            "sfpp", "fp", "fz", "rf", "rfz", "pf", "n"]
#: metronome marks (quarter-note-relative values are not implied: the beat unit is its own token)
BPM_BINS = [20, 24, 30, 35, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 63, 66, 69, 72, 76, 80, 84, 88, 92,
            96, 100, 104, 108, 112, 116, 120, 126, 132, 138, 144, 152, 160, 168, 176, 184, 192, 200, 208,
            220, 240, 260, 280, 300]
BAR_STYLES = ["light-light", "light-heavy", "heavy-light", "heavy-heavy", "dashed", "dotted", "none",
              "regular", "heavy", "tick", "short"]


def _build_vocab() -> list[str]:
    v = [PAD, "measure", "part"]
    # attributes
    v += ["time"] + BEATS + BEAT_TYPES + ["time:common", "time:cut"]
    v += KEYS
    v += list(CLEFS)
    # note skeleton
    v += ["print-object:no", "grace", "grace:slash", "chord", "rest", "rest:measure"]
    v += PITCHES
    v += VOICES
    v += list(DURATION_TYPES)
    v += TUPLET_RATIOS
    v += ["dot"]
    v += list(ACCIDENTALS)
    v += ["stem:up", "stem:down", "stem:none"]
    v += STAVES
    v += ["beam:begin", "beam:continue", "beam:end", "beam:forward-hook", "beam:backward-hook"]
    v += ["tied:start", "tied:stop", "tuplet:start", "tuplet:stop", "slur:start", "slur:stop"]
    v += ["fermata", "arpeggiate"] + ARTICULATIONS + ORNAMENTS + TREMOLOS + TREMOLO_MARKS
    v += ["backup", "forward"]
    # extensions: directions and barlines
    v += [f"dynamics:{d}" for d in DYNAMICS]
    v += ["wedge:crescendo", "wedge:diminuendo", "wedge:stop"]
    v += ["metronome"] + [f"bpm:{b}" for b in BPM_BINS]
    v += ["pedal:start", "pedal:stop"]
    v += ["repeat:forward", "repeat:backward"]
    v += ["ending:1", "ending:2", "ending:3", "ending:4", "ending:start", "ending:stop", "ending:discontinue"]
    v += [f"barline:{s}" for s in BAR_STYLES]
    return v


VOCAB: list[str] = _build_vocab()
TOKEN_SET = frozenset(VOCAB)
assert len(VOCAB) == len(TOKEN_SET), "duplicate LMX tokens"


def nearest_bpm(bpm: float) -> int:
    """Return the metronome bin closest to ``bpm`` (ratio distance)."""
    return min(BPM_BINS, key=lambda b: abs(b - bpm) / b)


def ratio_token(actual: int, normal: int) -> str | None:
    """Return the tuplet ratio token for ``actual`` notes in the time of ``normal`` (None if 1:1)."""
    if actual == normal or actual <= 0 or normal <= 0:
        return None
    tok = f"{actual}in{normal}"
    if tok in TOKEN_SET:
        return tok
    f = Fraction(actual, normal)  # reduce, then scale into range
    a, n = f.numerator, f.denominator
    tok = f"{a}in{n}"
    return tok if tok in TOKEN_SET else None


def parse_ratio(token: str) -> tuple[int, int]:
    """``"3in2"`` -> ``(3, 2)``."""
    a, n = token.split("in")
    return int(a), int(n)


def decompose_duration(q: Fraction) -> list[str]:
    """Express a duration (in quarters) as a list of duration tokens that add up to it exactly.

    Used for ``backup``/``forward`` amounts and for notes without a ``<type>``. Each group is
    ``TYPE [dot]* [ratio]``; tuplet-scaled groups are used when the denominator has odd factors.

    Args:
        q: positive duration in quarter notes.

    Returns:
        Tokens, or an empty list if ``q`` cannot be represented.
    """
    if q <= 0:
        return []
    den = q.denominator
    odd = den
    while odd % 2 == 0:
        odd //= 2
    ratio = None
    if odd > 1:
        normal = 1
        while normal * 2 < odd:
            normal *= 2
        ratio = ratio_token(odd, normal)
        if ratio is None:
            return []
        q = q * odd / normal
        if q.denominator & (q.denominator - 1):
            return []
    out: list[str] = []
    types = sorted(DURATION_TYPES.items(), key=lambda kv: -kv[1])
    rest = q
    for _ in range(64):
        if rest <= 0:
            break
        for name, val in types:
            if val <= rest:
                out.append(name)
                if ratio:
                    out.append(ratio)
                rest -= val
                dotv = val / 2
                while rest >= dotv >= DURATION_TYPES["1024th"]:
                    out.append("dot")
                    rest -= dotv
                    dotv /= 2
                break
        else:
            return []
    return out if rest == 0 else []


def group_value(type_name: str, ratio: str | None, dots: int) -> Fraction:
    """Length in quarters of ``TYPE [ratio] [dot]*``."""
    val = DURATION_TYPES[type_name]
    total = val * (2 - Fraction(1, 2 ** dots))
    if ratio:
        a, n = parse_ratio(ratio)
        total = total * n / a
    return total


_SHARP_ORDER = "FCGDAEB"


def key_alter(fifths: int, step: str) -> int:
    """Alter that the key signature ``fifths`` gives to ``step``."""
    if fifths > 0 and step in _SHARP_ORDER[:fifths]:
        return 1
    if fifths < 0 and step in _SHARP_ORDER[::-1][:-fifths]:
        return -1
    return 0


class AccidentalState:
    """Which alter an unmarked note gets: key signature, earlier accidentals in the measure, ties.

    The linearizer and the delinearizer run the same state machine, so the linearizer can emit an
    accidental token whenever the inference would otherwise give the wrong pitch.
    """

    def __init__(self) -> None:
        self.fifths = 0
        self.measure: dict[tuple, int] = {}
        self.ties: dict[tuple, int] = {}

    def new_measure(self) -> None:
        """Forget the accidentals of the previous measure (ties carry over)."""
        self.measure.clear()

    def infer(self, staff: int, step: str, octave: int, tied_stop: bool) -> int:
        """Alter of a note that has no accidental token."""
        if tied_stop and (step, octave) in self.ties:
            return self.ties[(step, octave)]
        return self.measure.get((staff, step, octave), key_alter(self.fifths, step))

    def apply(self, staff: int, step: str, octave: int, alter: int, explicit: bool,
              tied_start: bool, tied_stop: bool) -> None:
        """Record a note (after deciding its alter)."""
        if explicit:
            self.measure[(staff, step, octave)] = alter
        if tied_stop:
            self.ties.pop((step, octave), None)
        if tied_start:
            self.ties[(step, octave)] = alter
