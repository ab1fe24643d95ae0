"""Procedurally written piano music (training data, issue 4 item 1).

:func:`generate_piece` writes a short piano piece for a seed: a grand staff (one ``instrument.Piano``
part as two ``stream.PartStaff`` objects in a brace ``layout.StaffGroup``) or, for about 15% of the
seeds, a single-staff melody. Everything is deterministic for a seed (a private ``random.Random``).

How a piece is made:

* A plan of phrases (4 bars, the last one absorbs a remainder). Each phrase has a key (key changes at
  phrase boundaries, sometimes with a double bar), a time signature (time changes at phrase
  boundaries), a texture for each hand, an activity level (slow/medium/fast rhythms), a dynamic, and
  flags for staccato/legato playing.
* A harmonic plan per phrase: a Markov chain over functional harmony (I-IV-V-vi and friends, minor
  keys with a raised leading tone), secondary dominants (V/V, V/vi, V7/IV, ...), the Neapolitan and
  borrowed iv, inversions, and a cadence at the phrase end (authentic on the last phrase, half or
  authentic elsewhere).
* Pitches are kept as ``(diatonic index, alter)`` pairs (diatonic index = octave * 7 + letter), so
  everything is spelled from the key and the chord; the melody puts chord tones on strong beats and
  fills the weak ones with passing and neighbour tones, some of them chromatic.
* Rhythms are chosen cell by cell from the beat units of the meter (simple or compound), so every
  voice of every measure is full by construction (and checked).
* Textures: melody (with ornaments, grace notes, slurs, articulations), melody harmonised in thirds
  and sixths, melody in octaves, two and three voices in one staff (held notes under moving ones),
  block chords, scales and runs (16ths, triplets, quintuplets, sextuplets), arpeggios; in the left
  hand Alberti bass, block chords, broken chords across octaves, octaves, waltz and oom-pah
  accompaniments, a held bass under a moving voice, sustained chords, walking bass, runs; and a
  four-part chorale split across the staves.
* Accidentals are decided here (key signature, earlier accidentals of the bar, ties) including
  cautionary ones in the bar after an alteration; the left hand changes to the treble clef when it
  climbs.

The package, by what it writes: :mod:`.theory` (keys, meters, chords), :mod:`.events` (what a piece is made
of), :mod:`.rhythm`, :mod:`.melody`, :mod:`.right_hand`, :mod:`.left_hand`, :mod:`.chorale`, :mod:`.plan` (the
phrases and their writing), :mod:`.marks` (pedal, ties, clefs, accidentals), :mod:`.to_music21`, :mod:`.piece`
(:func:`generate_piece`) and :mod:`.features` (:func:`count_features`).

Command line (a quick look and timing)::

    python -m model.data.generate --seed 1 --count 20 [--out DIR] [--measures 8] [--style waltz]
"""

from model.data.generate.features import count_features
from model.data.generate.piece import generate_piece
from model.data.generate.plan import STYLES

__all__ = ["STYLES", "count_features", "generate_piece"]
