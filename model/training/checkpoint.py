"""Self-describing weight bundles: ``config.json`` + ``model.safetensors`` in one folder.

``config.json`` holds the format version, the model configuration, the unified vocabulary, every
tokenizer's configuration, the tasks trained, the training step and the last metrics, so the loader
rebuilds everything from the folder alone. Weights are read with safetensors (never unpickled).
Optimizer state for resuming lives beside it in ``train_state.pt`` (loaded with ``weights_only=True``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional

FORMAT_VERSION = 1


def save_bundle(folder: str | Path, model, meta: dict[str, Any], half: bool = False) -> Path:
    """Write ``model`` and ``meta`` (vocab, tokenizers, tasks, step, metrics) atomically into ``folder``.

    ``half`` stores floating-point weights as float16 (half the size; they load back as float32)."""
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()
             if k != "head.weight"}  # tied to tgt_embed.weight
    if half:
        state = {k: v.half() if v.dtype == torch.float32 else v for k, v in state.items()}
    config = {"format_version": FORMAT_VERSION, "model": model.config.to_dict(), **meta}
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        save_file(state, str(Path(tmp) / "model.safetensors"), metadata={"format": "unimt"})
        (Path(tmp) / "config.json").write_text(json.dumps(config, indent=1))
        os.replace(Path(tmp) / "model.safetensors", folder / "model.safetensors")
        os.replace(Path(tmp) / "config.json", folder / "config.json")
    return folder


def load_bundle(folder: str | Path, device: str = "cpu"):
    """Rebuild the model from a bundle. Returns (model in eval mode, config dict)."""
    from safetensors.torch import load_file

    from model.errors import BadInputError
    from model.transformer import ModelConfig, Seq2Seq

    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise BadInputError(f"unreadable config.json ({exc})", folder) from None
    if config.get("format_version") != FORMAT_VERSION:
        raise BadInputError(f"weights format {config.get('format_version')} is not {FORMAT_VERSION}; "
                            "update unimt or use matching weights", folder)
    model = Seq2Seq(config=ModelConfig.from_dict(config["model"]))
    try:
        state = load_file(str(folder / "model.safetensors"), device="cpu")
    except Exception as exc:
        raise BadInputError(f"unreadable model.safetensors ({exc})", folder) from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k != "head.weight"]
    if missing or unexpected:
        raise BadInputError(f"weights do not match the model (missing {missing[:3]}, unexpected "
                            f"{unexpected[:3]})", folder)
    return model.to(device).eval(), config


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
    what a run changed on top of another bundle, small enough to travel (``init_parts`` in a training config)."""
    import torch
    from safetensors.torch import save_file

    model, config = load_bundle(src, "cpu")
    state = {k: (v.half() if v.dtype == torch.float32 else v).contiguous() for k, v in model.state_dict().items()
             if k.startswith(tuple(prefixes)) and k != "head.weight"}
    dst = Path(dst)
    tmp = dst.with_name(dst.name + ".part")
    save_file(state, str(tmp), metadata={"format": "unimt-parts", "from": str(src), "step": str(config.get("step")),
                                         "model": json.dumps(model.config.to_dict())})
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

    ap = argparse.ArgumentParser(description="ship a trained weights bundle (float16), or save the parts a run "
                                             "trained on top of another bundle")
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
