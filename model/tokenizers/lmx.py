"""Notation <-> LMX (linearized MusicXML) tokenizer.

LMX is the linearized MusicXML of OLiMPiC (Mayer et al., ICDAR 2024), the notation format of the
U-MusT paper (docs/paper.md section 2.4): one space-separated token stream that follows the
MusicXML ``<measure>`` content in document order. This is our own implementation of the format
(:mod:`~model.tokenizers.lmx_linearize`, :mod:`~model.tokenizers.lmx_delinearize`), with the
vocabulary extended.

Grammar (``[x]`` optional, ``x*`` repeated)::

    score    := measure*
    measure  := "measure" content ("part" content)*        # parts interleaved per measure
    content  := header leftbar (attribute | note | backup | forward | direction)* rightbar
    header   := ["key:fifths:N"] [time] (clef "staff:N")*   # full header at a chunk start
    time     := "time" "beats:N" "beat-type:N" ["time:common" | "time:cut"]
    note     := ["print-object:no"] ["grace" ["grace:slash"]] ["chord"] ("rest" | PITCH) ["voice:N"]
                (TYPE [RATIO] ["dot"]* | "rest:measure") [ACCIDENTAL] ["stem:X"] ["staff:N"]
                ["beam:X"]* ["tied:X"]* ["tuplet:X"]* ["slur:X"]* [notation marks]*
    backup   := "backup" (TYPE [RATIO] ["dot"]*)+          # the groups add up to the amount
    forward  := "forward" (TYPE [RATIO] ["dot"]*)+
    direction:= ("dynamics:X" | "wedge:X" | "pedal:X" | "metronome" TYPE ["dot"] "bpm:N") ["staff:N"]
    bar      := ["barline:STYLE"] ["ending:N" "ending:TYPE"] ["repeat:X"]

``voice:N``, ``stem:X`` and ``staff:N`` inside notes are emitted only when they change (state
resets at each measure and part). ``PITCH`` is the written step and octave; the alter is not a
token: it follows from the key signature, earlier accidentals of the same staff/step/octave in the
measure, and ties. The linearizer runs the same inference and emits an accidental token whenever
the MusicXML has a displayed accidental or the inference would give the wrong alter, so pitches
always come back. A ``staff:N`` right after a clef or direction belongs to it.

Vocabulary (:data:`~model.tokenizers.lmx_vocab.VOCAB`, fixed order, 457 tokens):

* ``<pad>``, ``measure``, ``part``;
* attributes: ``time``, ``beats:1..32``, ``beat-type:1|2|4|8|16|32|64``, ``time:common|cut``,
  ``key:fifths:-7..7``, clefs ``clef:G2 F4 C1 C2 C3 C4 C5 F3 F5 G1 G2-8 G2+8 G2+15 G2-15 F4-8
  F4+8 percussion TAB``;
* note skeleton: ``print-object:no``, ``grace``, ``grace:slash``, ``chord``, ``rest``,
  ``rest:measure``, pitches ``C0..B9``, ``voice:1..16``, types ``1024th .. quarter half whole breve
  long maxima``, tuplet ratios ``AinN`` (A notes in the time of N, A 2..16, N 1..16, N/2 <= A <= 2N,
  unreduced), ``dot``;
* accidentals ``sharp flat natural double-sharp flat-flat natural-sharp natural-flat sharp-sharp``;
* ``stem:up|down|none``, ``staff:1..4``, ``beam:begin|continue|end|forward-hook|backward-hook``;
* ``tied:start|stop``, ``tuplet:start|stop``, ``slur:start|stop``, ``fermata``, ``arpeggiate``,
  articulations ``staccato accent strong-accent tenuto staccatissimo detached-legato spiccato``,
  ornaments ``trill-mark mordent inverted-mordent turn inverted-turn``,
  ``tremolo:single|start|stop|unmeasured``, ``tremolo-marks:1..4``;
* ``backup``, ``forward``;
* directions: ``dynamics:pppp ppp pp p mp mf f ff fff ffff sf sfz sffz sfp sfpp fp fz rf rfz pf n``,
  ``wedge:crescendo|diminuendo|stop``, ``metronome``, ``bpm:20..300`` (48 classic metronome bins),
  ``pedal:start|stop``;
* barlines: ``repeat:forward|backward``, ``ending:1..4``, ``ending:start|stop|discontinue``,
  ``barline:light-light light-heavy heavy-light heavy-heavy dashed dotted none regular heavy tick
  short``.

Extended beyond the paper's 185-token vocabulary: several parts (``part``), staves 3-4, voices 9-16,
more clefs (octave G/F, C2-C5, F3/F5, percussion, TAB), pitches in octaves 0 and 8-9, unreduced
tuplet ratios up to 16, ``beam:continue`` (only where an inner level ends), ``time:common|cut``,
the directions (dynamics, wedges, metronome, pedal), barlines/repeats/endings, more articulations
and ornaments, ``tremolo-marks``, accidentals re-derived from the pitch where the MusicXML lacks
them, backup/forward amounts that any duration can take (tuplet-scaled groups), and chunk headers
that re-state the key, time and every clef.

Known gaps (dropped by the linearizer): lyrics, chord symbols, text words/expressions, fingering and
other technical marks, noteheads, cue size, unpitched-ness (written as pitches), microtones, octave
shifts, part names/instruments, transposition, layout and print hints, key mode and non-traditional
keys, composite time signatures (summed), tuplet display attributes, direction offsets, forward
voice/staff, and beams on quarter notes or longer.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.tokenizers.base import TokenizationError, Tokenizer, TokenSequence
from model.tokenizers.lmx_delinearize import delinearize as _delinearize
from model.tokenizers.lmx_linearize import linearize_parts, parse_root
from model.tokenizers.lmx_vocab import DURATION_TYPES, PITCH_SET, TOKEN_SET, TUPLET_RATIOS, VOCAB

__all__ = [
    "VOCAB",
    "LMXConfig",
    "LMXTokenizer",
    "decode_tokens",
    "delinearize",
    "linearize",
    "linearize_chunks",
    "linearize_measures",
    "parse_lmx_text",
    "split_measures",
]


def _to_root(source: Any) -> ET.Element:
    """Accept a music21 stream, a MusicXML path, MusicXML text/bytes or an element."""
    if isinstance(source, ET.Element):
        return parse_root(source)
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("<")
                                    and len(source) < 4096):
        path = Path(source)
        if not path.exists():
            raise TokenizationError(f"no such MusicXML file: {path}")
        if path.suffix.lower() == ".mxl":
            import music21

            return _to_root(music21.converter.parse(str(path)))
        return parse_root(path.read_bytes())
    if isinstance(source, (str, bytes)):
        return parse_root(source)
    try:
        import music21
        from music21.musicxml.m21ToXml import GeneralObjectExporter
    except ImportError as exc:  # pragma: no cover
        raise TokenizationError(f"cannot encode {type(source).__name__}") from exc
    if isinstance(source, music21.base.Music21Object):
        return parse_root(GeneralObjectExporter(source).parse())
    raise TokenizationError(f"cannot encode {type(source).__name__}: give a Score, a path or MusicXML")


def linearize(source: Any) -> list[str]:
    """MusicXML (text, bytes, element, path or music21 object) -> LMX tokens of the whole score."""
    return [t for m in linearize_parts(_to_root(source)) for t in m]


def linearize_measures(source: Any, start: int, stop: int | None = None) -> list[str]:
    """LMX of measures ``start..stop-1`` only (0-based), starting with a full header.

    The key, time and every staff's clef in force are emitted at the chunk start, so the chunk
    delinearizes on its own; concatenated chunks delinearize to the whole score.
    """
    return [t for m in linearize_parts(_to_root(source), start, stop) for t in m]


def linearize_chunks(source: Any, starts: list[int]) -> list[list[str]]:
    """Cut the score into chunks (systems) that begin at the measure indices ``starts``.

    Parses once; each chunk starts with a full header like :func:`linearize_measures`, so
    ``linearize_chunks(x, [0, 4, 9])[1] == linearize_measures(x, 4, 9)``.
    """
    starts = sorted(set(starts))
    if not starts:
        return []
    measures = linearize_parts(_to_root(source), starts[0], None, frozenset(starts))
    bounds = [s - starts[0] for s in starts] + [len(measures)]
    return [[t for m in measures[a:b] for t in m] for a, b in itertools.pairwise(bounds)]


def without_cut_curves(tokens: list[str]) -> list[str]:
    """An excerpt's LMX without the ties and slurs its edges cut.

    A tie or slur whose other end lies outside the excerpt is not on the excerpt's page: Verovio, MuseScore 3
    and LilyPond all draw nothing for half of one. Everything else is kept as it is.
    """
    drop = unpaired_curve_ends(tokens)
    return [t for i, t in enumerate(tokens) if i not in drop]


def unpaired_curve_ends(tokens: list[str]) -> set[int]:
    """Where the tie and slur ends of an LMX without a partner in it are. A ``tied:start`` pairs with the next
    ``tied:stop`` of the same pitch on a later note, a ``slur:stop`` with the latest open ``slur:start`` of
    an earlier note."""
    note, pitch = 0, None
    ties: dict[str, list[tuple[int, int]]] = {}
    slurs: list[tuple[int, int]] = []
    drop: set[int] = set()
    for i, t in enumerate(tokens):
        if t in PITCH_SET or t == "rest":
            note, pitch = note + 1, t
        elif t == "tied:start":
            ties.setdefault(pitch, []).append((note, i))
        elif t == "slur:start":
            slurs.append((note, i))
        elif t in ("tied:stop", "slur:stop"):
            opened = ties.get(pitch, []) if t == "tied:stop" else slurs
            order = range(len(opened)) if t == "tied:stop" else reversed(range(len(opened)))
            k = next((j for j in order if opened[j][0] != note), None)   # never the note's own start
            if k is None:
                drop.add(i)
            else:
                opened.pop(k)
    drop.update(i for opened in (*ties.values(), slurs) for _, i in opened)
    return drop


#: what a hidden rest that only fills time holds: no voice change, no tuplet bracket, no mark
_PLAIN_REST = frozenset(["print-object:no", "rest", "dot", "rest:measure", "stem:none", *DURATION_TYPES,
                         *TUPLET_RATIOS, *(f"staff:{i}" for i in range(1, 5))])
_BAR = ("barline:", "ending:", "repeat:")


def without_trailing_rests(tokens: list[str]) -> list[str]:
    """An LMX without the hidden rests that end a measure: the last notes of each measure's (and part's)
    last stream, after a note of that stream, that are hidden rests and nothing more.

    They fill a short measure (a section's last bar before its pickup, say) to the meter, after everything
    printed; no bar line, note or backup depends on them and nothing on the page shows them, so no reader can
    see them. Hidden rests that place a note later in its voice are kept.
    """
    drop: set[int] = set()
    starts: list[int] = []          # note starts since the last measure or part
    for i, t in enumerate([*tokens, "measure"]):
        if t in ("measure", "part"):
            end = i
            while end > 0 and tokens[end - 1].startswith(_BAR):
                end -= 1
            while len(starts) > 1 and tokens[starts[-1]] == "print-object:no" \
                    and set(tokens[starts[-1]:end]) <= _PLAIN_REST:
                drop.update(range(starts[-1], end))
                end = starts.pop()
            starts = []
        elif t in ("backup", "forward") or t.startswith(("dynamics:", "wedge:", "pedal:", "metronome")):
            starts = []             # a new stream, or a direction: what comes before is not trailing
        elif t in ("print-object:no", "grace", "chord", "rest") or t in PITCH_SET:
            if i == 0 or tokens[i - 1] not in ("print-object:no", "grace", "grace:slash", "chord"):
                starts.append(i)
    return [t for i, t in enumerate(tokens) if i not in drop]


def split_measures(tokens: list[str]) -> list[list[str]]:
    """Split a token list at its ``measure`` tokens (one list per measure)."""
    out: list[list[str]] = []
    for t in tokens:
        if t == "measure" or not out:
            out.append([])
        out[-1].append(t)
    return out


def _check(tokens: list[str]) -> None:
    for i, t in enumerate(tokens):
        if t not in TOKEN_SET:
            raise TokenizationError(f"unknown LMX token {t!r} at position {i}")


def delinearize(tokens: list[str], title: str | None = None) -> str:
    """LMX tokens -> MusicXML text (with ``title`` as its title, if given).

    Raises:
        TokenizationError: a token is not in the vocabulary (message names token and position).
    """
    tokens = list(tokens)
    _check(tokens)
    return _delinearize(tokens, title)


def decode_tokens(tokens: list[str]) -> Any:
    """LMX tokens -> music21 Score."""
    import music21

    xml = delinearize(tokens)
    try:
        return music21.converter.parseData(xml, format="musicxml")
    except Exception as exc:
        raise TokenizationError(f"music21 could not read the delinearized score: {exc}") from exc


def parse_lmx_text(text: str) -> list[str]:
    """Read readable LMX (tokens separated by whitespace, one system per line; ``#`` comments).

    Raises:
        TokenizationError: an unknown token, naming its line and column.
    """
    out: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for col, tok in enumerate(line.split("#", 1)[0].split(), 1):
            if tok not in TOKEN_SET:
                raise TokenizationError(f"line {lineno}, token {col}: unknown LMX token {tok!r}")
            out.append(tok)
    return out


@dataclass
class LMXConfig:
    """LMX tokenizer settings (saved as JSON with a checkpoint).

    Attributes:
        vocab_version: version of the token list; changing the vocabulary bumps it.
        max_length: longest token sequence the model takes (the paper uses 1400).
        vocab_size: number of tokens (a check when loading a checkpoint).
    """

    vocab_version: int = 1
    max_length: int = 1400
    vocab_size: int = len(VOCAB)


class LMXTokenizer(Tokenizer):
    """Notation (music21 Score, MusicXML path/text) <-> LMX token ids."""

    modality = "lmx"

    @classmethod
    def default_config(cls) -> LMXConfig:
        return LMXConfig()

    @property
    def vocab(self) -> list[str]:
        return VOCAB

    def _encode(self, obj: Any) -> TokenSequence:
        tokens = linearize(obj)
        return TokenSequence(ids=self.tokens_to_ids(tokens), tokens=tokens)

    def _decode(self, ids: list[int]) -> Any:
        return decode_tokens(self.ids_to_tokens(ids))
