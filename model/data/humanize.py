"""Human-like performances of score-exact MIDI, aligned with the score by construction.

:func:`humanize` returns a NEW ``PrettyMIDI`` (the input is never changed) that plays the same notes
as a person might:

* a smooth tempo curve: local tempo within about +-8 % (at ``amount`` 1) that drifts slowly, a
  ritardando into every phrase end (every 4 bars; 2 or 8 for very long or short bars) that is made
  up over the next phrase, and a final ritardando. The cumulative drift stays small (a few tenths
  of a second), so the performance keeps the score's overall tempo;
* onset jitter: per chord (about 8-15 ms std) and per note (3-6 ms);
* hands not together: the second and later instruments (or, with one instrument, the notes below
  middle C) are offset by a few ms, and a melody note on top of a chord leads it by 5-30 ms;
* velocity: a slow dynamic curve, a swell within each phrase, per-note variation (at most +-8),
  melody notes a little louder;
* articulation: legato notes held 80-100 % of their written length, staccato-like notes (short, with
  a written gap after them) 45-80 %;
* sustain pedal (CC64, 127 = down, 0 = up) on piano instruments (programs 0-7) when ``pedal``:
  pressed 50-150 ms after each new bass note / harmony change (at most once a beat, at least once
  a bar while there are notes), released 10-60 ms before the next change, and up at the end.

Alignment: note ``i`` of instrument ``k`` in the output is the performance of note ``i`` of
instrument ``k`` in the input (same instruments, same order, same pitches). Notes keep the input's
order (so a time-sorted input gives a list sorted up to the few-ms jitter inside chords). All times
are >= 0, every note lasts at least 30 ms, velocities are 1..127. ``amount`` 0 keeps the timing and
velocities exact (only the pedal is added). Everything comes from the generator passed in.
"""

from __future__ import annotations

import numpy as np

__all__ = ["humanize"]

_DT = 0.01          # grid step of the tempo curve (s)
_MIN_DUR = 0.03     # shortest performed note (s)


class _Warp:
    """Score time -> performed time: a monotone map sampled on a grid, linear beyond it."""

    def __init__(self, grid: np.ndarray, values: np.ndarray):
        self.grid, self.values = grid, values
        self.end_rate = float((values[-1] - values[-2]) / (grid[-1] - grid[-2])) if grid.size > 1 else 1.0

    def __call__(self, t):
        t = np.asarray(t, dtype=np.float64)
        out = np.interp(t, self.grid, self.values)
        beyond = t > self.grid[-1]
        if np.any(beyond):
            out = np.where(beyond, self.values[-1] + (t - self.grid[-1]) * self.end_rate, out)
        return out


