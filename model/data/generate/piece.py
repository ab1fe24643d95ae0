"""The public entry point: a piece for a seed."""

from __future__ import annotations

import random
from typing import Optional

from model.data.generate.marks import _accidentals, _check_full, _clefs, _lh_ties
from model.data.generate.plan import _STYLE_DEFS, _STYLE_WEIGHTS, STYLES, _plan, _write
from model.data.generate.theory import _wchoice
from model.data.generate.to_music21 import _to_music21


def generate_piece(seed: int, measures: int = 8, style: Optional[str] = None):
    """Write a piano piece for ``seed`` (deterministic) as a music21 ``stream.Score``.

    Args:
        seed: any integer; the same seed (with the same other arguments) gives the same piece.
        measures: number of measures (>= 1), numbered from 1.
        style: one of :data:`STYLES`, or None to pick one at random (about 15% single-staff melodies).

    Returns:
        A Score with one piano part on two staves (``PartStaff`` pair in a brace ``StaffGroup``), or a
        single ``Part`` for the ``melody`` style.
    """
    if measures < 1:
        raise ValueError("measures must be >= 1")
    rng = random.Random(f"unimt-generate:{seed}")
    if style is None:
        style = _wchoice(rng, _STYLE_WEIGHTS)
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    plan = _plan(rng, measures, style)
    _write(rng, plan, _STYLE_DEFS[style])
    if plan.lh is not None:
        _lh_ties(rng, plan.lh)
    _clefs(plan)
    for staff in (plan.rh, plan.lh):
        if staff is not None:
            _accidentals(rng, staff, plan.bar_key)
    _check_full(plan)
    score = _to_music21(plan)
    score.generator_style = style   # for statistics
    return score
