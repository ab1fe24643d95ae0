"""The translation graph: which modality goes to which, by what, and the route between any two.

Both the command line and the app ask this module for routes, so they agree on what is possible.
Exact edges are algorithms (engraving, performing, synthesis, quantising); model edges need weights.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from model.io.types import Modality

IMAGE, NOTATION, MIDI, AUDIO = Modality.IMAGE, Modality.NOTATION, Modality.MIDI, Modality.AUDIO


@dataclass(frozen=True)
class Edge:
    src: Modality
    dst: Modality
    name: str
    needs_model: bool


EDGES: tuple[Edge, ...] = (
    Edge(NOTATION, IMAGE, "engrave with Verovio", False),
    Edge(NOTATION, MIDI, "perform (repeats, tempo, dynamics)", False),
    Edge(MIDI, AUDIO, "synthesise with FluidSynth", False),
    Edge(
        MIDI,
        NOTATION,
        "write the score (music21 quantiser; the model for a played one-instrument performance)",
        False,
    ),
    Edge(IMAGE, NOTATION, "recognise the score (model)", True),
    Edge(AUDIO, MIDI, "transcribe the recording (model)", True),
)


def route(src: Modality, dst: Modality) -> list[Edge]:
    """The shortest chain of edges from ``src`` to ``dst`` (empty when they are the same)."""
    if src == dst:
        return []
    prev: dict[Modality, Edge] = {}
    queue = deque([src])
    seen = {src}
    while queue:
        node = queue.popleft()
        for edge in EDGES:
            if edge.src == node and edge.dst not in seen:
                seen.add(edge.dst)
                prev[edge.dst] = edge
                if edge.dst == dst:
                    path = [edge]
                    while path[0].src != src:
                        path.insert(0, prev[path[0].src])
                    return path
                queue.append(edge.dst)
    raise ValueError(f"no route from {src.value} to {dst.value}")


def best_route(sources, dst: Modality) -> list[Edge]:
    """The route to ``dst`` from the best of ``sources`` (modalities at hand): exact routes before model ones,
    then the fewest steps, then the first given. Empty when no source differs from ``dst``."""
    best: list[Edge] = []
    key = None
    for src in sources:
        if src == dst:
            continue
        steps = route(src, dst)
        k = (any(e.needs_model for e in steps), len(steps))
        if key is None or k < key:
            best, key = steps, k
    return best


def needs_model(src: Modality, dst: Modality) -> bool:
    return any(e.needs_model for e in route(src, dst))


def describe(src: Modality, dst: Modality) -> str:
    steps = route(src, dst)
    if not steps:
        return "re-encode"
    return " -> ".join(e.name for e in steps)


def supported_pairs() -> list[tuple[Modality, Modality, str, bool]]:
    """Every (source, target, how, needs model) pair, for ``--help`` and the app's menus."""
    out = []
    for s in Modality:
        for d in Modality:
            out.append((s, d, describe(s, d), needs_model(s, d) if s != d else False))
    return out
