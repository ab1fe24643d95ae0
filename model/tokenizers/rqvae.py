"""Score image -> discrete tokens: a small residual-quantised VAE (RQ-VAE), as in the paper (2.1).

A convolutional encoder downsamples a staff-normalised system image by 16, so each code position
covers a 16x16 patch; ``n_codebooks`` unshared residual codebooks quantise each position (EMA
codebook updates, dead codes restarted). Codes are flattened column by column (top to bottom, then
the next column), each with its 2-D position; systems are joined with a separator. The decoder
reconstructs the image, which is how the codec is trained and checked.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from model.tokenizers.base import Tokenizer, TokenSequence

# the shipped codec: config.json + rqvae.safetensors
CODEC_DIR = Path(__file__).resolve().parent.parent / "codec"


@dataclass
class RQVAEConfig:
    channels: int = 64          # at 1/4 resolution
    channels2: int = 128        # at 1/8 and 1/16
    latent: int = 64
    n_codebooks: int = 4
    codebook_size: int = 512
    decay: float = 0.99
    commitment: float = 0.25
    height: int = 160            # canvas rows (see model.tokenizers.score_image)

    def to_dict(self) -> dict:
        return asdict(self)


class _Res(nn.Module):
    """Residual block: (GroupNorm, SiLU, 3x3 conv) twice. The normalisation is what lets the codec learn
    sparse ink at all on a CPU budget (without it a plain conv stack gave gray paper for hundreds of
    steps)."""

    def __init__(self, c: int):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(8, c), nn.Conv2d(c, c, 3, 1, 1)
        self.n2, self.c2 = nn.GroupNorm(8, c), nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return x + self.c2(F.silu(self.n2(self.c1(F.silu(self.n1(x))))))


class ResidualVQ(nn.Module):
    def __init__(self, c: RQVAEConfig):
        super().__init__()
        self.c = c
        self.register_buffer("codebooks", torch.randn(c.n_codebooks, c.codebook_size, c.latent) * 0.1)
        self.register_buffer("ema_count", torch.ones(c.n_codebooks, c.codebook_size))
        self.register_buffer("ema_sum", self.codebooks.clone())
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def _init_from_data(self, z):
        """Start every codebook from the vectors it will quantise (random codes far from the data
        are never chosen, and the codec collapses to blank paper)."""
        residual = z
        for k in range(self.c.n_codebooks):
            pick = residual[torch.randint(0, len(residual), (self.c.codebook_size,), device=z.device)]
            self.codebooks[k].copy_(pick)
            self.ema_sum[k].copy_(pick)
            self.ema_count[k].fill_(1.0)
            dist = (residual.pow(2).sum(1, keepdim=True) - 2 * residual @ pick.T + pick.pow(2).sum(1)[None])
            residual = residual - pick[dist.argmin(1)]
        self.initialised.fill_(True)

    def forward(self, z):                                    # z: (N, D)
        if self.training and not bool(self.initialised):
            self._init_from_data(z.detach())
        residual, quantised, codes, commit = z, torch.zeros_like(z), [], 0.0
        for k in range(self.c.n_codebooks):
            book = self.codebooks[k]                         # (K, D)
            dist = (residual.pow(2).sum(1, keepdim=True) - 2 * residual @ book.T + book.pow(2).sum(1)[None])
            idx = dist.argmin(1)                             # (N,)
            q = book[idx]
            if self.training:
                self._ema_update(k, residual.detach(), idx)
            commit = commit + F.mse_loss(residual, q.detach())
            quantised = quantised + q
            residual = residual - q.detach()
            codes.append(idx)
        quantised = z + (quantised - z).detach()             # straight-through
        return quantised, torch.stack(codes, 1), commit

    @torch.no_grad()
    def _ema_update(self, k, x, idx):
        c = self.c
        onehot = F.one_hot(idx, c.codebook_size).type(x.dtype)   # (N, K)
        count = onehot.sum(0)
        self.ema_count[k].mul_(c.decay).add_(count, alpha=1 - c.decay)
        self.ema_sum[k].mul_(c.decay).add_(onehot.T @ x, alpha=1 - c.decay)
        n = self.ema_count[k].sum()
        smoothed = (self.ema_count[k] + 1e-5) / (n + c.codebook_size * 1e-5) * n
        self.codebooks[k].copy_(self.ema_sum[k] / smoothed[:, None])
        dead = self.ema_count[k] < 0.05                          # restart rarely used codes on live vectors
        if dead.any() and len(x):
            pick = x[torch.randint(0, len(x), (int(dead.sum()),), device=x.device)]
            self.codebooks[k][dead] = pick
            self.ema_sum[k][dead] = pick
            self.ema_count[k][dead] = 1.0

    def lookup(self, codes):                                 # codes: (N, n_codebooks)
        return sum(self.codebooks[k][codes[:, k]] for k in range(self.c.n_codebooks))


class RQVAE(nn.Module):
    """Encoder: pixel-unshuffle by 4 (each 4x4 block becomes 16 channels: cheap, and nothing is lost),
    then two strided convolutions, so a code position covers 16x16 pixels. The decoder mirrors it and
    ends in a pixel-shuffle, which draws lines one pixel wide."""

    def __init__(self, c: RQVAEConfig | None = None):
        super().__init__()
        c = self.c = c or RQVAEConfig()
        ch, ch2 = c.channels, c.channels2
        self.enc = nn.Sequential(
            nn.PixelUnshuffle(4),
            nn.Conv2d(16, ch, 3, 1, 1),
            _Res(ch),
            nn.Conv2d(ch, ch2, 4, 2, 1),
            _Res(ch2),
            nn.Conv2d(ch2, ch2, 4, 2, 1),
            _Res(ch2),
            nn.GroupNorm(8, ch2),
            nn.SiLU(),
            nn.Conv2d(ch2, c.latent, 1),
        )
        self.vq = ResidualVQ(c)
        self.dec = nn.Sequential(nn.Conv2d(c.latent, ch2, 3, 1, 1), _Res(ch2), nn.Upsample(scale_factor=2),
                                 nn.Conv2d(ch2, ch2, 3, 1, 1), _Res(ch2), nn.Upsample(scale_factor=2),
                                 nn.Conv2d(ch2, ch, 3, 1, 1), _Res(ch), nn.GroupNorm(8, ch), nn.SiLU(),
                                 nn.Conv2d(ch, 16, 3, 1, 1), nn.PixelShuffle(4))

    def encode(self, img):                                   # (B, 1, H, W) in [0, 1], H, W multiples of 16
        z = self.enc(img * 2 - 1)                            # (B, D, H/16, W/16)
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, d)
        q, codes, commit = self.vq(flat)
        return q.view(b, h, w, d).permute(0, 3, 1, 2), codes.view(b, h, w, -1), commit

    def decode_codes(self, codes):                           # (B, h, w, n_codebooks)
        b, h, w, n = codes.shape
        q = self.vq.lookup(codes.reshape(-1, n)).view(b, h, w, -1).permute(0, 3, 1, 2)
        return torch.sigmoid(self.dec(q))

    def forward(self, img, quantise: bool = True):
        """``quantise`` False bypasses the codebooks (a warm-up: the codebooks then start from an encoder
        that already sees the music, not from noise)."""
        if quantise:
            q, codes, commit = self.encode(img)
        else:
            q, codes, commit = self.enc(img * 2 - 1), None, 0.0
        logits = self.dec(q)
        recon = torch.sigmoid(logits)
        # ink = 1 - brightness. Cross-entropy on ink with ink pixels (rare) weighted up, so the codec
        # does not settle for blank paper (an L1 loss, even weighted, has blank paper as its median)
        ink = 1.0 - img
        weight = 1.0 + 3.0 * (img < 0.5).float()
        loss = F.binary_cross_entropy_with_logits(-logits, ink, weight=weight) + self.c.commitment * commit
        return recon, codes, loss


def pad16(canvas: np.ndarray) -> np.ndarray:
    h, w = canvas.shape
    out = np.ones(((h + 15) // 16 * 16, (w + 15) // 16 * 16), dtype=np.float32)
    out[:h, :w] = canvas
    return out


class ImageCodes(Tokenizer):
    """System image <-> RQ-VAE codes, flattened column-major with 2-D positions.

    Local ids: codebook ``k`` code ``c`` -> ``k * codebook_size + c``; then ``SEP`` between systems.
    """

    modality = "image"

    def __init__(self, config: RQVAEConfig | None = None, model: RQVAE | None = None):
        super().__init__(config)
        self.model = (model or RQVAE(self.config)).eval()

    @classmethod
    def default_config(cls) -> RQVAEConfig:
        return RQVAEConfig()

    @classmethod
    def shipped(cls, folder: str | Path = CODEC_DIR) -> "ImageCodes":
        """The codec trained here and shipped in ``model/codec`` (see ``tools.rqvae_train``)."""
        model = load_codec(folder)
        return cls(model.c, model)

    @property
    def vocab(self) -> list[str]:
        c = self.config
        return [f"img:{k}:{i}" for k in range(c.n_codebooks) for i in range(c.codebook_size)] + ["img:sep"]

    @property
    def sep_id(self) -> int:
        return self.config.n_codebooks * self.config.codebook_size

    @torch.no_grad()
    def grid(self, canvas: np.ndarray) -> np.ndarray:
        """(h, w, n_codebooks) codes of one normalised canvas (float [0, 1])."""
        x = torch.as_tensor(pad16(canvas))[None, None]
        return self.model.encode(x)[1][0].numpy()

    def _encode(self, obj: Any) -> TokenSequence:
        canvases = obj if isinstance(obj, list) else [obj]
        ids, positions = [], []
        x0 = 0
        for s, canvas in enumerate(canvases):
            g = self.grid(np.asarray(canvas, dtype=np.float32))
            h, w, n = g.shape
            if s:
                ids.append([self.sep_id] * n)
                positions.append((x0, 0))
                x0 += 1
            for x in range(w):                               # column-major: top to bottom, then next column
                for y in range(h):
                    ids.append([k * self.config.codebook_size + int(g[y, x, k]) for k in range(n)])
                    positions.append((x0 + x, y))
            x0 += w
        seq = TokenSequence([row[0] for row in ids], [])
        seq.codes = np.array(ids, dtype=np.int64)           # (L, n_codebooks)  # type: ignore[attr-defined]
        seq.positions = np.array(positions, dtype=np.int64)  # (L, 2) x, y      # type: ignore[attr-defined]
        return seq

    @torch.no_grad()
    def _decode(self, ids: list[int]) -> Any:
        """Codes of one system, column-major rows of ``n_codebooks`` ids, height from the config."""
        c = self.config
        h = (c.height + 15) // 16
        n = c.n_codebooks
        flat = np.array(ids, dtype=np.int64)
        cols = len(flat) // (h * n)
        if cols == 0:
            return np.ones((h * 16, 16), np.float32)
        g = flat[: cols * h * n].reshape(cols, h, n).transpose(1, 0, 2) % c.codebook_size
        img = self.model.decode_codes(torch.as_tensor(g)[None])
        return img[0, 0].numpy()


def save_codec(model: RQVAE, folder: str | Path, half: bool = True) -> Path:
    """Write the codec as a self-describing folder (config.json, rqvae.safetensors; float16 unless
    ``half`` is False), atomically."""
    from safetensors.torch import save_file

    from model.io.atomic import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    state["vq.initialised"] = state["vq.initialised"].to(torch.uint8)
    with atomic_path(folder / "rqvae.safetensors") as tmp:
        save_file(state, str(tmp))
    with atomic_path(folder / "config.json") as tmp:
        tmp.write_text(json.dumps({"format": "unimt-rqvae v1", "config": model.c.to_dict()}, indent=1))
    return folder


def load_codec(folder: str | Path = CODEC_DIR) -> RQVAE:
    """The codec saved by :func:`save_codec` (safetensors: nothing is unpickled), in eval mode."""
    from safetensors.torch import load_file

    folder = Path(folder)
    meta = json.loads((folder / "config.json").read_text())
    model = RQVAE(RQVAEConfig(**meta["config"]))
    state = load_file(str(folder / "rqvae.safetensors"))
    state["vq.initialised"] = state["vq.initialised"].bool()
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval()
