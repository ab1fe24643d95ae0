"""Tests for model.tokenizers.staff_symbols: LMX <-> per-staff symbol sequences for a CTC staff reader."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from model.tokenizers.lmx import delinearize, linearize, linearize_chunks
from model.tokenizers.lmx_vocab import ACCIDENTALS, DURATION_TYPES, PITCHES, group_value
from model.tokenizers.staff_symbols import (
    SYMBOL_INDEX,
    SYMBOLS,
    assemble,
    ids,
    staff_layout,
    staff_sequences,
    symbols,
)


def _note(pitch: str | None, dur: int, ntype: str, voice: int, staff: int, extra: str = "",
          stem: str | None = "up", chord: bool = False, alter: int = 0, tuplet: bool = False) -> str:
    head = "<rest/>" if pitch is None else (
        f"<pitch><step>{pitch[0]}</step>" + (f"<alter>{alter}</alter>" if alter else "")
        + f"<octave>{pitch[1]}</octave></pitch>")
    beams, notations, other = [], [], []
    for e in extra.split():
        kind, _, val = e.partition(":")
        if kind == "beam":
            level, value = val.split("=")
            beams.append(f'<beam number="{level}">{value}</beam>')
        elif kind == "tie":
            other.append(f'<tie type="{val}"/>')
            notations.append(f'<tied type="{val}"/>')
        elif kind == "tuplet":
            notations.append(f'<tuplet type="{val}"/>')
        elif kind == "acc":
            other.append(f"<accidental>{val}</accidental>")
    tm = "<time-modification><actual-notes>3</actual-notes><normal-notes>2</normal-notes></time-modification>"
    return ("<note>" + ("<chord/>" if chord else "") + head + f"<duration>{dur}</duration>"
            + "".join(t for t in other if t.startswith("<tie")) + f"<voice>{voice}</voice><type>{ntype}</type>"
            + "".join(t for t in other if t.startswith("<acc")) + (tm if tuplet else "")
            + (f"<stem>{stem}</stem>" if stem and pitch else "") + f"<staff>{staff}</staff>" + "".join(beams)
            + (f"<notations>{''.join(notations)}</notations>" if notations else "") + "</note>")


def _piece() -> str:
    """Two measures of a grand staff: a chord, an accidental, two voices (backup), beams, a tie, a triplet."""
    n = _note
    m1 = [
        n("C5", 12, "quarter", 1, 1), n("E5", 12, "quarter", 1, 1, chord=True),
        n("F5", 6, "eighth", 1, 1, "beam:1=begin acc:sharp", alter=1),
        n("G5", 6, "eighth", 1, 1, "beam:1=end tie:start"),
        n("G5", 4, "eighth", 1, 1, "beam:1=begin tie:stop tuplet:start", tuplet=True),
        n("A5", 4, "eighth", 1, 1, "beam:1=continue", tuplet=True),
        n("B5", 4, "eighth", 1, 1, "beam:1=end tuplet:stop", tuplet=True),
        n("C6", 12, "quarter", 1, 1, stem="down"),
        "<backup><duration>48</duration></backup>",
        n("E4", 24, "half", 2, 1, stem="down"), n("D4", 24, "half", 2, 1, stem="down"),
        "<backup><duration>48</duration></backup>",
        n("C3", 48, "whole", 5, 2, stem=None),
    ]
    m2 = [
        n("B4", 12, "quarter", 1, 1, stem="down"), n(None, 12, "quarter", 1, 1),
        n("B4", 3, "16th", 1, 1, "beam:1=begin beam:2=begin", stem="down"),
        n("C5", 3, "16th", 1, 1, "beam:1=continue beam:2=end", stem="down"),
        n("D5", 6, "eighth", 1, 1, "beam:1=end", stem="down"),
        n("E5", 12, "quarter", 1, 1, stem="down"),
        "<backup><duration>48</duration></backup>",
        n("G2", 24, "half", 5, 2), n("G3", 24, "half", 5, 2, chord=True), n("A2", 24, "half", 5, 2),
    ]
    attrs = ("<attributes><divisions>12</divisions><key><fifths>0</fifths></key><time><beats>4</beats>"
             "<beat-type>4</beat-type></time><staves>2</staves><clef number=\"1\"><sign>G</sign><line>2</line>"
             "</clef><clef number=\"2\"><sign>F</sign><line>4</line></clef></attributes>")
    return ('<score-partwise><part-list><score-part id="P1"><part-name>P</part-name></score-part></part-list>'
            f'<part id="P1"><measure number="1">{attrs}{"".join(m1)}</measure>'
            f'<measure number="2">{"".join(m2)}<barline location="right"><bar-style>light-heavy</bar-style>'
            "</barline></measure></part></score-partwise>")


@pytest.fixture(scope="module")
def piece_lmx() -> list[str]:
    return linearize(_piece())


def test_vocabulary() -> None:
    assert SYMBOLS[0] == "<blank>" and SYMBOLS[1] == "<unk>"
    assert len(SYMBOLS) <= 1500 and len(set(SYMBOLS)) == len(SYMBOLS)
    assert all(SYMBOL_INDEX[s] == i for i, s in enumerate(SYMBOLS))
    assert symbols(ids(["measure", "C5", "no-such-symbol"])) == ["measure", "C5", "<unk>"]
    assert symbols([len(SYMBOLS), -1]) == ["<unk>", "<unk>"]


def test_hand_written_grand_staff_round_trips(piece_lmx: list[str]) -> None:
    x = piece_lmx
    for needed in ("chord", "sharp", "backup", "voice:2", "beam:begin", "tied:start", "3in2", "tuplet:start"):
        assert needed in x
    assert staff_layout(x) == [2]
    seqs = staff_sequences(x)
    assert len(seqs) == 2
    assert seqs[0][:3] == ["clef:G2", "key:fifths:0", "time:4/4"] and seqs[1][0] == "clef:F4"
    assert "d:eighth:3in2" in seqs[0] and "b:begin,begin" in seqs[0] and "sharp" in seqs[0]
    assert all(s in SYMBOL_INDEX for seq in seqs for s in seq)
    assert assemble(seqs, [2]) == x


_TRECENTO_DUET = (  # two one-staff parts
    "measure key:fifths:0 time beats:2 beat-type:4 clef:G2-8 staff:1 A3 voice:1 half stem:up tied:start "
    "part key:fifths:0 time beats:2 beat-type:4 clef:F4 staff:1 A3 voice:1 half stem:down tied:start "
    "measure A3 voice:1 half stem:up tied:stop part A3 voice:1 half stem:down tied:stop")
_CHORALE_FERMATA = (  # a fermata measure: the voices' hidden rests come back from the meter
    "measure key:fifths:2 time beats:3 beat-type:4 clef:G2 staff:1 clef:F4 staff:2 E4 voice:1 half stem:up "
    "staff:1 fermata print-object:no rest quarter backup half dot B3 voice:2 half fermata print-object:no rest "
    "quarter backup half dot G3 voice:1 half sharp stem:down staff:2 fermata print-object:no rest quarter backup "
    "half dot E3 voice:2 half print-object:no rest quarter")
_PICKUP = (  # a pickup (not filled), a direction, a grace note and a measure rest
    "measure key:fifths:-1 time beats:4 beat-type:4 clef:G2 staff:1 dynamics:p C5 voice:1 quarter stem:down "
    "measure grace grace:slash E5 voice:1 eighth stem:up D5 quarter stem:down F5 half dot measure rest voice:1 "
    "rest:measure")


@pytest.mark.parametrize("text, layout", [(_TRECENTO_DUET, [1, 1]), (_CHORALE_FERMATA, [2]), (_PICKUP, [1])])
def test_canonical_lmx_round_trips(text: str, layout: list[int]) -> None:
    x = text.split()
    assert linearize(delinearize(x)) == x   # the linearizer's canonical form
    assert staff_layout(x) == layout
    seqs = staff_sequences(x)
    assert all(s in SYMBOL_INDEX and s != "print-object:no" for seq in seqs for s in seq)
    assert assemble(seqs, layout) == x


def _visible_onsets(lmx: list[str]) -> list[tuple[int, Fraction, str]]:
    """(staff, onset, head) of every non-grace, non-chord visible note, in LMX order (one measure)."""
    out, t, staff, i = [], Fraction(0), 1, 0
    while i < len(lmx):
        tok = lmx[i]
        if tok in ("backup", "forward"):
            j, amount = i + 1, Fraction(0)
            while j < len(lmx) and lmx[j] in DURATION_TYPES:
                dots = 0
                while j + 1 + dots < len(lmx) and lmx[j + 1 + dots] == "dot":
                    dots += 1
                amount += group_value(lmx[j], None, dots)
                j += 1 + dots
            t = t - amount if tok == "backup" else t + amount
            i = j
            continue
        if (tok == "rest" or tok in PITCHES) and lmx[i - 1] not in ("chord", "grace", "grace:slash"):
            j = i + 1
            while j < len(lmx) and not (lmx[j] == "rest" or lmx[j] in PITCHES or lmx[j] in ("backup", "chord")):
                if lmx[j].startswith("staff:"):
                    staff = int(lmx[j][6:])
                j += 1
            body = lmx[i + 1:j]
            dtype = next(b for b in body if b in DURATION_TYPES)
            ratio = next((b for b in body if "in" in b and b[0].isdigit()), None)
            out.append((staff, t, tok))
            t += group_value(dtype, ratio, body.count("dot"))
        i += 1
    return out


def test_staff_sequences_are_in_onset_order(piece_lmx: list[str]) -> None:
    first = piece_lmx[:piece_lmx.index("measure", 1)]
    notes = _visible_onsets(first)
    seqs = staff_sequences(first)
    for staff, seq in enumerate(seqs, 1):
        heads = []
        for k, s in enumerate(seq):
            before = seq[max(0, k - 2):k]
            if before and before[-1] in ACCIDENTALS:
                before = before[:-1]
            if (s == "rest" or s in PITCHES) and before[-1:] != ["chord"]:
                heads.append(s)
        mine = [(t, h) for s, t, h in notes if s == staff]
        expected = [h for _, h in sorted(mine, key=lambda e: e[0])]
        assert heads == expected
        onsets = [t for t, _ in sorted(mine, key=lambda e: e[0])]
        assert onsets == sorted(onsets)


def test_generated_excerpts_round_trip() -> None:
    from model.data.generate import generate_piece
    from model.tokenizers.lmx import _to_root

    for seed in (3, 11):
        root = _to_root(generate_piece(seed, measures=4))
        for chunk in linearize_chunks(root, [0, 2]):
            seqs = staff_sequences(chunk)
            assert all(s in SYMBOL_INDEX for seq in seqs for s in seq)
            assert assemble(seqs, staff_layout(chunk)) == chunk


def test_garbage_never_raises_and_delinearizes() -> None:
    rng = random.Random(0)
    notey = [s for s in SYMBOLS if s in PITCHES or s.startswith(("d:", "v", "b:")) or s in ("rest", "chord")]
    for trial in range(40):
        layout = rng.choice([[1], [2], [1, 1], [2, 1], [3], []])
        n_seqs = rng.choice([sum(layout), sum(layout) + 1, max(0, sum(layout) - 1)])
        pool = notey if trial % 2 else list(SYMBOLS)
        seqs = [[rng.choice(pool) if rng.random() > 0.08 else rng.choice(["measure", "???", "<blank>"])
                 for _ in range(rng.randint(0, 120))] for _ in range(n_seqs)]
        lmx = assemble(seqs, layout)
        assert lmx and lmx[0] == "measure"
        assert delinearize(lmx).lstrip().startswith("<")
        again = staff_sequences(lmx)
        assert all(s in SYMBOL_INDEX for seq in again for s in seq)
