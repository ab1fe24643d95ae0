"""The one encoder-decoder Transformer that translates between modalities (after U-MusT).

Front-ends turn each input modality into a sequence of d-dimensional vectors:
  * tokens (MIDI events, LMX) -> embedding table;
  * score-image systems (grayscale, staff-normalised, fixed height) -> a convolutional stem that
    downsamples by 8 and reads the image column by column (continuous patch features);
  * audio log-mel frames -> a convolutional stem that halves the frame rate: 1-D over the mel bands
    ("conv1d"), or 2-D over time x frequency pooled in frequency ("conv2d": a pitch pattern looks alike
    at every height, which a small model on a small CPU learns much faster).
An auxiliary note head on the encoder (``note_head``) reads piano-roll onsets, frames, offsets and
velocities straight off the audio encoder, at 10 ms (after Onsets and Frames): dense supervision
that trains in hours on two cores, and transcribes without token-by-token decoding.
A learned target-modality embedding is added to every encoder position. The decoder predicts the
unified vocabulary; its logits are masked to the target modality's range (and the special tokens).
Decoding uses a key/value cache: greedy, top-p sampling and beam search, batched.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

SRC_TOKENS, SRC_IMAGE, SRC_AUDIO = "tokens", "image", "audio"


@dataclass
class ModelConfig:
    vocab_size: int = 512
    d_model: int = 256
    n_heads: int = 4
    enc_layers: int = 4
    dec_layers: int = 4
    d_ff: int = 1024
    dropout: float = 0.1
    max_src_len: int = 2048
    max_tgt_len: int = 1024
    n_target_modalities: int = 4
    image_height: int = 160         # system images are resized/padded to this height
    stem_channels: tuple = (32, 64, 96)
    image_layers: int = 0           # Transformer layers of the image stem's own, before the shared encoder
    n_mels: int = 229
    pad_id: int = 0
    audio_stem: str = "conv1d"      # "conv1d" | "conv2d"
    audio_channels: tuple = (16, 32)
    note_head: bool = False         # auxiliary piano-roll head on the audio encoder
    # training aid: a CTC head on image memory, this many slots per column (0: none)
    image_ctc: int = 0
    ctc_classes: int = 0            # its classes: the LMX vocabulary, class 0 (LMX <pad>) the blank

    @classmethod
    def preset(cls, name: str, **overrides) -> "ModelConfig":
        presets = {
            "tiny": dict(d_model=32, n_heads=2, enc_layers=1, dec_layers=1, d_ff=64, stem_channels=(4, 8, 8),
                         max_src_len=512, max_tgt_len=256),
            "small": dict(d_model=256, n_heads=4, enc_layers=4, dec_layers=4, d_ff=1024),
            "base": dict(d_model=384, n_heads=6, enc_layers=6, dec_layers=6, d_ff=1536),
            "paper": dict(d_model=1024, n_heads=16, enc_layers=12, dec_layers=12, d_ff=4096,
                          stem_channels=(64, 128, 256)),
        }
        if name not in presets:
            raise ValueError(f"unknown size preset {name!r}; choose from {', '.join(presets)}")
        return cls(**{**presets[name], **overrides})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stem_channels"] = list(self.stem_channels)
        d["audio_channels"] = list(self.audio_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        for key in ("stem_channels", "audio_channels"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


# --- building blocks -------------------------------------------------------------------------

class Attention(nn.Module):
    def __init__(self, d: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads, self.d_head = n_heads, d // n_heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, d)
        self.dropout = dropout

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, self.d_head).transpose(1, 2)  # (B, H, T, Dh)

    def project_kv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv(x).chunk(2, dim=-1)
        return self._split(k), self._split(v)

    def forward(self, x, kv_src=None, *, kv=None, attn_mask=None, causal=False):
        """x: (B, Tq, D). Keys/values from ``kv_src`` (B, Tk, D) or a precomputed ``kv`` pair."""
        q = self._split(self.q(x))
        k, v = kv if kv is not None else self.project_kv(x if kv_src is None else kv_src)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=attn_mask,
            is_causal=causal and attn_mask is None,
            dropout_p=self.dropout if self.training else 0.0,
        )
        b, h, t, dh = y.shape
        return self.out(y.transpose(1, 2).reshape(b, t, h * dh))


class MLP(nn.Module):
    def __init__(self, d: int, d_ff: int, dropout: float):
        super().__init__()
        self.fc1, self.fc2, self.drop = nn.Linear(d, d_ff), nn.Linear(d_ff, d), nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.fc2(F.gelu(self.fc1(x))))


class EncoderLayer(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.attn, self.mlp, self.drop = (
            Attention(c.d_model, c.n_heads, c.dropout),
            MLP(c.d_model, c.d_ff, c.dropout),
            nn.Dropout(c.dropout),
        )

    def forward(self, x, attn_mask):
        x = x + self.drop(self.attn(self.n1(x), attn_mask=attn_mask))
        return x + self.mlp(self.n2(x))


class DecoderLayer(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.n1, self.n2, self.n3 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.self_attn = Attention(c.d_model, c.n_heads, c.dropout)
        self.cross_attn = Attention(c.d_model, c.n_heads, c.dropout)
        self.mlp, self.drop = MLP(c.d_model, c.d_ff, c.dropout), nn.Dropout(c.dropout)

    def forward(self, x, memory_kv, memory_mask, cache: Optional[dict] = None):
        h = self.n1(x)
        if cache is None:
            x = x + self.drop(self.self_attn(h, causal=True))
        else:  # incremental: append this step's keys/values
            k, v = self.self_attn.project_kv(h)
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
            x = x + self.drop(self.self_attn(h, kv=(k, v)))
        x = x + self.drop(self.cross_attn(self.n2(x), kv=memory_kv, attn_mask=memory_mask))
        return x + self.mlp(self.n3(x))


# --- front-ends ------------------------------------------------------------------------------

class ImageStem(nn.Module):
    """(B, 1, H, W) grayscale in [0, 1] -> (B, W/8, D): one vector per 8-pixel column strip.

    With ``image_layers``, the column vectors then pass through Transformer layers of the stem's own (with
    their own positions): reading a staff can learn there while an encoder that another task owns stays as
    it is."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        c1, c2, c3 = c.stem_channels
        self.convs = nn.Sequential(
            nn.Conv2d(1, c1, 3, 2, 1), nn.GELU(), nn.Conv2d(c1, c1, 3, 1, 1), nn.GELU(),
            nn.Conv2d(c1, c2, 3, 2, 1), nn.GELU(), nn.Conv2d(c2, c2, 3, 1, 1), nn.GELU(),
            nn.Conv2d(c2, c3, 3, 2, 1), nn.GELU(),
        )
        self.rows = math.ceil(c.image_height / 8)
        self.proj = nn.Linear(c3 * self.rows, c.d_model)
        self.layers = nn.ModuleList(EncoderLayer(c) for _ in range(c.image_layers))
        self.pos = nn.Embedding(c.max_src_len, c.d_model) if c.image_layers else None

    def forward(self, img, pad=None):
        f = self.convs(1.0 - img)                           # ink = 1: padding is zero
        b, ch, h, w = f.shape                               # (B, C, H/8, W/8)
        x = self.proj(f.permute(0, 3, 1, 2).reshape(b, w, ch * h))
        if self.layers:
            x = x + self.pos.weight[: x.shape[1]][None]
            mask = None if pad is None else (~pad)[:, None, None, :]
            for layer in self.layers:
                x = layer(x, mask)
        return x


