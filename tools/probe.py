"""Does an image reader use the page? Teacher-forced loss with each system's own image, another system's
image and a blank page; and, for weights with a CTC head, how well the image memory alone reads.

    python -m tools.probe WEIGHTS [--data data/v4] [--count 40]

A decoder that has learned only the notation's prior scores about the same on all three images; one that
reads scores much better on its own image. The CTC read-out decodes the CTC head greedily and compares it with
the system's LMX in column order (:mod:`model.tokenizers.lmx_visual`): a symbol error rate of the encoder's
reading, before the decoder writes anything. Validation split only.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys


def page_use(model, source, count: int = 40, task: str = "image2lmx") -> dict:
    """Mean loss per token on own / another's / blank images over ``count`` validation systems of ``source``,
    and the CTC read-out SER when the model has a CTC head and the vocabulary an LMX range."""
    import torch

    from model.batching import collate
    from model.metrics import edit_distance
    from model.training.train import ctc_targets, lmx_range_of

    meta = source.meta()["vocab"]
    bos, eos = meta["bos"], meta["eos"]
    lmx = lmx_range_of(meta)
    exs = list(itertools.islice(source.examples(task, "validation", seed=0), count))
    if not exs:
        raise ValueError(f"no validation systems for {task}")
    mask = torch.as_tensor(source.logit_mask(task))
    model.eval()
    losses = {"own": 0.0, "other": 0.0, "blank": 0.0}
    errors = reference = 0

    def loss(ex, image):
        b = collate([dataclasses.replace(ex, src=image)], bos, eos)
        return float(model(ex.src_kind, b.src, b.tgt_in, b.target_modality, b.src_pad, tgt_out=b.tgt_out,
                           logit_mask=mask)[1])

    with torch.inference_mode():
        for k, ex in enumerate(exs):
            other = exs[(k + len(exs) // 2) % len(exs)].src if len(exs) > 1 else ex.src[:, ::-1].copy()
            losses["own"] += loss(ex, ex.src)
            losses["other"] += loss(ex, other)
            losses["blank"] += loss(ex, ex.src * 0 + 1)
            if model.ctc_head is not None and lmx is not None:
                b = collate([ex], bos, eos)
                memory, _ = model.encode(ex.src_kind, b.src, b.target_modality, b.src_pad)
                slots = (
                    model.ctc_head(memory).view(1, memory.shape[1] * model.config.image_ctc, -1).argmax(-1)[0]
                )
                best = slots.tolist()
                hyp = [c for j, c in enumerate(best) if c != 0 and (j == 0 or best[j - 1] != c)]
                targets, lengths = ctc_targets(b.tgt_out, lmx)
                ref = targets[0, : int(lengths[0])].tolist()
                errors += edit_distance(hyp, ref)
                reference += len(ref)
    out = {k: round(v / len(exs), 4) for k, v in losses.items()}
    out["systems"] = len(exs)
    if reference:
        out["ctc_readout_ser"] = round(errors / reference, 4)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("weights", help="a bundle folder")
    parser.add_argument("--data", default="data/v4", help="shard folders (comma-separated) or a .unimtpack")
    parser.add_argument("--count", type=int, default=40, help="validation systems")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    from model.bundle import load_bundle
    from model.errors import BadInputError
    from model.training.packed import open_source

    torch.set_num_threads(args.threads)
    try:
        model, config = load_bundle(args.weights, "cpu")
        report = {
            "weights": args.weights,
            "step": config.get("step"),
            **page_use(model, open_source(args.data), args.count),
        }
    except (BadInputError, OSError, ValueError) as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
