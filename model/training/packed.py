"""Training examples packed small enough to travel: one file instead of gigabytes of shards.

The shards of ``unimt data build`` hold score images as 8-bit grey (about 13 kB each, compressed)
and audio as log-mel frames. A training machine that cannot build data itself (a lent GPU with no
Verovio, no music21 and a 64 MiB upload) gets a *pack* instead:

* each image is binarised (ink where grey < 190) and bit-packed: about 1 kB compressed (lzma), so the
  17,225 systems of ``data/v1`` + ``data/v4`` and the 10,163 performances of ``data/v3`` fit in 23 MiB;
* token tasks (``midi2lmx``) keep their ids as they are;
* the vocabulary, the tokenizers' configurations and the logit masks go in the header, so the
  training side imports no tokenizer.

:class:`PackedSource` serves a pack to :func:`model.training.train.train` like
:class:`model.training.data.ShardSource` does the shards. Since the grey levels are gone, every
image is drawn again each time it is served: a light blur brings back anti-aliased edges, and
the images that were degraded when built also get a random ink and paper level, low-frequency
shading and grain. Images stay bit-packed in memory (a bit a pixel) until they are drawn, on a few
threads, numpy releasing the GIL.

    python -m model.training.packed --data data/v1,data/v3,data/v4 --out data/image.unimtpack
    unimt train --config model/configs/gpu_image.toml   # data_dir = "data/image.unimtpack"
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from model.batching import Example
from model.training.data import TASK_SOURCE, TASK_TARGET, max_measures_at

PACK_FORMAT = "unimt-pack v1"
# grey levels under this are ink: staff lines (light after downscaling) survive, noise mostly not
INK_BELOW = 190
PACK_TASKS = ("image2lmx", "image2midi", "midi2lmx")


def pack(data_dirs: str, out: Path, tasks=PACK_TASKS, max_validation: int = 400, log=print) -> dict:
    """Write the ``tasks`` examples of the builds in ``data_dirs`` (comma-separated) to ``out``."""
    from model.data.build import read_shard
    from model.training.data import ShardSource

    source = ShardSource(data_dirs)
    rows: dict[str, list] = {"train": [], "validation": []}
    bits: dict[str, list] = {"train": [], "validation": []}
    widths: dict[str, list] = {"train": [], "validation": []}
    for split in ("train", "validation"):
        kept = {"image": 0, "tokens": 0}
        files = sorted({p for t in tasks for p in source.shards(t, split)})
        for path in files:
            for header, array in read_shard(path):
                kind = "image" if header["task"] == "image" else "tokens"
                if split == "validation" and kept[kind] >= max_validation:
                    continue
                row = {"measures": header.get("measures", 0)}
                for task in tasks:
                    ex = source.to_example(task, header, array)
                    if ex is not None and ex.tgt:
                        row[task] = ex.tgt
                        if ex.src_kind == "tokens":
                            row["src"] = ex.src.tolist()
                if len(row) == 1:
                    continue
                if header["task"] == "image":
                    row["image"] = len(widths[split])
                    row["degraded"] = bool(header.get("degraded"))
                    widths[split].append(array.shape[1])
                    bits[split].append(np.packbits(array < INK_BELOW, axis=1))
                rows[split].append(row)
                kept[kind] += 1
        log(f"{split}: {len(rows[split])} examples, {len(widths[split])} images")
    meta = source.meta()
    head = {"format": PACK_FORMAT, "meta": meta, "rows": rows, "widths": widths,
            "masks": {t: np.flatnonzero(source.logit_mask(t)).tolist() for t in tasks}}
    arrays = {
        f"{s}_bits": (np.concatenate(b, axis=1) if b else np.zeros((20, 0), np.uint8))
        for s, b in bits.items()
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    buf = io.BytesIO()
    np.savez(buf, head=np.frombuffer(json.dumps(head).encode(), dtype=np.uint8), **arrays)
    tmp.write_bytes(lzma.compress(buf.getvalue(), preset=6))   # bit planes: lzma takes a third less than zip
    tmp.replace(out)
    return {s: len(r) for s, r in rows.items()}


def redraw(ink: np.ndarray, degraded: bool, rng: np.random.Generator) -> np.ndarray:
    """A binary ink mask (H, W) -> a grey image in [0, 1] (1 = paper), drawn afresh each time."""
    x = ink.astype(np.float32)
    # anti-aliasing / blur: a separable [a, 1-2a, a] filter, once or twice
    for _ in range(1 + int(degraded and rng.random() < 0.5)):
        a = float(rng.uniform(0.08, 0.3))
        x[:, 1:-1] = a * (x[:, :-2] + x[:, 2:]) + (1 - 2 * a) * x[:, 1:-1]
        x[1:-1, :] = a * (x[:-2, :] + x[2:, :]) + (1 - 2 * a) * x[1:-1, :]
    if not degraded:
        return 1.0 - np.clip(x, 0.0, 1.0)
    h, w = x.shape
    ink_level = float(rng.uniform(0.0, 0.35))
    paper = float(rng.uniform(0.72, 1.0))
    # low-frequency shading: a smooth field from a coarse grid, upsampled
    gh, gw = 3, max(2, w // 160)
    coarse = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    field = np.kron(coarse, np.ones((h // gh + 1, w // gw + 1), np.float32))[:h, :w]
    paper_map = np.clip(paper + float(rng.uniform(0, 0.1)) * field, 0.4, 1.0)
    img = paper_map * (1 - x) + ink_level * x
    if rng.random() < 0.8:
        img = img + rng.normal(0, float(rng.uniform(0.01, 0.08)), (h, w)).astype(np.float32)
    return np.clip(img, 0.0, 1.0)


class PackedSource:
    """A pack written by :func:`pack`, served like :class:`model.training.data.ShardSource`."""

    def __init__(self, path: str | Path, workers: int = 6):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no pack; write one with `python -m model.training.packed`")
        try:
            z = np.load(io.BytesIO(lzma.decompress(self.path.read_bytes())))
        except (lzma.LZMAError, ValueError) as exc:
            raise ValueError(f"{self.path}: not a readable pack ({exc})") from None
        head = json.loads(z["head"].tobytes())
        if head.get("format") != PACK_FORMAT:
            raise ValueError(f"{self.path}: not a {PACK_FORMAT} file")
        self.head = head
        self.workers = workers
        self.bits = {split: z[f"{split}_bits"] for split in ("train", "validation")}
        self.starts = {split: np.cumsum([0] + [(w + 7) // 8 for w in head["widths"][split]])
                       for split in ("train", "validation")}

    def ink(self, split: str, index: int) -> np.ndarray:
        """Image ``index`` of ``split`` as a 0/1 ink mask (H, W), unpacked from its bits."""
        start, stop = self.starts[split][index], self.starts[split][index + 1]
        return np.unpackbits(self.bits[split][:, start:stop], axis=1)[:, : self.head["widths"][split][index]]

    def meta(self) -> dict:
        return {**self.head["meta"], "data": {**self.head["meta"].get("data", {}), "pack": str(self.path)}}

    def logit_mask(self, task: str) -> np.ndarray:
        mask = np.zeros(self.head["meta"]["vocab"]["size"], dtype=bool)
        mask[self.head["masks"][task]] = True
        return mask

    def _example(self, task: str, split: str, row: dict, rng: np.random.Generator) -> Example:
        tm = int(self.head["meta"]["vocab"]["targets"].index(TASK_TARGET[task]))
        if TASK_SOURCE[task] == "image":
            # validation too, from the seeded stream: the same every time
            src = redraw(self.ink(split, row["image"]), row["degraded"], rng)
            return Example(task, "image", src, list(row[task]), tm)
        return Example(task, "tokens", np.asarray(row["src"], dtype=np.int64), list(row[task]), tm)

    def examples(self, task: str, split: str = "train", seed: int = 0, curriculum: Optional[list] = None,
                 step_fn=None, max_target: int = 1000) -> Iterator[Example]:
        rows = [r for r in self.head["rows"][split] if r.get(task) and len(r[task]) <= max_target]
        if not rows:
            if split == "train":
                raise ValueError(f"{self.path}: no {split} examples for {task}")
            return
        rng = random.Random(seed)
        pool = ThreadPoolExecutor(self.workers) if split == "train" and self.workers > 1 else None
        chunk = 512

        def make(item):
            return self._example(task, split, item[0], np.random.default_rng(item[1]))

        while True:
            order = list(rows)
            if split == "train":
                rng.shuffle(order)
            for i in range(0, len(order), chunk):
                limit = max_measures_at(curriculum, step_fn()) if (curriculum and step_fn) else None
                part = [r for r in order[i:i + chunk] if limit is None or r["measures"] <= limit]
                seeds = [rng.randrange(2**31) for _ in part]
                yield from (pool.map(make, zip(part, seeds)) if pool else map(make, zip(part, seeds)))
            if split != "train":
                return


def open_source(data: str):
    """A pack file or shard folders (comma-separated), whichever ``data`` names."""
    if str(data).endswith(".unimtpack"):
        return PackedSource(data)
    from model.training.data import ShardSource

    return ShardSource(data)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, help="shard folders, comma-separated")
    parser.add_argument("--out", type=Path, required=True, help="the pack to write (.unimtpack)")
    parser.add_argument("--tasks", default=",".join(PACK_TASKS))
    args = parser.parse_args(argv)
    counts = pack(args.data, args.out, tuple(t for t in args.tasks.split(",") if t))
    print(f"{args.out}: {counts}, {args.out.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
