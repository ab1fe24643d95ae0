"""Tests for the LMX tokenizer: hand-made MusicXML round trips, chunks, config, properties, errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.tokenizers.base import TokenizationError
from model.tokenizers.lmx import (
    VOCAB,
    LMXConfig,
    LMXTokenizer,
    decode_tokens,
    delinearize,
    linearize,
    linearize_chunks,
    linearize_measures,
    parse_lmx_text,
    split_measures,
)
from tools.lmx_roundtrip import compare_measures, measure_features, normalize_musicxml


# -- helpers -----------------------------------------------------------------------------------------
def note(pitch: str | None, dur: int, typ: str, voice: int = 1, staff: int | None = None, extra: str = "",
         pre: str = "", post: str = "", alter: int = 0, notations: str = "") -> str:
    """One <note>; ``pitch`` like 'C4' (None for a rest); ``dur`` in divisions (4 per quarter)."""
    body = pre
    if pitch is None:
        body += "<rest/>"
    else:
        alt = f"<alter>{alter}</alter>" if alter else ""
        body += f"<pitch><step>{pitch[0]}</step>{alt}<octave>{pitch[1:]}</octave></pitch>"
    if "<grace" not in pre:
        body += f"<duration>{dur}</duration>"
    body += post + f"<voice>{voice}</voice><type>{typ}</type>" + extra
    if staff:
        body += f"<staff>{staff}</staff>"
    if notations:
        body += f"<notations>{notations}</notations>"
    return f"<note>{body}</note>"


ATTRS = ("<attributes><divisions>{div}</divisions><key><fifths>{key}</fifths></key>"
         "<time><beats>{beats}</beats><beat-type>4</beat-type></time>{staves}{clefs}</attributes>")


def score(*parts: list[str], key: int = 0, beats: int = 4, staves: int = 1, div: int = 4) -> str:
    """A partwise score; each part is a list of measure bodies (the first gets the attributes)."""
    clefs = ("<clef number='1'><sign>G</sign><line>2</line></clef><clef number='2'><sign>F</sign>"
             "<line>4</line></clef>") if staves == 2 else "<clef><sign>G</sign><line>2</line></clef>"
    staves_el = f"<staves>{staves}</staves>" if staves > 1 else ""
    attrs = ATTRS.format(div=div, key=key, beats=beats, staves=staves_el, clefs=clefs)
    plist = "".join(f"<score-part id='P{i}'><part-name>p</part-name></score-part>" for i in range(len(parts)))
    body = ""
    for i, measures in enumerate(parts):
        ms = "".join(f"<measure number='{j + 1}'>{attrs if j == 0 else ''}{m}</measure>"
                     for j, m in enumerate(measures))
        body += f"<part id='P{i}'>{ms}</part>"
    return f"<score-partwise version='4.0'><part-list>{plist}</part-list>{body}</score-partwise>"


def assert_roundtrip(xml: str, features: tuple[str, ...] = ()) -> str:
    """Round-trip and compare every aspect of every measure; return the round-tripped XML."""
    back = delinearize(linearize(xml))
    a, b = normalize_musicxml(xml), normalize_musicxml(back)
    assert len(a) == len(b)
    for pa, pb in zip(a, b):
        assert len(pa) == len(pb)
        for i, (ma, mb) in enumerate(zip(pa, pb)):
            assert compare_measures(ma, mb) == [], (i, ma, mb)
    if features:
        fa = sum((measure_features(m) for m in ET.fromstring(xml).iter("measure")), start=type(
            measure_features(ET.Element("measure")))())
        fb = sum((measure_features(m) for m in ET.fromstring(back).iter("measure")), start=type(fa)())
        for f in features:
            assert fa[f] > 0, f"test input lacks {f}"
            assert fa[f] == fb[f], (f, fa[f], fb[f])
    return back


Q = "quarter"


# -- round trips of each feature -------------------------------------------------------------------
def test_notes_rests_dots_and_measure_rest():
    m1 = note("C4", 6, Q, extra="<dot/>") + note("D4", 2, "eighth") + note(None, 4, Q) + note("E5", 4, Q)
    m2 = "<note><rest measure='yes'/><duration>16</duration><voice>1</voice></note>"
    xml = score([m1, m2])
    toks = linearize(xml)
    assert toks[:9] == ["measure", "key:fifths:0", "time", "beats:4", "beat-type:4", "clef:G2", "staff:1",
                        "C4", "voice:1"]
    assert "rest:measure" in toks and "dot" in toks
    assert_roundtrip(xml, ("note/dot",))


def test_tuplet():
    tm = "<time-modification><actual-notes>3</actual-notes><normal-notes>2</normal-notes></time-modification>"
    m = (note("C4", 2, Q, extra=tm, notations="<tuplet type='start'/>") + note("D4", 2, Q, extra=tm)
         + note("E4", 2, Q, extra=tm, notations="<tuplet type='stop'/>") + note("F4", 6, "half"))
    toks = linearize(score([m], div=3))
    assert "3in2" in toks and "tuplet:start" in toks and "tuplet:stop" in toks
    assert_roundtrip(score([m], div=3))


def test_tie_across_barline_keeps_accidental():
    m1 = note("C4", 12, "half", extra="<dot/><accidental>sharp</accidental>", alter=1) + note(
        "F4", 4, Q, alter=1, post="<tie type='start'/>", extra="<accidental>sharp</accidental>",
        notations="<tied type='start'/>")
    m2 = note("F4", 4, Q, alter=1, post="<tie type='stop'/>", notations="<tied type='stop'/>") + note(
        "F4", 12, "half", extra="<dot/>")
    toks = linearize(score([m1, m2]))
    assert toks.count("tied:start") == 1 and toks.count("tied:stop") == 1
    back = assert_roundtrip(score([m1, m2]))
    alters = [n.findtext("pitch/alter") for n in ET.fromstring(back).iter("note")]
    assert alters == ["1", "1", "1", None]


def test_key_signature_and_measure_accidentals():
    # G major: F is sharp unless marked; a natural holds for the rest of the measure
    m = (note("F4", 4, Q, alter=1) + note("F4", 4, Q, extra="<accidental>natural</accidental>")
         + note("F4", 4, Q) + note("F5", 4, Q, alter=1))
    xml = score([m], key=1)
    toks = linearize(xml)
    assert toks.count("natural") == 1 and "sharp" not in toks
    assert_roundtrip(xml)


def test_accidental_added_when_musicxml_lacks_it():
    m = note("B4", 8, "half", alter=-1) + note("B4", 8, "half")  # no <accidental> elements at all
    toks = linearize(score([m]))
    assert toks.count("flat") == 1 and toks.count("natural") == 1
    assert_roundtrip(score([m]))


def test_chord():
    m = (
        note("C4", 16, "whole")
        + note("E4", 16, "whole", pre="<chord/>")
        + note("G4", 16, "whole", pre="<chord/>")
    )
    toks = linearize(score([m]))
    assert toks.count("chord") == 2
    assert_roundtrip(score([m]))


def test_two_voices_with_backup_and_forward():
    m = (
        note("E5", 8, "half", extra="<stem>up</stem>")
        + note("D5", 8, "half", extra="<stem>up</stem>")
        + "<backup><duration>16</duration></backup>"
        + "<forward><duration>4</duration></forward>"
        + note("C4", 4, Q, voice=2, extra="<stem>down</stem>")
        + note("B3", 8, "half", voice=2, extra="<stem>down</stem>")
    )
    toks = linearize(score([m]))
    assert "backup" in toks and "forward" in toks and "voice:2" in toks
    assert_roundtrip(score([m]), ("note/stem:up", "note/stem:down"))


def test_two_staves_with_clef_change_and_beams():
    beam = "<beam number='1'>{}</beam>"
    m1 = (note("C5", 2, "eighth", staff=1, extra=beam.format("begin")) + note("D5", 2, "eighth", staff=1,
          extra=beam.format("end")) + note("E5", 12, "half", staff=1, extra="<dot/>")
          + "<backup><duration>16</duration></backup>"
          + note("C3", 8, "half", voice=5, staff=2)
          + "<attributes><clef number='2'><sign>G</sign><line>2</line></clef></attributes>"
          + note("C5", 8, "half", voice=5, staff=2))
    m2 = note("C5", 16, "whole", staff=1) + "<backup><duration>16</duration></backup>" + note(
        "G4", 16, "whole", voice=5, staff=2)
    xml = score([m1, m2], staves=2)
    toks = linearize(xml)
    assert "staff:2" in toks and toks.count("clef:G2") == 2 and "beam:begin" in toks
    assert_roundtrip(xml, ("note/beam",))


def test_grace_note():
    m = (note("D5", 0, "eighth", pre="<grace slash='yes'/>") + note("C5", 8, "half")
         + note("B4", 0, "16th", pre="<grace/>") + note("C5", 8, "half"))
    toks = linearize(score([m]))
    assert toks.count("grace") == 2 and toks.count("grace:slash") == 1
    assert_roundtrip(score([m]), ("note/grace",))


def test_key_and_time_change():
    m1 = note("C4", 16, "whole")
    m2 = ("<attributes><key><fifths>-2</fifths></key><time><beats>3</beats><beat-type>4</beat-type></time>"
          "<clef><sign>F</sign><line>4</line></clef></attributes>" + note("B2", 12, "half", alter=-1,
                                                                          extra="<dot/>"))
    toks = linearize(score([m1, m2]))
    assert "key:fifths:-2" in toks and "beats:3" in toks and "clef:F4" in toks
    assert_roundtrip(score([m1, m2]))


def test_articulations_slurs_ornaments():
    nots = ("<slur type='start'/><articulations><staccato/><accent/></articulations><fermata/>"
            "<ornaments><trill-mark/></ornaments><arpeggiate/>")
    m = (note("C5", 4, Q, notations=nots) + note("D5", 4, Q, notations="<articulations><tenuto/>"
         "<strong-accent/></articulations>") + note("E5", 8, "half", notations="<slur type='stop'/>"))
    toks = linearize(score([m]))
    for t in ("slur:start", "slur:stop", "staccato", "accent", "tenuto", "strong-accent", "fermata",
              "trill-mark", "arpeggiate"):
        assert t in toks
    assert_roundtrip(score([m]), ("note/slur:start", "note/slur:stop", "note/fermata", "note/arpeggiate",
                                  "note/articulations:staccato", "note/ornaments:trill-mark"))


def test_dynamics_wedges_tempo():
    def direction(inner: str) -> str:
        return f"<direction><direction-type>{inner}</direction-type></direction>"
    m = (
        direction("<metronome><beat-unit>quarter</beat-unit><per-minute>118</per-minute></metronome>")
        + direction("<dynamics><p/></dynamics>")
        + direction("<wedge type='crescendo'/>")
        + note("C4", 8, "half")
        + direction("<wedge type='stop'/>")
        + direction("<dynamics><sfz/></dynamics>")
        + note("D4", 8, "half")
    )
    toks = linearize(score([m]))
    assert {"dynamics:p", "dynamics:sfz", "wedge:crescendo", "wedge:stop", "metronome", "bpm:120"} <= set(
        toks
    )
    assert_roundtrip(
        score([m]),
        (
            "direction/dynamics:p",
            "direction/dynamics:sfz",
            "direction/wedge:crescendo",
            "direction/wedge:stop",
            "direction/metronome",
        ),
    )


def test_unpaired_pedal_and_hairpin_lines_are_paired_so_notation_programs_read_them():
    """A decoder may write a stop nothing started (its passage began with the pedal down) or a second start:
    the MusicXML keeps only lines that pair, and music21 reads it without a warning."""
    import warnings

    import music21

    toks = ("measure time beats:4 beat-type:4 clef:G2 pedal:stop wedge:stop pedal:start wedge:crescendo "
            "C4 quarter pedal:start wedge:diminuendo D4 quarter pedal:stop E4 quarter wedge:stop F4 quarter "
            "pedal:stop").split()
    xml = delinearize(toks)
    root = ET.fromstring(xml)
    assert [p.get("type") for p in root.iter("pedal")] == ["start", "stop"]
    assert [w.get("type") for w in root.iter("wedge")] == ["crescendo", "stop", "diminuendo", "stop"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = music21.converter.parse(xml, format="musicxml")
    assert len(score.recurse().getElementsByClass("PedalMark")) == 1


def test_repeats_and_endings():
    whole = note("C5", 16, "whole")
    m1 = (
        "<barline location='left'><bar-style>heavy-light</bar-style><repeat direction='forward'/></barline>"
        + whole
    )
    m2 = ("<barline location='left'><ending number='1' type='start'/></barline>" + whole
          + "<barline location='right'><bar-style>light-heavy</bar-style><ending number='1' type='stop'/>"
            "<repeat direction='backward'/></barline>")
    m3 = ("<barline location='left'><ending number='2' type='start'/></barline>" + whole
          + "<barline location='right'><ending number='2' type='discontinue'/></barline>")
    toks = linearize(score([m1, m2, m3]))
    assert {
        "repeat:forward",
        "repeat:backward",
        "ending:1",
        "ending:2",
        "ending:start",
        "ending:stop",
    } <= set(toks)
    back = assert_roundtrip(score([m1, m2, m3]), ("barline/repeat:forward", "barline/repeat:backward",
                                                  "barline/ending:start", "barline/ending:stop",
                                                  "barline/ending:discontinue"))
    bars = [(b.get("location"), b.find("ending").get("number") if b.find("ending") is not None else None)
            for b in ET.fromstring(back).iter("barline")]
    assert bars == [("left", None), ("left", "1"), ("right", "1"), ("left", "2"), ("right", "2")]


def test_two_parts():
    voice = [note("G4", 16, "whole"), note("A4", 16, "whole")]
    piano = [note("C4", 8, "half") + note("E4", 8, "half"), note(None, 16, "whole")]
    xml = score(voice, piano)
    toks = linearize(xml)
    assert toks.count("part") == 2 and toks.count("measure") == 2
    back = assert_roundtrip(xml)
    assert len(ET.fromstring(back).findall("part")) == 2


# -- chunks ------------------------------------------------------------------------------------------
def _four_measures() -> str:
    ms = [note("C4", 16, "whole"), note("D4", 16, "whole"),
          "<attributes><clef><sign>F</sign><line>4</line></clef></attributes>" + note("E3", 16, "whole"),
          note("F3", 16, "whole", alter=1)]
    return score(ms, key=2)


def test_chunks_carry_header_and_concatenate():
    xml = _four_measures()
    chunk = linearize_measures(xml, 2, 4)
    assert chunk[:3] == ["measure", "key:fifths:2", "time"] and "clef:F4" in chunk
    assert len(split_measures(chunk)) == 2
    alone = normalize_musicxml(delinearize(chunk))[0]
    full = normalize_musicxml(xml)[0]
    assert [m["events"] for m in alone] == [m["events"] for m in full[2:]]
    joined = linearize_measures(xml, 0, 1) + linearize_measures(xml, 1, 3) + linearize_measures(xml, 3, None)
    back = normalize_musicxml(delinearize(joined))[0]
    assert all(compare_measures(a, b) == [] for a, b in zip(full, back)) and len(back) == 4
    chunks = linearize_chunks(xml, [0, 1, 3])
    assert chunks == [
        linearize_measures(xml, 0, 1),
        linearize_measures(xml, 1, 3),
        linearize_measures(xml, 3),
    ]


# -- tokenizer object, config ----------------------------------------------------------------------
def test_tokenizer_encode_decode_music21_and_config(tmp_path):
    import music21

    tok = LMXTokenizer()
    s = music21.converter.parse("tinyNotation: 3/4 c4 d8 e8 f4 g2.", makeNotation=True)
    seq = tok.encode(s)
    assert seq.tokens == tok.ids_to_tokens(seq.ids) and len(seq) > 5
    back = tok.decode(seq.ids)
    assert [p.nameWithOctave for p in back.pitches] == [p.nameWithOctave for p in s.pitches]
    path = tmp_path / "lmx.json"
    tok.save(path)
    loaded = LMXTokenizer.load(path)
    assert loaded.config == tok.config and isinstance(loaded.config, LMXConfig)
    assert tok.vocab_size == len(VOCAB) == len(set(VOCAB)) and VOCAB[0] == "<pad>"
    xml_path = tmp_path / "s.musicxml"
    xml_path.write_text(_four_measures())
    assert tok.encode(str(xml_path)).tokens == linearize(_four_measures())


# -- errors ------------------------------------------------------------------------------------------
def test_malformed_input_raises_tokenization_error():
    with pytest.raises(TokenizationError, match="position 2"):
        delinearize(["measure", "C4", "quaver"])
    with pytest.raises(TokenizationError, match="line 2, token 3"):
        parse_lmx_text("measure C4 quarter\nD4 quarter bogus\n")
    with pytest.raises(TokenizationError):
        LMXTokenizer().decode([len(VOCAB) + 5])
    with pytest.raises(TokenizationError):
        LMXTokenizer().tokens_to_ids(["nope"])
    with pytest.raises(TokenizationError):
        linearize("<score-partwise><part><measure>")
    with pytest.raises(TokenizationError):
        linearize("<score-timewise/>")


# -- properties --------------------------------------------------------------------------------------
# The two token-soup properties run a fixed (derandomized) set of examples so CI is repeatable. Random soups
# (many thousands, not derandomized) found the failures that the regression tests after them keep fixed.
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, len(VOCAB) - 1), max_size=80))
def test_any_ids_decode_to_a_writable_score(ids):
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    s = LMXTokenizer().decode(ids)
    assert GeneralObjectExporter(s).parse()


_STRUCTURED = st.lists(st.sampled_from(
    ["measure", "measure", "part", "C4", "E5", "rest", "quarter", "eighth", "half", "dot", "3in2", "chord",
     "backup", "forward", "voice:2", "staff:2", "tied:start", "tied:stop", "tuplet:start", "tuplet:stop",
     "beam:begin", "beam:end", "grace", "sharp", "clef:F4", "key:fifths:3", "time", "beats:3", "rest:measure",
     "slur:start", "repeat:backward", "ending:1", "ending:start", "dynamics:f", "metronome", "bpm:60"]),
    max_size=60)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_STRUCTURED)
def test_structured_token_soup_decodes(tokens):
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    assert GeneralObjectExporter(decode_tokens(tokens)).parse()


_TYPES = [("16th", 1), ("eighth", 2), ("quarter", 4), ("half", 8)]


@st.composite
def simple_scores(draw):
    """1-2 parts, 1-4 measures of 4/4 filled with notes, rests, chords and dotted values."""
    n_parts = draw(st.integers(1, 2))
    n_measures = draw(st.integers(1, 4))
    key = draw(st.integers(-7, 7))
    parts = []
    for _ in range(n_parts):
        measures = []
        for _ in range(n_measures):
            left, body = 16, ""
            while left:
                typ, dur = draw(st.sampled_from([t for t in _TYPES if t[1] <= left]))
                dotted = dur * 3 // 2 <= left and dur > 1 and draw(st.booleans())
                d = dur * 3 // 2 if dotted else dur
                extra = "<dot/>" if dotted else ""
                if draw(st.integers(0, 4)) == 0:
                    body += note(None, d, typ, extra=extra)
                else:
                    pitch = draw(st.sampled_from("CDEFGAB")) + str(draw(st.integers(2, 6)))
                    alter = draw(st.integers(-1, 1))
                    body += note(pitch, d, typ, extra=extra, alter=alter)
                    if draw(st.booleans()):
                        body += note(pitch[0] + str(int(pitch[1]) + 1), d, typ, extra=extra, pre="<chord/>")
                left -= d
            measures.append(body)
        parts.append(measures)
    return score(*parts, key=key)


@settings(max_examples=60, deadline=None)
@given(simple_scores())
def test_decode_encode_is_identity_on_simple_scores(xml):
    assert_roundtrip(xml)
    toks = linearize(xml)
    assert linearize(delinearize(toks)) == toks


def test_a_measure_of_grace_notes_only_decodes():
    """Found by hypothesis: grace notes with no main note made a measure music21 could not read."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    for tokens in (["grace", "C4"], ["measure", "C4", "quarter", "measure", "grace", "C4"]):
        score = decode_tokens(tokens)
        assert GeneralObjectExporter(score).parse()
        assert [n.duration.isGrace for n in score.recurse().notes][-1] is True


