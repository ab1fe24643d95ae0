"""Text on the page around the staves, which the reader must learn to look past.

Real scores carry words the reader does not write (LMX keeps none of them): lyrics under a vocal line,
tempo and expression words (*Allegro moderato*, *cresc.*, *dolce*), chord symbols over a lead sheet,
rehearsal marks, fingerings over a pianist's notes.
The training excerpts are engraved from their LMX, so they had none, and a reader that never saw text
took it for symbols: on 60 validation-split excerpts with such text added, the reader shipped in session 17
went from 10.5% to 13.4% LMX SER. :func:`add_text` writes such text into an excerpt's MusicXML before it is
engraved; the symbols to read stay exactly those of the LMX.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

SYLLABLES = ("la le lo mi do re sanc tus glo ri a in ex cel sis De o et ter ra pax ho mi ni bus bo nae vo "
             "lun ta tis Herr Gott dich lo ben wir the Lord is my shep herd love heart night day ah").split()
WORDS = ("dolce", "cresc.", "dim.", "rit.", "a tempo", "Allegro moderato", "legato", "poco a poco",
         "espress.", "Andante", "sempre p", "rall.", "Tempo I", "con moto", "sotto voce", "Fine",
         "D.C. al Fine", "Moderato", "cantabile", "marcato")
CHORDS = ("C", "G7", "Am", "F", "Dm7", "E7", "Bb", "Cmaj7", "F#m7b5", "Eb", "D/F#", "Gsus4", "A7", "Bdim")


def _staff(note: ET.Element) -> str:
    st = note.find("staff")
    return st.text if st is not None and st.text else "1"


def _notations(note: ET.Element) -> ET.Element:
    found = note.find("notations")
    if found is not None:
        return found
    made = ET.Element("notations")
    lyric = next((k for k, child in enumerate(note) if child.tag == "lyric"), None)
    note.insert(len(note) if lyric is None else lyric, made)
    return made


def add_text(musicxml: str, rng: np.random.Generator, lyrics: float = 0.4, words: float = 0.3,
             fingering: float = 0.3) -> str:
    """``musicxml`` with, each drawn apart: lyrics (one or two verses) under one staff's notes (with
    probability ``lyrics``), words, chord symbols or rehearsal marks at measure starts (a share ``words`` of
    the measures, where drawn), and fingerings on a share of the notes (with probability ``fingering``)."""
    root = ET.fromstring(musicxml)
    for part in root.iter("part"):
        notes = [n for n in part.iter("note") if n.find("rest") is None and n.find("grace") is None]
        staves = sorted({_staff(n) for n in notes}) or ["1"]
        if rng.random() < fingering:
            share = float(rng.uniform(0.2, 0.8))
            for n in notes:
                if rng.random() < share:
                    technical = ET.SubElement(_notations(n), "technical")
                    ET.SubElement(technical, "fingering").text = str(int(rng.integers(1, 6)))
        if rng.random() < lyrics:
            staff, verses = str(rng.choice(staves)), int(rng.integers(1, 3))
            for n in notes:
                if n.find("chord") is None and _staff(n) == staff:
                    for verse in range(1, verses + 1):
                        lyric = ET.SubElement(n, "lyric", number=str(verse))
                        ET.SubElement(lyric, "syllabic").text = "single"
                        ET.SubElement(lyric, "text").text = str(rng.choice(SYLLABLES))
        share = words if rng.random() < 0.5 else 0.0
        for measure in part.iter("measure"):
            if rng.random() >= share:
                continue
            direction = ET.Element("direction", placement=str(rng.choice(["above", "below"])))
            kind = rng.random()
            if kind < 0.15:      # a rehearsal mark in a box
                direction.set("placement", "above")
                kind_el = ET.SubElement(direction, "direction-type")
                mark = ET.SubElement(kind_el, "rehearsal", enclosure="square")
                mark.text = str(rng.choice(list("ABCDEFG")))
            else:                # words, or a chord symbol written above as a lead sheet has it
                text = ET.SubElement(ET.SubElement(direction, "direction-type"), "words")
                chord = kind < 0.35
                text.text = str(rng.choice(CHORDS if chord else WORDS))
                if chord:
                    direction.set("placement", "above")
                elif rng.random() < 0.6:
                    text.set("font-style", "italic")
            if len(staves) > 1:
                ET.SubElement(direction, "staff").text = str(rng.choice(staves))
            at = next((k for k, child in enumerate(measure) if child.tag in ("note", "backup", "forward")),
                      len(measure))
            measure.insert(at, direction)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
