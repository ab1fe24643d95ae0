"""Self-describing weight bundles: ``config.json`` + ``model.safetensors`` in one folder.

``config.json`` holds the format version, the model configuration, the unified vocabulary, every
tokenizer's configuration, the tasks trained, the training step and the last metrics, so the loader
rebuilds everything from the folder alone. Weights are read with safetensors (never unpickled).

Inference loads bundles and training writes them; both come here, so inference needs nothing from training.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

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


def read_weights(path: str | Path, report=None, what: str = "the model") -> dict:
    """The tensors of a safetensors file, read one by one; ``report(done, total, message)`` (bytes read of
    the file's size, so the progress is real) after each. Raises what safetensors raises."""
    from safetensors import safe_open

    path = Path(path)
    total = max(1, path.stat().st_size)
    mb = f"{total / 1e6:.0f} MB" if total >= 1e6 else f"{total / 1e3:.0f} kB"
    message = f"loading {what}: reading its weights ({path.name}, {mb})"
    state, done = {}, 0
    if report is not None:
        report(0, total, message)
    with safe_open(str(path), framework="pt", device="cpu") as f:
        for name in f.keys():
            state[name] = t = f.get_tensor(name)
            done += t.numel() * t.element_size()
            if report is not None:
                report(min(done, total), total, message)
    if report is not None:
        report(total, total, message)
    return state


def load_bundle(folder: str | Path, device: str = "cpu", report=None):
    """Rebuild the model from a bundle. Returns (model in eval mode, config dict). ``report(done, total,
    message)`` hears each stage: the configuration, the network built, every weight read (by bytes), the
    move to the device."""
    from model.errors import BadInputError, Cancelled
    from model.transformer import ModelConfig, Seq2Seq

    def say(message: str) -> None:
        if report is not None:
            report(0, 0, f"loading the model: {message}")

    folder = Path(folder)
    say("reading its configuration (config.json)")
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise BadInputError(f"unreadable config.json ({exc})", folder) from None
    if config.get("format_version") != FORMAT_VERSION:
        raise BadInputError(f"weights format {config.get('format_version')} is not {FORMAT_VERSION}; "
                            "update unimt or use matching weights", folder)
    say("building the network")
    model = Seq2Seq(config=ModelConfig.from_dict(config["model"]))
    try:
        state = read_weights(folder / "model.safetensors", report)
    except Cancelled:
        raise
    except Exception as exc:
        raise BadInputError(f"unreadable model.safetensors ({exc})", folder) from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k != "head.weight"]
    if missing or unexpected:
        raise BadInputError(f"weights do not match the model (missing {missing[:3]}, unexpected "
                            f"{unexpected[:3]})", folder)
    say(f"putting it on the {'GPU' if device in ('cuda', 'mps') else device.upper()}")
    return model.to(device).eval(), config


INT8_SCALE = ".int8_scale"   # suffix of the scales stored beside a weight kept as int8


def _group(cols: int, most: int = 128) -> int:
    """The columns that share one scale: the largest divisor of ``cols`` up to ``most``."""
    return max(g for g in range(1, min(cols, most) + 1) if cols % g == 0)


def quantize_int8(state: dict, min_numel: int = 4096) -> dict:
    """``state`` with each floating weight of at least ``min_numel`` values stored as int8, one float16
    scale per group of up to 128 consecutive inputs of an output row (``NAME`` + ``NAME.int8_scale``);
    the rest float16 (batch-norm statistics float32). Half the size of float16; a group's own scale
    keeps the rounding error near 0.4% of its largest weight. :func:`dequantize` undoes it."""
    import torch

    out = {}
    for name, v in state.items():
        if not v.is_floating_point():
            out[name] = v
        elif v.dim() >= 2 and v.numel() >= min_numel:
            rows = v.float().reshape(v.shape[0], -1)
            g = _group(rows.shape[1])
            grouped = rows.reshape(rows.shape[0], -1, g)
            scale = (grouped.abs().amax(dim=-1, keepdim=True) / 127).clamp(min=1e-12).half()
            q = torch.round(grouped / scale.float()).clamp(-127, 127).to(torch.int8)
            out[name] = q.reshape(v.shape).contiguous()
            out[name + INT8_SCALE] = scale.squeeze(-1).contiguous()
        else:
            out[name] = (v if "running_" in name else v.half()).contiguous()
    return out


def dequantize(state: dict) -> dict:
    """Float32 weights from a state written by :func:`quantize_int8` (or a plain float16/float32 one)."""
    out = {}
    for name, v in state.items():
        if name.endswith(INT8_SCALE):
            continue
        scale = state.get(name + INT8_SCALE)
        if scale is not None:
            grouped = v.float().reshape(v.shape[0], scale.shape[1], -1)
            out[name] = (grouped * scale.float()[..., None]).reshape(v.shape)
        else:
            out[name] = v.float() if v.is_floating_point() else v
    return out
