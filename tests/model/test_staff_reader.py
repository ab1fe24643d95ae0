"""The staff reader's parts: strips cut at a fixed size per staff space, the network's shapes, CTC decoding."""

import numpy as np
import pytest
import torch

from model.omr.crnn import ReaderConfig, StaffReader, greedy_decode
from model.omr.strips import STAFF_SPACE, STRIP_HEIGHT, staff_strips

GRAND = """<?xml version="1.0"?><score-partwise version="3.1"><part-list><score-part id="P1"><part-name/></score-part>
</part-list><part id="P1"><measure number="1"><attributes><divisions>1</divisions><key><fifths>0</fifths></key>
<time><beats>4</beats><beat-type>4</beat-type></time><staves>2</staves><clef number="1"><sign>G</sign><line>2</line>
</clef><clef number="2"><sign>F</sign><line>4</line></clef></attributes>
<note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration><voice>1</voice><type>whole</type><staff>1</staff></note>
<backup><duration>4</duration></backup>
<note><pitch><step>C</step><octave>3</octave></pitch><duration>4</duration><voice>5</voice><type>whole</type><staff>2</staff></note>
</measure></part></score-partwise>"""


def _engrave(xml: str, space_px: float) -> np.ndarray:
    import verovio

    from model.engrave import svg_to_array

    tk = verovio.toolkit()
    tk.setOptions({"breaks": "none", "adjustPageHeight": True, "adjustPageWidth": True, "header": "none",
                   "footer": "none", "mmOutput": True, "scale": 100})
    assert tk.loadData(xml)
    return svg_to_array(tk.renderToSVG(1), dpi=int(space_px / 1.8 * 25.4))


@pytest.mark.parametrize("space_px", [10.0, 15.0])
def test_grand_staff_becomes_two_strips_with_lines_at_fixed_rows(space_px):
    systems, _ = staff_strips(_engrave(GRAND, space_px))
    assert [len(row) for row in systems] == [2]
    for strip in systems[0]:
        assert strip.image.shape[0] == STRIP_HEIGHT
        profile = strip.image.mean(axis=1)
        centre = STRIP_HEIGHT // 2
        # the five staff lines are the darkest rows, one staff space apart around the middle
        lines = sorted(np.argsort(profile)[-5:])
        expected = [centre + k * STAFF_SPACE for k in (-2, -1, 0, 1, 2)]
        assert all(abs(a - b) <= 1.5 for a, b in zip(lines, expected)), (lines, expected)
    a, b = systems[0]
    assert a.image.shape[1] == b.image.shape[1]        # shared system edges: columns line up
    assert a.box[1] < b.box[1]


def test_reader_output_positions_follow_strip_width():
    torch.manual_seed(0)
    model = StaffReader(ReaderConfig(classes=20, slots=3)).eval()
    x = torch.rand(2, 1, STRIP_HEIGHT, 96)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 96 // 4 * 3, 20)
    assert torch.allclose(y.exp().sum(-1), torch.ones(2, 72), atol=1e-4)
    assert model.output_lengths(torch.tensor([96, 40])).tolist() == [72, 30]


def test_greedy_decode_drops_blanks_and_repeats_and_keeps_positions():
    path = [0, 3, 3, 0, 3, 5, 5, 0, 0]
    lp = torch.full((1, len(path), 6), -10.0)
    for t, k in enumerate(path):
        lp[0, t, k] = 0.0
    ((ids, probs, pos),) = greedy_decode(lp, torch.tensor([len(path)]))
    assert ids == [3, 3, 5]
    assert pos == [1, 4, 5]
    assert all(p > 0.99 for p in probs)
    ((ids, _, _),) = greedy_decode(lp, torch.tensor([3]))   # only the first three positions count
    assert ids == [3]
