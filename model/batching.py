"""Examples and batches: what the network eats, in training and at inference, independent of where the
examples come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from model.transformer import SRC_AUDIO, SRC_IMAGE, SRC_TOKENS

AUDIO_PAD = float(np.log(1e-5))


@dataclass
class Example:
    """One training pair.

    Attributes:
        task: task name, e.g. "image2lmx", "audio2midi".
        src_kind: "tokens", "image" or "audio".
        src: int ids (S,), image canvas (H, W) in [0, 1], or log-mel frames (T, n_mels).
        tgt: target ids in the unified vocabulary, without BOS/EOS.
        target_modality: index of the output modality (the vocabulary's target-modality id).
    """

    task: str
    src_kind: str
    src: np.ndarray
    tgt: list[int]
    target_modality: int
    labels: Optional[np.ndarray] = None   # (T, 88, 4) piano-roll labels for the note head

    @property
    def cost(self) -> int:
        """Rough size for token-budget batching (encoder positions + decoder tokens)."""
        n = {SRC_TOKENS: 1, SRC_IMAGE: 8, SRC_AUDIO: 2}[self.src_kind]
        length = self.src.shape[-1] if self.src_kind == SRC_IMAGE else self.src.shape[0]
        return length // n + len(self.tgt)


@dataclass
class Batch:
    task: str
    src_kind: str
    src: torch.Tensor
    src_pad: torch.Tensor        # (B, S) True = padding (pixel columns / frames / tokens)
    tgt_in: torch.Tensor         # (B, T) BOS + target
    tgt_out: torch.Tensor        # (B, T) target + EOS, pad elsewhere
    target_modality: torch.Tensor
    labels: Optional[torch.Tensor] = None   # (B, T, 88, 4), -1 = ignore

    def to(self, device) -> "Batch":
        return Batch(
            self.task,
            self.src_kind,
            self.src.to(device),
            self.src_pad.to(device),
            self.tgt_in.to(device),
            self.tgt_out.to(device),
            self.target_modality.to(device),
            None if self.labels is None else self.labels.to(device),
        )


def collate(examples: list[Example], bos_id: int, eos_id: int, pad_id: int = 0) -> Batch:
    kinds = {e.src_kind for e in examples}
    if len(kinds) != 1:
        raise ValueError(f"a batch mixes source kinds {kinds}")
    kind = kinds.pop()
    b = len(examples)
    if kind == SRC_TOKENS:
        s = max(len(e.src) for e in examples)
        src = torch.full((b, s), pad_id, dtype=torch.long)
        pad = torch.ones(b, s, dtype=torch.bool)
        for i, e in enumerate(examples):
            src[i, : len(e.src)] = torch.as_tensor(e.src, dtype=torch.long)
            pad[i, : len(e.src)] = False
    elif kind == SRC_IMAGE:
        h = examples[0].src.shape[0]
        w = max(e.src.shape[1] for e in examples)
        w = ((w + 7) // 8) * 8
        src = torch.ones(b, 1, h, w)
        pad = torch.ones(b, w, dtype=torch.bool)
        for i, e in enumerate(examples):
            src[i, 0, :, : e.src.shape[1]] = torch.as_tensor(e.src)
            pad[i, : e.src.shape[1]] = False
    else:
        t = max(e.src.shape[0] for e in examples)
        t += t % 2
        src = torch.full((b, t, examples[0].src.shape[1]), AUDIO_PAD)
        pad = torch.ones(b, t, dtype=torch.bool)
        for i, e in enumerate(examples):
            src[i, : e.src.shape[0]] = torch.as_tensor(e.src)
            pad[i, : e.src.shape[0]] = False
    n = max(len(e.tgt) for e in examples) + 1
    tgt_in = torch.full((b, n), pad_id, dtype=torch.long)
    tgt_out = torch.full((b, n), pad_id, dtype=torch.long)
    for i, e in enumerate(examples):
        ids = torch.as_tensor(e.tgt, dtype=torch.long)
        tgt_in[i, 0] = bos_id
        tgt_in[i, 1: len(ids) + 1] = ids
        tgt_out[i, : len(ids)] = ids
        tgt_out[i, len(ids)] = eos_id
    tm = torch.tensor([e.target_modality for e in examples], dtype=torch.long)
    labels = None
    if all(e.labels is not None for e in examples) and examples[0].labels is not None:
        t = src.shape[1]
        labels = torch.full((b, t) + examples[0].labels.shape[1:], -1.0)
        for i, e in enumerate(examples):
            n = min(t, len(e.labels))
            labels[i, :n] = torch.as_tensor(e.labels[:n], dtype=torch.float32)
    return Batch(examples[0].task, kind, src, pad, tgt_in, tgt_out, tm, labels)