class AudioStem(nn.Module):
    """(B, T, n_mels) log-mel -> (B, T/2, D)."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.conv1 = nn.Conv1d(c.n_mels, c.d_model, 3, 1, 1)
        self.conv2 = nn.Conv1d(c.d_model, c.d_model, 3, 2, 1)

    def forward(self, mel):
        x = F.gelu(self.conv1(mel.transpose(1, 2)))
        return F.gelu(self.conv2(x)).transpose(1, 2)


class AudioStem2D(nn.Module):
    """(B, T, n_mels) log-mel -> (B, T/2, D): 3x3 convolutions over time x frequency, frequency
    pooled by 4, one vector per frame, then a stride-2 step in time."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        c1, c2 = c.audio_channels
        self.convs = nn.Sequential(
            nn.Conv2d(1, c1, 3, 1, 1), nn.GELU(), nn.Conv2d(c1, c1, 3, 1, 1), nn.GELU(), nn.MaxPool2d((1, 2)),
            nn.Conv2d(c1, c2, 3, 1, 1), nn.GELU(), nn.MaxPool2d((1, 2)),
        )
        self.proj = nn.Linear(c2 * (c.n_mels // 4), c.d_model)
        self.down = nn.Conv1d(c.d_model, c.d_model, 3, 2, 1)

    def forward(self, mel):
        x = (mel[:, None] + 5.0) / 5.0                      # log-mel (floor -11.5) to about [-1.3, 2]
        f = self.convs(x)                                   # (B, C, T, F/4)
        b, ch, t, fr = f.shape
        x = F.gelu(self.proj(f.permute(0, 2, 1, 3).reshape(b, t, ch * fr)))
        return F.gelu(self.down(x.transpose(1, 2))).transpose(1, 2)


NOTE_KEYS, NOTE_LOW = 88, 21          # piano keys A0..C8
NOTE_OUTPUTS = ("onset", "frame", "offset", "velocity")
NOTE_POS_WEIGHT = (8.0, 2.0, 4.0)


class NoteHead(nn.Module):
    """Encoder states at 20 ms (B, S, D) -> (B, 2S, 88, 4) logits at 10 ms: onset, frame, offset,
    velocity (sigmoid of the last is velocity / 127)."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.norm = nn.LayerNorm(c.d_model)
        self.hidden = nn.Linear(c.d_model, c.d_model)
        self.out = nn.Linear(c.d_model, 2 * NOTE_KEYS * len(NOTE_OUTPUTS))

    def forward(self, h):
        b, s, _ = h.shape
        y = self.out(F.gelu(self.hidden(self.norm(h))))
        return y.view(b, s * 2, NOTE_KEYS, len(NOTE_OUTPUTS))


def note_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Piano-roll loss. ``labels`` (B, T, 88, 4): onset/frame/offset in {0, 1}, velocity / 127, and
    -1 where there is nothing to learn (padding; the onset of a note already sounding at the window
    start; the offset of a note still sounding at its end)."""
    t = min(logits.shape[1], labels.shape[1])
    logits, labels = logits[:, :t].float(), labels[:, :t].float()
    total = logits.new_zeros(())
    for i, _name in enumerate(NOTE_OUTPUTS[:3]):
        valid = labels[..., i] >= 0
        if valid.any():   # onsets and offsets are rare (2 frames a note): their positives weigh more
            total = total + F.binary_cross_entropy_with_logits(
                logits[..., i][valid], labels[..., i][valid], pos_weight=logits.new_tensor(NOTE_POS_WEIGHT[i])
            )
    at_onset = labels[..., 0] > 0.5
    if at_onset.any():
        total = total + F.mse_loss(torch.sigmoid(logits[..., 3][at_onset]), labels[..., 3][at_onset])
    return total


# --- the model -------------------------------------------------------------------------------

class Seq2Seq(nn.Module):
    def __init__(self, *, config: ModelConfig):
        super().__init__()
        c = self.config = config
        self.src_embed = nn.Embedding(c.vocab_size, c.d_model, padding_idx=c.pad_id)
        self.image_stem = ImageStem(c)
        self.audio_stem = AudioStem2D(c) if c.audio_stem == "conv2d" else AudioStem(c)
        self.note_head = NoteHead(c) if c.note_head else None
        self.src_pos = nn.Embedding(c.max_src_len, c.d_model)
        self.target_modality = nn.Embedding(c.n_target_modalities, c.d_model)
        self.encoder = nn.ModuleList(EncoderLayer(c) for _ in range(c.enc_layers))
        self.enc_norm = nn.LayerNorm(c.d_model)
        self.tgt_embed = nn.Embedding(c.vocab_size, c.d_model, padding_idx=c.pad_id)
        self.tgt_pos = nn.Embedding(c.max_tgt_len, c.d_model)
        self.decoder = nn.ModuleList(DecoderLayer(c) for _ in range(c.dec_layers))
        self.dec_norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.head.weight = self.tgt_embed.weight             # tied
        # reads the image memory column by column (model.tokenizers.lmx_visual): dense supervision of reading
        self.ctc_head = (
            nn.Sequential(nn.LayerNorm(c.d_model), nn.Linear(c.d_model, c.image_ctc * c.ctc_classes))
            if c.image_ctc and c.ctc_classes
            else None
        )
        self.drop = nn.Dropout(c.dropout)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # encoder
    def embed_source(self, kind: str, src: torch.Tensor, src_pad: Optional[torch.Tensor]):
        """Returns (B, S, D) vectors and a (B, S) padding mask (True = padding)."""
        if kind == SRC_TOKENS:
            x = self.src_embed(src)                          # (B, S, D)
            pad = src.eq(self.config.pad_id) if src_pad is None else src_pad
        elif kind == SRC_IMAGE:
            w = (src.shape[-1] + 7) // 8
            pad = None if src_pad is None else src_pad[:, ::8][:, :w]
            x = self.image_stem(src, pad)                    # (B, W/8, D)
        elif kind == SRC_AUDIO:
            x = self.audio_stem(src)                         # (B, T/2, D)
            pad = None if src_pad is None else src_pad[:, ::2][:, : x.shape[1]]
        else:
            raise ValueError(f"unknown source kind {kind!r}")
        if x.shape[1] > self.config.max_src_len:
            raise ValueError(f"source has {x.shape[1]} positions; the model takes {self.config.max_src_len}")
        return x, pad

    def encode(self, kind, src, target_modality, src_pad=None):
        x, pad = self.embed_source(kind, src, src_pad)
        s = x.shape[1]
        x = x + self.src_pos.weight[:s][None] + self.target_modality(target_modality)[:, None, :]
        x = self.drop(x)
        mask = None if pad is None else (~pad)[:, None, None, :]  # (B, 1, 1, S) True = attend
        for layer in self.encoder:
            x = layer(x, mask)
        return self.enc_norm(x), mask

    def notes(self, mel, target_modality, src_pad=None):
        """Piano-roll logits (B, T, 88, 4) of log-mel frames (B, T, n_mels) from the note head."""
        if self.note_head is None:
            raise ValueError("this model has no note head")
        memory, _ = self.encode(SRC_AUDIO, mel, target_modality, src_pad)
        return self.note_head(memory)

    def memory_kv(self, memory):
        return [layer.cross_attn.project_kv(memory) for layer in self.decoder]

    # decoder
    def decode(self, tgt, memory_kv, memory_mask, caches=None, start: int = 0):
        t = tgt.shape[1]
        if start + t > self.config.max_tgt_len:
            raise ValueError(f"target longer than {self.config.max_tgt_len} tokens")
        x = self.drop(self.tgt_embed(tgt) + self.tgt_pos.weight[start:start + t][None])
        for i, layer in enumerate(self.decoder):
            x = layer(x, memory_kv[i], memory_mask, None if caches is None else caches[i])
        return self.head(self.dec_norm(x))                   # (B, T, V)

    def ctc_loss(self, memory, mask, targets: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """CTC loss (mean per target token) of the image memory (B, S, D) against column-ordered LMX ids
        ``targets`` (B, L), class 0 the blank; ``mask`` is the encoder's (B, 1, 1, S) attend mask."""
        k = self.config.image_ctc
        b, s, _ = memory.shape
        logp = F.log_softmax(self.ctc_head(memory).float().view(b, s * k, -1), dim=-1)
        cols = torch.full((b,), s, dtype=torch.long, device=memory.device) if mask is None else \
            mask.view(b, s).sum(1)
        return F.ctc_loss(logp.transpose(0, 1), targets, cols * k, lengths, blank=0, reduction="mean",
                          zero_infinity=True)

    def forward(self, kind, src, tgt_in, target_modality, src_pad=None, tgt_out=None, logit_mask=None,
                ctc=None, ctc_weight: float = 0.0):
        """Teacher-forced logits (B, T, V); with ``tgt_out`` also the mean cross-entropy, plus ``ctc_weight``
        times the CTC loss when ``ctc`` = (targets, lengths) is given for an image batch."""
        memory, mask = self.encode(kind, src, target_modality, src_pad)
        logits = self.decode(tgt_in, self.memory_kv(memory), mask)
        if logit_mask is not None:  # (B, V) or (V,) True = allowed
            logits = logits.masked_fill(
                ~(logit_mask if logit_mask.dim() == 2 else logit_mask[None])[:, None, :], float("-inf")
            )
        loss = None
        if tgt_out is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), tgt_out.reshape(-1),
                                   ignore_index=self.config.pad_id)
            if ctc is not None and ctc_weight > 0 and self.ctc_head is not None and kind == SRC_IMAGE:
                loss = loss + ctc_weight * self.ctc_loss(memory, mask, *ctc)
        return logits, loss

    @torch.no_grad()
    def generate(self, kind, src, target_modality, *, bos_id: int, eos_id: int, logit_mask=None,
                 src_pad=None, max_len: int = 512, strategy: str = "greedy", top_p: float = 0.9,
                 temperature: float = 1.0, beam_size: int = 4, use_cache: bool = True,
                 generator: Optional[torch.Generator] = None, return_scores: bool = False,
                 on_step: Optional[Callable[[int, int], None]] = None):
        """Decode target sequences (without BOS, up to and including EOS). Returns a list of id lists.

        With ``return_scores`` also returns per-token probabilities (greedy/top-p) for confidence.
        ``on_step(step, max_len)`` is called before every greedy/top-p step (progress; it may raise to
        cancel).
        """
        max_len = min(max_len, self.config.max_tgt_len - 1)
        memory, mask = self.encode(kind, src, target_modality, src_pad)
        if strategy == "beam":
            return self._beam(memory, mask, bos_id, eos_id, logit_mask, max_len, beam_size)
        b = memory.shape[0]
        mkv = self.memory_kv(memory)
        caches = [dict() for _ in self.decoder] if use_cache else None
        seq = torch.full((b, 1), bos_id, dtype=torch.long, device=memory.device)
        done = torch.zeros(b, dtype=torch.bool, device=memory.device)
        probs_out = []
        for step in range(max_len):
            if on_step is not None:
                on_step(step, max_len)
            if use_cache:
                logits = self.decode(seq[:, -1:], mkv, mask, caches, start=step)[:, -1]
            else:
                logits = self.decode(seq, mkv, mask)[:, -1]
            if logit_mask is not None:
                logits = logits.masked_fill(~(logit_mask if logit_mask.dim() == 2 else logit_mask[None]),
                                            float("-inf"))
            probs = F.softmax(logits.float() / max(temperature, 1e-6), dim=-1)
            if strategy == "greedy":
                nxt = probs.argmax(-1)
            elif strategy == "top_p":
                nxt = _top_p_sample(probs, top_p, generator)
            else:
                raise ValueError(f"unknown decoding strategy {strategy!r}")
            probs_out.append(probs.gather(1, nxt[:, None])[:, 0])
            nxt = torch.where(done, torch.full_like(nxt, self.config.pad_id), nxt)
            seq = torch.cat([seq, nxt[:, None]], dim=1)
            done |= nxt.eq(eos_id)
            if bool(done.all()):
                break
        out, scores = [], []
        probs_t = torch.stack(probs_out, 1) if probs_out else torch.zeros(b, 0)
        for i in range(b):
            ids = seq[i, 1:].tolist()
            n = ids.index(eos_id) + 1 if eos_id in ids else len(ids)
            out.append(ids[:n])
            scores.append(probs_t[i, :n].tolist())
        return (out, scores) if return_scores else out

    def _beam(self, memory, mask, bos_id, eos_id, logit_mask, max_len, k):
        results = []
        for i in range(memory.shape[0]):
            mem = memory[i:i + 1].expand(k, -1, -1)
            m = None if mask is None else mask[i:i + 1].expand(k, -1, -1, -1)
            lm = None if logit_mask is None else (logit_mask[i] if logit_mask.dim() == 2 else logit_mask)
            mkv = self.memory_kv(mem)
            caches = [dict() for _ in self.decoder]
            seqs = torch.full((k, 1), bos_id, dtype=torch.long, device=memory.device)
            scores = torch.zeros(k, device=memory.device)
            scores[1:] = float("-inf")                       # start from one live beam
            finished: list[tuple[float, list[int]]] = []
            for step in range(max_len):
                logp = F.log_softmax(self.decode(seqs[:, -1:], mkv, m, caches, start=step)[:, -1].float(), -1)
                if lm is not None:
                    logp = logp.masked_fill(~lm[None], float("-inf"))
                cand = (scores[:, None] + logp).view(-1)
                top, idx = cand.topk(2 * k)
                beam_idx, tok = idx // logp.shape[1], idx % logp.shape[1]
                keep_b, keep_t, keep_s = [], [], []
                for s, bi, t in zip(top.tolist(), beam_idx.tolist(), tok.tolist()):
                    if s == float("-inf"):
                        break
                    if t == eos_id:
                        finished.append((s / (step + 1), seqs[bi, 1:].tolist() + [eos_id]))
                    else:
                        keep_b.append(bi), keep_t.append(t), keep_s.append(s)
                    if len(keep_b) == k:
                        break
                if len(finished) >= k or not keep_b:
                    break
                while len(keep_b) < k:                       # pad with dead beams
                    keep_b.append(keep_b[0]), keep_t.append(keep_t[0]), keep_s.append(float("-inf"))
                sel = torch.tensor(keep_b, device=memory.device)
                for cache in caches:
                    cache["k"], cache["v"] = cache["k"][sel], cache["v"][sel]
                seqs = torch.cat([seqs[sel], torch.tensor(keep_t, device=memory.device)[:, None]], 1)
                scores = torch.tensor(keep_s, device=memory.device)
            if not finished:
                best = int(scores.argmax())
                finished.append((float(scores[best]), seqs[best, 1:].tolist()))
            results.append(max(finished, key=lambda f: f[0])[1])
        return results


def _top_p_sample(probs: torch.Tensor, top_p: float, generator=None) -> torch.Tensor:
    sorted_p, idx = probs.sort(dim=-1, descending=True)
    keep = sorted_p.cumsum(-1) - sorted_p < top_p
    sorted_p = sorted_p * keep
    choice = torch.multinomial(sorted_p / sorted_p.sum(-1, keepdim=True), 1, generator=generator)
    return idx.gather(1, choice)[:, 0]