def _smooth_curve(rng: np.random.Generator, t: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random curve (cubic spline through N(0, 1) knots ``spacing`` apart) and its derivative."""
    from scipy.interpolate import CubicSpline

    n = max(4, int(np.ceil(t[-1] / spacing)) + 2)
    knots = np.arange(n) * spacing
    spline = CubicSpline(knots, rng.standard_normal(n), bc_type="natural")
    return spline(t), spline(t, 1)


def _bars(pm, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Beat and downbeat times (score time), at least one bar, covering ``end``."""
    try:
        beats = np.asarray(pm.get_beats(), dtype=np.float64)
        downbeats = np.asarray(pm.get_downbeats(), dtype=np.float64)
    except Exception:  # noqa: BLE001 - odd tempo maps: fall back to 120 bpm 4/4
        beats = downbeats = np.zeros(0)
    if beats.size < 2:
        beats = np.arange(0.0, end + 0.5, 0.5)
    if downbeats.size < 1:
        downbeats = beats[::4]
    return beats, downbeats


def _tempo_warp(rng: np.random.Generator, pm, end: float, amount: float,
                beats: np.ndarray, downbeats: np.ndarray, last_onset: float) -> tuple[_Warp, list]:
    grid = np.arange(0.0, end + 2.0 + _DT, _DT)
    # slow tempo wander: drift D(t) with |D'| <= ~8 % and |D| <= 0.18 s (times amount)
    d, dd = _smooth_curve(rng, grid, rng.uniform(2.0, 4.0))
    d0 = d - d[0]
    scale = min(rng.uniform(0.5, 1.0) * 0.08 / max(float(np.abs(dd).max()), 1e-9),
                0.18 / max(float(np.abs(d0).max()), 1e-9))
    rate = 1.0 + amount * scale * dd
    # phrase-end ritardandi, made up by a slightly quicker next phrase
    bar = float(np.median(np.diff(downbeats))) if downbeats.size > 1 else 2.0
    beat = float(np.median(np.diff(beats))) if beats.size > 1 else 0.5
    per = 2 if bar > 4.0 else (8 if bar < 1.2 else 4)
    bounds = [b for b in downbeats[per::per] if b < last_onset - 0.5 * bar]
    phrase_len = per * bar
    for b in bounds:
        w = rng.uniform(1.0, 2.0) * beat
        rho = rng.uniform(0.05, 0.2) * amount
        sel = (grid > b - w) & (grid <= b)
        rate[sel] += rho * ((grid[sel] - (b - w)) / w) ** 2
        area = rho * w / 3.0
        sel2 = (grid > b) & (grid <= b + phrase_len)
        rate[sel2] -= area / phrase_len
    w = rng.uniform(1.0, 2.5) * beat
    rho = rng.uniform(0.1, 0.3) * amount
    sel = grid > last_onset - w
    rate[sel] += rho * np.clip((grid[sel] - (last_onset - w)) / w, 0.0, 1.0) ** 2
    rate = np.maximum(rate, 0.5)
    values = np.concatenate([[0.0], np.cumsum((rate[1:] + rate[:-1]) * 0.5 * _DT)])
    return _Warp(grid, values), bounds


def _leads(group: np.ndarray, pitches: np.ndarray, drum: np.ndarray) -> np.ndarray:
    """The top note of each chord (notes of one ``group``) clearly (3 semitones) above the rest."""
    n = pitches.size
    is_lead = np.zeros(n, dtype=bool)
    if n:
        order = np.lexsort((-pitches, group))
        first = np.ones(n, dtype=bool)
        first[1:] = group[order][1:] != group[order][:-1]
        for pos in np.nonzero(first)[0]:
            top = order[pos]
            if drum[top]:
                continue
            nxt = pos + 1
            if nxt < n and group[order[nxt]] == group[top] and pitches[top] - pitches[order[nxt]] >= 3:
                is_lead[top] = True
    return is_lead


def _release_repeats(instruments: int, inst_of: np.ndarray, pitches: np.ndarray, p_start: np.ndarray,
                     p_end: np.ndarray) -> None:
    """A repeated pitch must be released before it is struck again (``p_end`` changed in place)."""
    for k in range(instruments):
        idx = np.nonzero(inst_of == k)[0]
        for pitch in np.unique(pitches[idx]):
            same = idx[pitches[idx] == pitch]
            if same.size < 2:
                continue
            same = same[np.argsort(p_start[same], kind="stable")]
            for a, b in zip(same[:-1], same[1:]):
                limit = p_start[b] - 0.005
                if p_end[a] > limit:
                    p_end[a] = max(limit, p_start[a] + _MIN_DUR)


def _assemble(pm, out, v: np.ndarray, p_start: np.ndarray, p_end: np.ndarray, warp) -> None:
    """The performed notes into ``out``, with the controllers, pitch bends, signatures, lyrics and texts of
    ``pm`` moved to performed time."""
    import pretty_midi

    pos = 0
    for inst in pm.instruments:
        new = pretty_midi.Instrument(program=inst.program, is_drum=inst.is_drum, name=inst.name)
        for note in inst.notes:
            new.notes.append(pretty_midi.Note(velocity=int(v[pos]), pitch=int(note.pitch),
                                              start=float(p_start[pos]), end=float(p_end[pos])))
            pos += 1
        for cc in inst.control_changes:
            new.control_changes.append(
                pretty_midi.ControlChange(cc.number, cc.value, max(0.0, float(warp(cc.time))))
            )
        for pb in inst.pitch_bends:
            new.pitch_bends.append(pretty_midi.PitchBend(pb.pitch, max(0.0, float(warp(pb.time)))))
        out.instruments.append(new)

    for ts in pm.time_signature_changes:
        out.time_signature_changes.append(pretty_midi.TimeSignature(ts.numerator, ts.denominator,
                                                                    max(0.0, float(warp(ts.time)))))
    for ks in pm.key_signature_changes:
        out.key_signature_changes.append(
            pretty_midi.KeySignature(ks.key_number, max(0.0, float(warp(ks.time))))
        )
    for ly in pm.lyrics:
        out.lyrics.append(pretty_midi.Lyric(ly.text, max(0.0, float(warp(ly.time)))))
    for tx in getattr(pm, "text_events", []):
        out.text_events.append(pretty_midi.Text(tx.text, max(0.0, float(warp(tx.time)))))


def humanize(pm, rng: np.random.Generator, amount: float = 1.0, pedal: bool = True):
    """A human-like performance of score-exact MIDI (a new ``pretty_midi.PrettyMIDI``).

    Args:
        pm: the score-exact ``pretty_midi.PrettyMIDI`` (not modified).
        rng: the source of every random choice.
        amount: 0 (exact timing and velocities) to 1 (a typical performance); larger exaggerates.
        pedal: add sustain pedal (CC64) to piano instruments (programs 0-7) that have none.

    Returns:
        A new ``PrettyMIDI``: note ``i`` of instrument ``k`` performs input note ``i`` of instrument ``k``.
    """
    import pretty_midi

    amount = max(0.0, float(amount))
    try:
        tempo0 = float(pm.get_tempo_changes()[1][0])
    except Exception:  # noqa: BLE001
        tempo0 = 120.0
    out = pretty_midi.PrettyMIDI(resolution=pm.resolution, initial_tempo=tempo0)

    notes = [(k, i, n) for k, inst in enumerate(pm.instruments) for i, n in enumerate(inst.notes)]
    end = max([float(pm.get_end_time()), 0.0] + [n.end for _, _, n in notes])
    starts = np.array([n.start for _, _, n in notes], dtype=np.float64)
    ends = np.array([n.end for _, _, n in notes], dtype=np.float64)
    pitches = np.array([n.pitch for _, _, n in notes], dtype=np.int64)
    vels = np.array([n.velocity for _, _, n in notes], dtype=np.float64)
    inst_of = np.array([k for k, _, _ in notes], dtype=np.int64)
    drum = np.array([pm.instruments[k].is_drum for k, _, _ in notes], dtype=bool)
    last_onset = float(starts.max()) if starts.size else 0.0

    beats, downbeats = _bars(pm, end)
    warp, bounds = _tempo_warp(rng, pm, end, amount, beats, downbeats, last_onset)

    # ---- timing ----
    n = starts.size
    group_key = np.round(starts * 1000.0).astype(np.int64)  # notes struck together in the score
    empty = (np.zeros(0), np.zeros(0, dtype=np.int64))
    uniq, group = np.unique(group_key, return_inverse=True) if n else empty
    sd_group = rng.uniform(0.008, 0.015) * amount
    sd_note = rng.uniform(0.003, 0.006) * amount
    g_jit = np.clip(rng.standard_normal(uniq.size) * sd_group, -3 * sd_group, 3 * sd_group)
    n_jit = np.clip(rng.standard_normal(n) * sd_note, -3 * sd_note, 3 * sd_note)
    offset = g_jit[group] + n_jit if n else np.zeros(0)
    # hands: later instruments, or the notes below middle C of a lone instrument
    melodic = [k for k, inst in enumerate(pm.instruments) if not inst.is_drum]
    hand = rng.uniform(-0.015, 0.015, size=max(1, len(pm.instruments))) * amount
    if len(melodic) >= 2:
        for k in melodic[1:]:
            offset[inst_of == k] += hand[k]
    elif n:
        offset[(pitches < 60) & ~drum] += hand[0]
    # melody lead: the top note of a chord, clearly above the rest, comes early and a little louder
    lead_mean = rng.uniform(0.005, 0.03) * amount
    is_lead = _leads(group, pitches, drum)
    if n:
        n_lead = int(is_lead.sum())
        offset[is_lead] -= np.clip(lead_mean + rng.standard_normal(n_lead) * 0.004 * amount, 0.0,
                                   0.035 * amount)
    p_start = np.maximum(warp(starts) + offset, 0.0) if n else np.zeros(0)

    # ---- articulation ----
    legato = rng.uniform(0.85, 0.97)
    art = np.clip(legato + rng.standard_normal(n) * 0.03, 0.8, 1.0)
    for k in range(len(pm.instruments)):
        idx = np.nonzero(inst_of == k)[0]
        if idx.size < 2:
            continue
        on = np.unique(starts[idx])
        nxt = np.searchsorted(on, starts[idx], side="right")
        has_next = nxt < on.size
        next_on = np.where(has_next, on[np.minimum(nxt, on.size - 1)], np.inf)
        dur = ends[idx] - starts[idx]
        stacc = has_next & (dur < 0.5) & (dur < 0.6 * (next_on - starts[idx]))
        art[idx[stacc]] = rng.uniform(0.45, 0.8, size=int(stacc.sum()))
    art = 1.0 - amount * (1.0 - art)
    p_dur = np.maximum((warp(ends) - warp(starts)) * art, _MIN_DUR) if n else np.zeros(0)
    p_end = p_start + p_dur
    _release_repeats(len(pm.instruments), inst_of, pitches, p_start, p_end)

    # ---- velocity ----
    grid_t = np.linspace(0.0, end + 1.0, max(8, int((end + 1.0) * 10)))
    curve, _ = _smooth_curve(rng, grid_t, rng.uniform(3.0, 6.0))
    swell = np.zeros_like(grid_t)
    edges = np.concatenate([[0.0], np.asarray(bounds, dtype=np.float64), [max(end, 1e-3)]])
    for a, b in zip(edges[:-1], edges[1:]):
        sel = (grid_t >= a) & (grid_t < b)
        if b > a:
            swell[sel] = np.sin(np.pi * (grid_t[sel] - a) / (b - a))
    dyn = amount * (rng.uniform(4.0, 10.0) * curve + rng.uniform(2.0, 8.0) * (swell - 0.5))
    v = vels + np.interp(starts, grid_t, dyn) if n else vels
    v = v + np.clip(rng.standard_normal(n) * 4.0, -8.0, 8.0) * amount
    v[is_lead] += rng.uniform(3.0, 10.0) * amount
    v = np.clip(np.round(v), 1, 127).astype(int)

    _assemble(pm, out, v, p_start, p_end, warp)

    if pedal:
        _add_pedal(rng, out, starts, pitches, inst_of, drum, p_start, p_end, beats, downbeats)
    return out


def _add_pedal(rng, out, starts, pitches, inst_of, drum, p_start, p_end, beats, downbeats) -> None:
    """Sustain pedal on the piano instruments: a change at each new bass note / harmony (score time),
    pressed shortly after it is played and released just before the next one."""
    import pretty_midi

    pianos = [k for k, inst in enumerate(out.instruments)
              if not inst.is_drum and 0 <= inst.program <= 7 and inst.notes
              and not any(cc.number == 64 for cc in inst.control_changes)]
    if not pianos:
        return
    sel = np.isin(inst_of, pianos) & ~drum
    idx = np.nonzero(sel)[0]
    if idx.size == 0:
        return
    beat_len = float(np.median(np.diff(beats))) if beats.size > 1 else 0.5
    min_beats = 2 if beat_len < 0.35 else 1
    bar_beats = 4
    if downbeats.size > 1 and beats.size > 1:
        per_bar = np.diff(np.searchsorted(beats, downbeats - 1e-6))
        if per_bar.size:
            bar_beats = max(1, int(np.median(per_bar)))
    eps = 1e-3
    slot = np.clip(np.searchsorted(beats, starts[idx] + eps, side="right") - 1, 0, None)
    changes = []          # (index of the note that marks the change)
    last_slot, last_bass, held = None, None, set()
    for b in np.unique(slot):
        members = idx[slot == b]
        bass_note = members[np.argmin(pitches[members] * 10000 + starts[members])]
        bass = int(pitches[bass_note])
        pcs = {int(p) % 12 for p in pitches[members]}
        first_note = members[np.argmin(starts[members])]
        mark = bass_note if abs(starts[bass_note] - starts[first_note]) < 0.05 else first_note
        if last_slot is None:
            changes.append(mark)
            last_slot, last_bass, held = b, bass, set(pcs)
            continue
        since = b - last_slot
        new_pcs = pcs - held
        on_downbeat = downbeats.size > 0 and np.min(np.abs(downbeats - beats[min(b, beats.size - 1)])) < eps
        harmony = (bass != last_bass and bass <= last_bass + 7) or len(new_pcs) >= 2
        if since >= min_beats and (harmony or (since >= bar_beats and on_downbeat)):
            changes.append(mark)
            last_slot, last_bass, held = b, bass, set(pcs)
        else:
            held |= pcs
    events = []
    press = p_start[changes] + rng.uniform(0.05, 0.15, size=len(changes))
    release = np.append(p_start[changes[1:]] - rng.uniform(0.01, 0.06, size=len(changes) - 1),
                        float(p_end[idx].max()) + rng.uniform(0.1, 0.4))
    for on, off in zip(press, release):
        if off - on < 0.08:
            continue
        if events and on <= events[-1][1] + 0.01:
            events[-1] = (events[-1][0], max(events[-1][1], off))
            continue
        events.append((float(on), float(off)))
    for k in pianos:
        inst = out.instruments[k]
        for on, off in events:
            inst.control_changes.append(pretty_midi.ControlChange(64, 127, on))
            inst.control_changes.append(pretty_midi.ControlChange(64, 0, off))
        inst.control_changes.sort(key=lambda c: c.time)