def _written(tokens: list[str]):
    """Decode ``tokens``, check that music21 writes the score as MusicXML, and return the score."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    score = decode_tokens(tokens)
    assert GeneralObjectExporter(score).parse()
    return score


def _notes(score) -> list[tuple[str, float, int]]:
    """(pitch, offset in its measure, measure number) of every note."""
    out = []
    for n in score.recurse().notes:
        measure = n.getContextByClass("Measure")
        out.append((n.nameWithOctave, float(n.getOffsetInHierarchy(measure)), measure.number))
    return out


def test_tokens_without_a_time_signature_decode_in_hidden_4_4():
    """Found by random token soups: with no time signature music21 picks a meter for each measure when it
    writes, from the measure's length (minutes for an odd length), but splits by 4/4; it failed ("Cannot
    convert complex durations", "duplex-maxima", "measure already found") on several staves or voices and
    on odd lengths. There the decoder states the 4/4 it assumes, not printed."""
    score = _written(["rest", "C4", "forward", "eighth", "metronome", "staff:2"])  # two staves
    ts = score.recurse().getElementsByClass("TimeSignature").first()
    assert ts.ratioString == "4/4" and ts.style.hideObjectOnPrint
    _written(["rest", "rest", "half", "7in9", "rest", "long"])  # a measure of 19 4/7 quarters
    _written(["C5", "G3", "voice:10", "long", "B7", "voice:14"])  # three voices one after the other
    # one voice in one staff stays without a time signature (folk tunes have measures of any length) ...
    xml = delinearize(["C4", "whole", "D4", "quarter", "measure", "E4", "half"])
    assert "<time" not in xml and _written(["C4", "whole", "D4", "quarter", "measure", "E4", "half"])
    # ... and a time signature in the tokens is printed as before
    assert "print-object" not in delinearize(["time", "beats:3", "beat-type:4", "C4", "quarter"])


def test_an_overfull_measure_keeps_its_notes_and_writes():
    """Found by random token soups: music21 carries what straddles the bar line of an overfull measure (a
    note, a rest, or the hidden rest it fills a hole of a voice with) into the next measure, in the same
    voice. It failed with "measure already found" for two such things in the last measure, and with a
    KeyError when the next measure lacked the voice. Now only what music21 can carry straddles the bar
    line."""
    # a measure rest after a note straddles the bar line (it starts at it now), and a second voice without its
    # backup starts past the bar line after a hole across it (it starts the measure now)
    score = _written(["C4", "rest", "rest:measure", "E5", "voice:2"])
    assert _notes(score) == [("C4", 0.0, 1), ("E5", 0.0, 1)]
    # in 3/4 the forward leaves a hole across the last bar line, which music21 carries over; voice 2, without
    # its backup, would leave a second one: it starts the measure instead
    score = _written(["beats:3", "E5", "C4", "forward", "half", "E5", "key:fifths:3", "voice:2", "C4"])
    assert _notes(score) == [("E5", 0.0, 1), ("C4", 1.0, 1), ("E5", 4.0, 1), ("C#4", 0.0, 1)]
    _written(["time", "rest", "breve", "rest", "voice:2", "breve"])  # rests of two voices past the last bar
    _written(["time", "G3", "breve", "backup", "breve", "B7", "voice:2", "breve"])  # notes of two voices
    # F0 straddled the bar line in voice 4, which the next measure lacks (KeyError): it starts at the bar line
    score = _written(["time", "G8", "F0", "voice:4", "breve", "measure", "D4", "G4", "voice:15"])
    assert _notes(score) == [("G8", 0.0, 1), ("F0", 4.0, 1), ("D4", 0.0, 2), ("G4", 1.0, 2)]
    _written(["beat-type:64", "C4", "measure", "G9"])  # the carried piece is longer than the next measure
    # one voice may straddle the bar line, as in real scores: the note stays where it is
    xml = delinearize(["time", "C4", "half", "D4", "whole"])
    assert "<forward>" not in xml and "<backup>" not in xml
    # without a time signature music21 carries a rest over 4/4 but cannot tie its pieces (5/8, 11/8): it
    # starts at the bar line
    score = _written(["C3", "E0", "E8", "C3", "16th", "dot", "rest", "half"])
    assert [float(r.offset) for r in score.recurse().getElementsByClass("Rest")] == [4.0]


def test_odd_lengths_from_unlike_tuplets_write():
    """Found by random token soups: sums of unlike tuplets and very short notes leave holes in voices, or
    pieces of a note split at the bar line, that only a 2048th tuplet could fill ("Cannot convert "2048th"
    duration"). Such a hole gets a hidden rest; an incomplete tuplet of 128ths loses its ratio (music21 splits
    the next note to complete it)."""
    from model.tokenizers.lmx_bar import _PLAIN_LENGTHS, _music21_writable

    _written(["time", "D9", "128th", "16in11", "G8"])  # G8 was split to complete the tuplet
    assert "<time-modification>" not in delinearize(["time", "D9", "128th", "16in11", "G8"])
    triplet = ["C4", "128th", "3in2", "D4", "128th", "3in2", "E4", "128th", "3in2"]  # a whole one is kept
    assert "<time-modification>" in delinearize(["time", *triplet, "G8"])
    score = _written(["time", "A3", "256th", "A9", "64th", "7in10", "B9", "voice:7"])  # voice 7 at 47/448
    assert [n.nameWithOctave for n in score.recurse().notes] == ["A3", "A9", "B9"]
    assert any(r.style.hideObjectOnPrint for r in score.recurse().getElementsByClass("Rest"))
    _written(["time", "B3", "32nd", "12in13", "G4", "E2", "F4", "512th", "A6", "D1"])  # D1 at 1207/384
    _written(["time", "G5", "32nd", "10in13", "G6", "256th", "voice:4", "G4", "A5"])  # voice 1 ends at 13/80
    assert all(_music21_writable(q) for q in _PLAIN_LENGTHS)  # the shortcut of the check agrees with music21


def test_markings_and_forwards_past_the_bar_line_write():
    """Found by random token soups: a forward to no note far past the bar line, or a direction or key change
    after the notes of its staff at a time past the bar line or an odd one, made music21 fill the way to it
    with a rest it cannot write ("duplex-maxima", "2048th", "measure already found")."""
    _written(["beats:1", "E7", "forward", "maxima", "12in16", "key:fifths:-5"])
    _written(["time", "C6", "staff:4", "forward", "256th", "10in6", "bpm:58"])
    # staff 1 ends at 197/320 when the direction comes at 1: it goes where staff 1 ends
    score = _written(["time", "C4", "256th", "D4", "quarter", "10in6", "backup", "quarter", "E4", "staff:2",
                      "dynamics:p"])
    assert [n.nameWithOctave for n in score.recurse().notes] == ["C4", "D4", "E4"]
    # music21 puts a tempo in the top staff, whatever its staff
    _written(["time", "C4", "256th", "D4", "quarter", "10in6", "backup", "quarter", "E4", "staff:2",
              "metronome", "bpm:30", "staff:2"])
    _written(["beat-type:32", "C7", "G8", "key:fifths:1", "measure", "bpm:240", "staff:3", "C8",
              "key:fifths:3"])


def test_an_excerpt_keeps_no_tie_or_slur_its_edges_cut():
    """Half a tie or slur is not on an excerpt's page (no engraver draws one): its LMX is dropped; ties and
    slurs with both ends inside, and chains of ties through a note, are kept."""
    from music21 import note as m21note
    from music21 import spanner, stream, tie

    from model.tokenizers.lmx import without_cut_curves

    part = stream.Part()
    notes = [m21note.Note(p, quarterLength=2.0) for p in ("C5", "C5", "C5", "E5", "G4", "A4", "A4", "A4")]
    for k, kind in ((0, "start"), (1, "continue"), (2, "stop"), (5, "start"), (6, "continue"), (7, "stop")):
        notes[k].tie = tie.Tie(kind)
    for bar in range(4):
        m = stream.Measure(number=bar + 1)
        m.append(notes[2 * bar:2 * bar + 2])
        part.append(m)
    part.insert(0, spanner.Slur(notes[3], notes[4]))
    whole = linearize(stream.Score([part]))
    assert whole.count("tied:start") == 4 and whole.count("slur:start") == 1 and whole.count("tied:stop") == 4
    assert without_cut_curves(whole) == whole
    first, second, last = linearize_chunks(stream.Score([part]), [0, 1, 3])
    assert first.count("tied:start") == 2 and first.count("tied:stop") == 1
    kept = without_cut_curves(first)                       # C5-C5 inside; the second C5 tied on past the edge
    assert kept.count("tied:start") == 1 and kept.count("tied:stop") == 1
    assert kept.index("tied:start") < kept.index("tied:stop")
    kept = without_cut_curves(second)                      # C5's tie stop and A4's start cut; the slur inside
    assert kept.count("tied:stop") == 0 and kept.count("tied:start") == 0
    assert kept.count("slur:start") == 1 and kept.count("slur:stop") == 1
    kept = without_cut_curves(last)                        # A4 A4: the chain's middle keeps only its start
    assert kept.count("tied:start") == 1 and kept.count("tied:stop") == 1
    assert [t for t in kept if not t.startswith(("tied", "slur"))] == [
        t for t in last if not t.startswith(("tied", "slur"))]


def test_hidden_rests_after_a_measures_last_printed_note_are_dropped():
    """A hidden rest that only fills a short measure after its printed notes is not on the page: it is left
    out; one that places a later note in its voice, and a measure that is nothing but one, are kept."""
    from music21 import converter, meter, stream
    from music21 import note as m21note

    from model.tokenizers.lmx import delinearize, without_trailing_rests

    def hidden(length: float):
        r = m21note.Rest(quarterLength=length)
        r.style.hideObjectOnPrint = True
        return r

    part = stream.Part()
    bars = [[m21note.Note("C5", quarterLength=1.0), m21note.Note("D5", quarterLength=1.0), hidden(2.0)],
            [hidden(1.0), m21note.Note("E5", quarterLength=3.0)],
            [hidden(4.0)],
            [m21note.Note("F5", quarterLength=1.0), hidden(1.0), hidden(2.0)]]
    for k, notes in enumerate(bars):
        m = stream.Measure(number=k + 1)
        if k == 0:
            m.append(meter.TimeSignature("4/4"))
        m.append(notes)
        part.append(m)
    part.getElementsByClass("Measure").last().rightBarline = "final"
    lmx = linearize(stream.Score([part]))
    assert lmx.count("print-object:no") == 5
    kept = without_trailing_rests(lmx)
    assert kept.count("print-object:no") == 2                 # bar 2's leading rest and bar 3's whole one
    assert kept[-1] == lmx[-1] and kept.count("measure") == 4  # the final bar line stays
    score = converter.parseData(delinearize(kept), format="musicxml")
    measures = list(score.parts[0].getElementsByClass("Measure"))
    assert [float(m.duration.quarterLength) for m in measures] == [2.0, 4.0, 4.0, 1.0]
    assert [(n.nameWithOctave, float(n.offset)) for n in measures[1].recurse().notes] == [("E5", 1.0)]
    assert without_trailing_rests(kept) == kept
