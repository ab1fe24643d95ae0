"""The staff reader: a small convolutional-recurrent network read out with CTC.

Input: staff strips (:mod:`model.omr.strips`), ``(batch, 1, 128, W)``, ink 1. Residual convolution
blocks with batch norm reduce the strip to one feature vector per 4-pixel column (half a staff
space); a two-layer bidirectional LSTM gives every column the context of the staff; a linear head
writes ``slots`` symbol logits per column (CTC needs at least as many output positions as symbols,
and a dense measure of chords has more symbols than columns). The head also sees the column's own
convolutional features (a column-local path): without it the LSTM must learn to copy what a column
shows before it can learn anything else, and the reader learns far more slowly.

About 4 M parameters; one staff of four measures is read in a few milliseconds on a laptop core.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from model.omr.strips import STAFF_SPACE, STRIP_SPACES


@dataclass
class ReaderConfig:
    classes: int                # symbols, blank (0) included
    space: int = STAFF_SPACE    # strip pixels per staff space (:func:`model.omr.strips.staff_strips`)
    channels: tuple = (16, 24, 48, 96, 128)
    hidden: int = 160
    feature: int = 192
    slot_dim: int = 96          # width of each slot's classifier input
    slots: int = 3              # CTC outputs per 4-pixel column
    dropout: float = 0.1
    keys: int = 0               # header head: key signature classes (0: no head)
    times: int = 0              # header head: time signature classes
    header_cols: int = 96       # the columns the header head reads (384 px, 48 staff spaces)
    header_hidden: int = 64
    header_pool: bool = False   # the head also max-pools its GRU's outputs over the columns

    @property
    def height(self) -> int:
        """Strip rows: 16 staff spaces (a multiple of 32 for an even ``space``)."""
        return STRIP_SPACES * self.space

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ReaderConfig:
        d = dict(d)
        d["channels"] = tuple(d.get("channels", cls.channels))
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class _Block(nn.Module):
    """A 3x3 convolution with batch norm, a second one on a residual path, then pooling."""

    def __init__(self, cin: int, cout: int, pool: tuple[int, int]):
        super().__init__()
        self.conv1 = _conv(cin, cout)
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))
        self.pool = nn.MaxPool2d(pool)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(x)
        return self.pool(torch.relu(y + self.conv2(y)))


class StaffReader(nn.Module):
    bf16_convolutions = False   # set on a reading copy by :meth:`fused`

    def __init__(self, config: ReaderConfig):
        super().__init__()
        self.config = config
        c = config.channels
        # full resolution is expensive: one thin strided convolution there, two at each coarser level
        self.stem = nn.Sequential(nn.Conv2d(1, c[0], 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c[0]),
                                  nn.ReLU())
        pools = [(2, 2), (2, 1), (2, 1), (2, 1)]
        self.blocks = nn.Sequential(*[_Block(cin, cout, p) for cin, cout, p in zip(c[:-1], c[1:], pools)])
        rows = config.height // 32
        self.project = nn.Sequential(nn.Linear(c[-1] * rows, config.feature), nn.LayerNorm(config.feature), nn.ReLU(),
                                     nn.Dropout(config.dropout))
        self.rnn = nn.LSTM(config.feature, config.hidden, num_layers=2, bidirectional=True, batch_first=True,
                           dropout=config.dropout)
        self.slots = nn.Linear(2 * config.hidden + config.feature, config.slots * config.slot_dim)
        self.classify = nn.Linear(config.slot_dim, config.classes)
        if config.keys:
            self.header = nn.GRU(config.feature, config.header_hidden, batch_first=True, bidirectional=True)
            width = (4 if config.header_pool else 2) * config.header_hidden
            self.header_out = nn.Linear(width, config.keys + config.times)
        self.to(memory_format=torch.channels_last)

    def forward(self, images: torch.Tensor, header: bool = False):
        """``(B, 1, H, W)`` -> log-probabilities ``(B, T, classes)`` with ``T = W // 4 * slots``; with
        ``header``, also the key and time signature logits of the strip's opening, ``(B, keys)`` and
        ``(B, times)``.

        Why a head of its own: CTC lets the reader write a strip's clef, key and time at its first
        column, before the glyphs, and then the backward LSTM must carry them across part names and
        braces; it reads the key signature there barely better than its prior (31% right on training
        staves). The head is a small GRU over the column features of the strip's opening, where the
        glyphs are, trained with cross-entropy beside CTC.
        """
        x = self._convolve(images.contiguous(memory_format=torch.channels_last))   # (B, C, H/32, W/4)
        b, ch, rows, cols = x.shape
        x = x.permute(0, 3, 1, 2).reshape(b, cols, ch * rows)
        f = self.project(x)
        h, _ = self.rnn(f)
        s = torch.relu(self.slots(torch.cat([h, f], dim=-1)))     # (B, cols, slots * slot_dim)
        logits = self.classify(s.reshape(b, cols * self.config.slots, self.config.slot_dim))
        log_probs = torch.log_softmax(logits, dim=-1)
        if not header:
            return log_probs
        opening = f[:, : self.config.header_cols]
        if opening.shape[1] < self.config.header_cols:
            opening = nn.functional.pad(opening, (0, 0, 0, self.config.header_cols - opening.shape[1]))
        seq, last = self.header(opening)                     # (2, B, hidden): both directions' ends
        ends = torch.cat([last[0], last[1]], dim=-1)
        if self.config.header_pool:      # a glyph seen anywhere in the opening (a time signature's digits)
            ends = torch.cat([ends, seq.max(dim=1).values], dim=-1)
        out = self.header_out(ends)
        return log_probs, out[:, : self.config.keys], out[:, self.config.keys:]

    def _convolve(self, images: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16_convolutions):
            return self.blocks(self.stem(images)).float()   # float32 stays as it is

    def fused(self, int8: bool = True, bf16: bool = False) -> nn.Module:
        """A copy for reading only (eval mode): each batch norm folded into the convolution before it (the
        same outputs to float rounding, about 15% less time on a CPU) and, with ``int8``, the recurrent and
        linear layers run with int8 weights and activations quantized on the fly (PyTorch's dynamic
        quantization: the LSTM is most of a reading's time). With ``bf16`` the convolutions run in bfloat16
        (for a CPU that computes it natively, :func:`native_bf16`: about half their time, the same readings
        to within noise; on others oneDNN would emulate it, slower than float32)."""
        import copy
        import warnings

        from torch.nn.utils.fusion import fuse_conv_bn_eval

        out = copy.deepcopy(self).eval()
        pairs = [out.stem] + [conv for block in out.blocks for conv in (block.conv1, block.conv2)]
        for seq in pairs:
            seq[0] = fuse_conv_bn_eval(seq[0], seq[1])
            seq[1] = nn.Identity()
        out = out.to(memory_format=torch.channels_last)
        out.bf16_convolutions = bf16
        if int8:
            with warnings.catch_warnings():   # the eager API is deprecated in favour of torchao; it still works
                warnings.simplefilter("ignore")
                out = torch.ao.quantization.quantize_dynamic(out, {nn.LSTM, nn.GRU, nn.Linear}, dtype=torch.qint8)
        return out

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        return (widths // 4) * self.config.slots


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX), so that oneDNN's bfloat16
    convolutions are faster than float32 ones."""
    cpu = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(getattr(cpu, name, lambda: False)() for name in checks)
    except Exception:   # a private check that this build lacks or that fails: float32, as everywhere
        return False


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor) -> list[tuple[list[int], list[float], list[int]]]:
    """Best path per item: (symbol ids, the probability of each, the output position of each), blanks (0)
    and repeats removed. Position ``t`` lies in strip column ``t // slots``, 4 pixels wide."""
    best, arg = log_probs.max(dim=-1)
    out = []
    for i in range(log_probs.shape[0]):
        n = int(lengths[i])
        a, p = arg[i, :n], best[i, :n].exp()
        prev = torch.cat([a.new_zeros(1), a[:-1]])
        keep = (a != 0) & (a != prev)
        out.append((a[keep].tolist(), p[keep].tolist(), torch.nonzero(keep).flatten().tolist()))
    return out
