"""Training examples streamed from the shards of ``unimt data build`` (:mod:`model.data.build`).

:class:`ShardSource` is what :func:`model.training.train.train` eats:

* ``meta()``: the unified vocabulary and the tokenizers' configurations (they travel with every
  checkpoint, so a bundle describes itself);
* ``examples(task, split, seed, curriculum, step_fn)``: an endless shuffled stream for ``train``
  (shard order and order inside a shard reshuffled every pass, one shard in memory at a time), one
  pass for ``validation``; the curriculum ``[[step, max_measures], ...]`` keeps short excerpts first;
* ``logit_mask(task)``: the decoder's allowed outputs for the task's target modality.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from model.batching import Example
from model.data.build import held_out_soundfont

TASK_SOURCE = {"image2lmx": "image", "image2midi": "image", "audio2midi": "audio", "audio2lmx": "audio",
               "midi2lmx": "tokens", "audio2notes": "audio"}
TASK_TARGET = {"image2lmx": "lmx", "image2midi": "midi", "audio2midi": "midi", "audio2lmx": "lmx",
               "midi2lmx": "lmx", "audio2notes": "midi"}
# audio2notes: the audio2midi windows, learned by the encoder's note head as a piano roll
RECORD_TASK = {"audio2notes": "audio2midi"}


def make_vocabulary(lmx, midi):
    from model.vocab import Vocabulary

    return Vocabulary.from_tokenizers({"lmx": lmx, "midi": midi})


def max_measures_at(curriculum: list, step: int) -> Optional[int]:
    """The curriculum's measure limit at ``step`` (None: no limit)."""
    limit = None
    for start, value in sorted(curriculum or []):
        if step >= start:
            limit = value
    return limit


