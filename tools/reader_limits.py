"""What limits the staff reader: two measurements on the training's own staves, no evaluation pipeline.

    python -m tools.reader_limits [--weights model/weights] [--train-staves 300]

- **Fit.** The symbol error rate on staves of training-split pieces (drawn as training draws them, with a
  seed of their own) beside the fixed validation staves. Both high and close: the reader underfits, and
  more hours or more capacity pay. Training far below validation: it learns the pieces, and data pays.
- **Detail.** The validation staves again, each strip shrunk to 7/8, 3/4 and 5/8 of its size and enlarged
  back (the detail of 7, 6 and 5 pixels a staff space, at the reader's own size). When losing a quarter
  of the pixels costs little, a reader made for larger strips (``python -m model.training.reader --space``)
  would gain little more.

The training-split staves are kept in ``data/staff_trainset.npz`` (made once, about a minute).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

TRAINSET = Path("data/staff_trainset.npz")


def less_detail(strip: np.ndarray, factor: float) -> np.ndarray:
    """``strip`` (uint8) shrunk by ``factor`` (box filter) and enlarged back to its size (bilinear)."""
    from PIL import Image

    h, w = strip.shape
    small = Image.fromarray(strip).resize((max(8, round(w * factor)), max(8, round(h * factor))), Image.BOX)
    return np.asarray(small.resize((w, h), Image.BILINEAR))


def main(argv=None) -> int:
    import torch

    from model.inference.staff_reader import StaffReaderEngine
    from model.training.reader import VALSET, evaluate_ser, validation_set

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="model/weights")
    ap.add_argument("--pool", default="data/staff_train.jsonl.gz")
    ap.add_argument("--val-pool", default="data/staff_val.jsonl.gz")
    ap.add_argument("--train-staves", type=int, default=300)
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    model = StaffReaderEngine(args.weights).model
    space = model.config.space
    val = validation_set(Path(args.val_pool), space=space, path=VALSET)
    train = validation_set(Path(args.pool), args.train_staves, 999, TRAINSET, space=space)
    print("| staves | SER |\n| --- | --- |")
    print(f"| training-split pieces, {len(train)} | {100 * evaluate_ser(model, train)[0]:.2f}% |")
    print(f"| validation, {len(val)} | {100 * evaluate_ser(model, val)[0]:.2f}% |")
    for factor in (0.875, 0.75, 0.625):
        shrunk = [(less_detail(s, factor), t) for s, t in val]
        print(f"| validation, the detail of {space * factor:g} px a staff space | "
              f"{100 * evaluate_ser(model, shrunk)[0]:.2f}% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
