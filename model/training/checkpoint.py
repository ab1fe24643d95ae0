"""What training keeps beside a weight bundle (:mod:`model.bundle`): the optimizer state for resuming
(``train_state.pt``, loaded with ``weights_only=True``), shipping a bundle as float16, and the parts a run
trained on top of another bundle."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from model.bundle import load_bundle, save_bundle


def save_train_state(path: str | Path, optimizer, step: int, extra: Optional[dict] = None) -> None:
    import torch

    tmp = Path(str(path) + ".part")
    torch.save({"optimizer": optimizer.state_dict(), "step": step, **(extra or {})}, tmp)
    os.replace(tmp, path)


def load_train_state(path: str | Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def ship(src: str | Path, dst: str | Path) -> Path:
    """Copy a trained bundle to ``dst`` (e.g. ``model/weights``) as float16, ready to commit."""
    model, config = load_bundle(src, "cpu")
    meta = {k: v for k, v in config.items() if k not in ("format_version", "model")}
    meta.pop("train_config", None)
    return save_bundle(dst, model, meta, half=True)


# what a run trains on top of an encoder it leaves frozen (image2lmx, midi2lmx with shared_grad 0)
READER_PARTS = ("image_stem.", "decoder.", "dec_norm.", "tgt_embed.", "tgt_pos.", "src_embed.", "ctc_head.")


def save_parts(src: str | Path, dst: str | Path, prefixes=READER_PARTS) -> Path:
    """The tensors of bundle ``src`` whose names start with ``prefixes``, as float16, in one safetensors file:
    what a run changed on top of another bundle, small enough to travel (``init_parts`` in a training
    config)."""
    import torch
    from safetensors.torch import save_file

    model, config = load_bundle(src, "cpu")
    state = {
        k: (v.half() if v.dtype == torch.float32 else v).contiguous()
        for k, v in model.state_dict().items()
        if k.startswith(tuple(prefixes)) and k != "head.weight"
    }
    dst = Path(dst)
    tmp = dst.with_name(dst.name + ".part")
    save_file(
        state,
        str(tmp),
        metadata={
            "format": "unimt-parts",
            "from": str(src),
            "step": str(config.get("step")),
            "model": json.dumps(model.config.to_dict()),
        },
    )
    os.replace(tmp, dst)
    return dst


def load_parts(model, path: str | Path) -> list[str]:
    """Copy the tensors of a :func:`save_parts` file into ``model``; returns their names. A tensor that the
    model lacks or holds in another shape is an error: the parts belong to another architecture."""
    import torch
    from safetensors.torch import load_file

    parts = load_file(str(path))
    state = model.state_dict()
    wrong = [k for k, v in parts.items() if k not in state or state[k].shape != v.shape]
    if wrong:
        raise ValueError(f"{path}: {len(wrong)} tensors do not fit the model ({', '.join(wrong[:3])})")
    with torch.no_grad():
        for k, v in parts.items():
            state[k].copy_(v.to(state[k].dtype))
    return sorted(parts)


def main(argv=None) -> int:  # python -m model.training.checkpoint ship SRC DST | parts SRC DST.safetensors
    import argparse

    ap = argparse.ArgumentParser(
        description="ship a trained weights bundle (float16), or save the parts a run "
        "trained on top of another bundle"
    )
    ap.add_argument("command", choices=["ship", "parts"])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    args = ap.parse_args(argv)
    out = ship(args.src, args.dst) if args.command == "ship" else save_parts(args.src, args.dst)
    size = sum(f.stat().st_size for f in out.iterdir()) if out.is_dir() else out.stat().st_size
    print(f"{out}: {size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