class ShardSource:
    def __init__(self, data_dir: str | Path):
        from model.data.build import AUDIO_WINDOW_S
        from model.tokenizers.audio import MelConfig
        from model.tokenizers.lmx import LMXTokenizer
        from model.tokenizers.midi import MidiTokenizer
        from model.tokenizers.score_image import SystemImageConfig

        # several builds may train together: "data/v1,data/v2" (their shards are pooled)
        self.dirs = [Path(d.strip()) for d in str(data_dir).split(",") if d.strip()]
        self.dir = self.dirs[0]
        self.manifests = []
        for d in self.dirs:
            manifest_path = d / "manifest.json"
            if not manifest_path.exists():
                raise FileNotFoundError(
                    f"{manifest_path}: no manifest; build data with `unimt data build --out {d}`"
                )
            self.manifests.append(json.loads(manifest_path.read_text()))
        self.lmx, self.midi = LMXTokenizer(), MidiTokenizer()
        self.image_config, self.mel_config = SystemImageConfig(), MelConfig()
        self.vocab = make_vocabulary(self.lmx, self.midi)
        self.audio_window_s = AUDIO_WINDOW_S
        self._lmx_ids = {t: i for i, t in enumerate(self.lmx.vocab)}
        self._midi_ids = {t: i for i, t in enumerate(self.midi.vocab)}

    @property
    def manifest(self) -> dict:
        """The first build's manifest (its seed and totals describe a run)."""
        return self.manifests[0]

    def meta(self) -> dict:
        from dataclasses import asdict

        return {
            "vocab": self.vocab.to_dict(),
            "tokenizers": {
                "lmx": {"config": asdict(self.lmx.config)},
                "midi": {"config": asdict(self.midi.config)},
                "image": {"config": asdict(self.image_config)},
                "audio": {"config": asdict(self.mel_config)},
            },
            "inference": {"audio_window_s": self.audio_window_s},
            "data": {
                "dir": ",".join(str(d) for d in self.dirs),
                "seed": self.manifest.get("seed"),
                "totals": self.manifest.get("totals"),
            },
        }

    def logit_mask(self, task: str) -> np.ndarray:
        return np.asarray(self.vocab.modality_mask(TASK_TARGET[task]), dtype=bool)

    def _refresh(self) -> None:
        """Re-read the manifests of builds still running: they have added shards since."""
        for i, d in enumerate(self.dirs):
            if self.manifests[i].get("complete"):
                continue
            try:
                self.manifests[i] = json.loads((d / "manifest.json").read_text())
            except (OSError, ValueError):
                pass  # being rewritten: keep the shards we know

    def shards(self, task: str, split: str) -> list[Path]:
        return [
            d / e["file"]
            for d, m in zip(self.dirs, self.manifests)
            for e in m["shards"]
            if e.get("file") and e["split"] == split and e.get("counts", {}).get(RECORD_TASK.get(task, task))
        ]

    def _ids(self, modality: str, tokens: list[str]) -> list[int]:
        table = self._lmx_ids if modality == "lmx" else self._midi_ids
        unk = self.vocab.unk
        local = [table.get(t) for t in tokens]
        off = self.vocab.offset(modality)
        return [unk if i is None else off + i for i in local]

    def to_example(self, task: str, header: dict, array: Optional[np.ndarray]) -> Optional[Example]:
        kind = header["task"]
        target = TASK_TARGET[task]
        tm = self.vocab.target_id(target)
        if task in ("image2lmx", "image2midi"):
            if kind != "image":
                return None
            tokens = header["tgt_lmx"] if task == "image2lmx" else header.get("tgt_midi_exact")
            if not tokens:
                return None
            return Example(task, "image", array.astype(np.float32) / 255.0, self._ids(target, tokens), tm)
        if kind != RECORD_TASK.get(task, task):
            return None
        if "soundfont" in header and held_out_soundfont(header["soundfont"]):
            return None   # the evaluation piano (older builds used its Lite version): never trained on
        if task == "audio2midi":
            return Example(task, "audio", array.astype(np.float32), self._ids("midi", header["tgt_midi"]), tm)
        if task == "audio2notes":
            from model.notes import note_labels

            window = len(array) / self.mel_config.frames_per_second
            pm = self.midi.decode_window(self.midi.tokens_to_ids(header["tgt_midi"]), window)
            return Example(
                task, "audio", array.astype(np.float32), [], tm, labels=note_labels(pm, len(array))
            )
        if task == "audio2lmx":
            return Example(task, "audio", array.astype(np.float32), self._ids("lmx", header["tgt_lmx"]), tm)
        if task == "midi2lmx":
            src = np.asarray(self._ids("midi", header["src_midi"]), dtype=np.int64)
            return Example(task, "tokens", src, self._ids("lmx", header["tgt_lmx"]), tm)
        return None

    def examples(self, task: str, split: str = "train", seed: int = 0, curriculum: Optional[list] = None,
                 step_fn=None, max_target: int = 1000) -> Iterator[Example]:
        from model.data.build import read_shard

        if task not in TASK_TARGET:
            raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASK_TARGET)}")
        files = self.shards(task, split)
        if not files:
            if split == "train":
                raise ValueError(f"{self.dir}: no {split} shards for {task}")
            return
        rng = random.Random(seed)
        while True:
            if split == "train":   # each pass takes in the shards a running build has added
                self._refresh()
                files = self.shards(task, split) or files
            order = list(files)
            if split == "train":
                rng.shuffle(order)
            for path in order:
                records = read_shard(path)
                if split == "train":
                    rng.shuffle(records)
                limit = max_measures_at(curriculum, step_fn()) if (curriculum and step_fn) else None
                for header, array in records:
                    if limit is not None and header.get("measures", 0) > limit:
                        continue
                    ex = self.to_example(task, header, array)
                    if (
                        ex is not None
                        and (0 < len(ex.tgt) or ex.labels is not None)
                        and len(ex.tgt) <= max_target
                    ):
                        yield ex
            if split != "train":
                return
