"""Performance MIDI -> a score a musician can read: beats, meter, key, hands and voices recovered.

:func:`performance_to_score` runs the steps in order: notes grouped into onsets, beats tracked through
rubato (:mod:`.beats`), onsets and note ends quantised per beat (:mod:`.quantise`), one piano track
split into two hands or each track kept as its own staff (:mod:`.hands`), voices within a staff, the
meter and pickup (:mod:`.meter`), the key and the spelling (:mod:`.key`), and the score assembled
(:mod:`.assemble`).
"""

from model.notate.score import describe_route, performance_to_score

__all__ = ["describe_route", "performance_to_score"]
