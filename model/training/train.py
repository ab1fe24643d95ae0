"""``unimt train --config FILE``: multi-task training of the encoder-decoder, on CPU or GPU(s).

Each step samples a task by its weight (paper section 4.2), draws a token-budget batch of that task,
and takes an optimiser step (AdamW, warm-up then cosine decay, gradient clipping, optional gradient
accumulation and bf16 autocast on GPUs). Checkpoints are self-describing bundles written every
``ckpt_every`` steps; training resumes from the run folder. Validation loss per task is logged, and a
PNG of the loss curves is kept up to date. Several GPUs: launch with ``torchrun`` (DDP).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import tomllib


@dataclass
class TrainConfig:
    run_dir: str = "runs/default"
    data_dir: str = "data/v1"
    preset: str = "small"                    # tiny | small | base | paper
    model: dict = field(default_factory=dict)  # ModelConfig overrides
    tasks: dict = field(default_factory=lambda: {"image2lmx": 1.0})
    batch_cost: int = 4000                   # encoder positions + decoder tokens per batch
    max_batch: int = 32
    lr: float = 5e-4
    min_lr: float = 5e-5
    warmup: int = 300
    steps: int = 20000
    weight_decay: float = 0.01
    grad_accum: int = 1
    clip: float = 1.0
    log_every: int = 20
    eval_every: int = 500
    ckpt_every: int = 200
    eval_batches: int = 8
    device: str = "auto"
    amp: bool = True                         # bf16 autocast where the device has it (CUDA)
    threads: int = 0                         # CPU threads (0: torch's default)
    seed: int = 0
    init_from: str = ""                      # start from a weights bundle (e.g. the shipped weights)
    # then overlay these tensors (python -m model.training.checkpoint parts)
    init_parts: str = ""
    curriculum: list = field(default_factory=list)  # [[step, max_measures], ...] shortest first
    max_hours: float = 0.0                   # stop after this long (0: no limit)
    anneal_by_time: bool = False             # the cosine ends at max_hours if that comes before steps
    prefetch: int = -1                       # batches drawn ahead by a thread (-1: 4 on a GPU, none on a CPU)
    # random smooth EQ on training log-mel frames, up to +-this many dB
    spec_eq_db: float = 0.0
    # audio2notes windows mixed with another, given a room's tail, moved in pitch (model.training.mixing)
    mix_prob: float = 0.0
    reverb_prob: float = 0.0
    shift_prob: float = 0.0
    shift_up: int = 12                       # at most this many semitones up (5 down)
    # how much of its gradient a task sends into the shared encoder (encoder layers, their norm, source
    # positions, the target-modality embedding added to its input): 0 lets a new task learn on top of an
    # encoder another task owns without changing it (gradient accumulation of 1 only)
    shared_grad: dict = field(default_factory=dict)
    # when starting from init_from: rescale the token embeddings to this mean length (0: leave them). An
    # encoder trained on audio sees stem outputs of length ~48; tokens embedded at length ~0.3 vanish in it
    src_embed_norm: float = 0.0
    # likewise for the image stem: its output projection rescaled to this mean length (it starts at ~0.2)
    image_stem_norm: float = 0.0
    # image batches also train a CTC head on the encoder memory against the LMX in column order, at this
    # weight (needs model = { image_ctc = 4, ctc_classes = 457 }): every column learns what stands there
    ctc_weight: float = 0.0

    @classmethod
    def from_toml(cls, path: str | Path, overrides: Optional[list[str]] = None) -> "TrainConfig":
        data = tomllib.loads(Path(path).read_text()) if path else {}
        cfg = cls(**data)
        for item in overrides or []:
            key, _, value = item.partition("=")
            key = key.strip().lstrip("-")
            fields = {f.name: f for f in dataclasses.fields(cls)}
            if key not in fields:
                raise SystemExit(f"unimt train: unknown setting {key!r}")
            current = getattr(cfg, key)
            if isinstance(current, bool):
                parsed: Any = value.lower() in ("1", "true", "yes", "on")
            elif isinstance(current, (int, float)):
                parsed = type(current)(value)
            elif isinstance(current, (dict, list)):
                parsed = json.loads(value)
            else:
                parsed = value
            setattr(cfg, key, parsed)
        return cfg


def pick_device(name: str = "auto") -> str:
    import torch

    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def rescale_image_stem(model, images: list, target: float) -> float:
    """Scale the image stem's output projection so that ``images`` (canvases (H, W) in [0, 1]) come out at
    mean vector length ``target``; returns the length before. With layers of the stem's own after the
    projection the output is no longer linear in it, so the scale is refined a few times."""
    import torch

    def mean_length():
        lengths = [model.image_stem(torch.as_tensor(img, dtype=torch.float32)[None, None]).norm(dim=-1).mean()
                   for img in images]
        return float(torch.stack(lengths).mean())

    with torch.no_grad():
        before = now = mean_length()
        for _ in range(4 if model.image_stem.layers else 1):
            scale = target / max(now, 1e-6)
            model.image_stem.proj.weight.mul_(scale)
            model.image_stem.proj.bias.mul_(scale)
            now = mean_length()
    return before


def prefetched(items: Iterator, depth: int) -> Iterator:
    """``items`` made by a background thread, up to ``depth`` ahead: a GPU computes while the next batches are
    drawn (numpy and torch release the GIL for most of that work). An error in the thread is raised here."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def fill():
        try:
            for item in items:
                q.put(item)
        except BaseException as exc:  # noqa: BLE001 -- handed to the consumer, which raises it
            q.put(exc)
        q.put(done)

    threading.Thread(target=fill, daemon=True, name="batches").start()
    while True:
        item = q.get()
        if item is done:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def reshape_model(model, overrides: dict):
    """``model`` rebuilt with its configuration changed by ``overrides``; the tensors whose shapes still match
    are copied over. Returns (new model, names of the tensors that start afresh)."""
    from model.transformer import ModelConfig, Seq2Seq

    config = ModelConfig.from_dict({**model.config.to_dict(), **overrides})
    if config == model.config:
        return model, []
    new = Seq2Seq(config=config)
    old_state = model.state_dict()
    state = new.state_dict()
    fresh = []
    for name, tensor in state.items():
        if name in old_state and old_state[name].shape == tensor.shape:
            state[name] = old_state[name]
        else:
            fresh.append(name)
    new.load_state_dict(state)
    return new, fresh


def lr_at(step: int, cfg: TrainConfig, elapsed_s: float = 0.0) -> float:
    """Linear warm-up, then a cosine down to ``min_lr`` at ``steps``, or at ``max_hours`` if that comes first
    and ``anneal_by_time`` is set (a lease of unknown speed still ends on a low learning rate)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    if cfg.anneal_by_time and cfg.max_hours > 0:
        t = max(t, min(1.0, elapsed_s / (cfg.max_hours * 3600)))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * t))


def token_batches(examples: Iterator, cost: int, max_batch: int, pool: int = 64) -> Iterator[list]:
    """Group examples of similar size into batches under a cost budget (a sorted pool at a time)."""
    import itertools

    it = iter(examples)
    while True:
        buf = list(itertools.islice(it, pool))
        if not buf:
            return
        buf.sort(key=lambda e: e.cost)
        batches, batch, worst = [], [], 0
        for ex in buf:
            w = max(worst, ex.cost)
            if batch and (w * (len(batch) + 1) > cost or len(batch) >= max_batch):
                batches.append(batch)
                batch, w = [], ex.cost
            batch.append(ex)
            worst = w
        if batch:
            batches.append(batch)
        random.shuffle(batches)
        yield from batches


SHARED_ENCODER = ("encoder.", "enc_norm.", "src_pos.", "target_modality.")


def spectral_eq(frames, rng, max_db: float):
    """Log-mel ``frames`` (T, n_mels) through a random smooth EQ curve of at most +-``max_db`` dB: a tilt
    plus a few broad bumps across the mel axis, as another piano, microphone or room would colour it.
    Bins at the log floor stay there, so silence stays silent."""
    import numpy as np

    from model.batching import AUDIO_PAD as floor

    if max_db <= 0:
        return frames
    n = frames.shape[1]
    x = np.linspace(0.0, 1.0, n)
    curve = rng.uniform(-1, 1) * (x - 0.5) * 2
    for _ in range(int(rng.integers(1, 4))):
        curve = curve + rng.uniform(-1, 1) * np.cos(2 * np.pi * (rng.uniform(0.3, 2.0) * x + rng.uniform()))
    curve = curve / max(1e-6, float(np.abs(curve).max())) * rng.uniform(0, max_db)
    gain = (curve * np.log(10.0) / 20.0).astype(frames.dtype)      # dB -> natural-log units
    return np.where(frames <= floor + 1e-3, frames, np.maximum(frames + gain[None, :], floor))


def ctc_targets(tgt_out, lmx_range: tuple[int, int]):
    """(targets (B, L), lengths (B,)) for the CTC head: each row's LMX (global ids in ``lmx_range``) in column
    order (:func:`model.tokenizers.lmx_visual.visual_ids`), as LMX-local ids (0, the LMX <pad>, is the
    blank)."""
    import torch

    from model.tokenizers.lmx_visual import visual_ids
    from model.tokenizers.lmx_vocab import VOCAB

    lo, hi = lmx_range
    rows = [
        visual_ids([i - lo for i in row if lo <= i < hi]) or [VOCAB.index("measure")]
        for row in tgt_out.tolist()
    ]
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    targets = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
    for k, r in enumerate(rows):
        targets[k, : len(r)] = torch.tensor(r)
    return targets, lengths


def lmx_range_of(vocab: dict) -> tuple[int, int] | None:
    """The LMX ids of a source's vocabulary (``meta()["vocab"]``); None where it has none (toy sources)."""
    from model.vocab import Vocabulary

    if "ranges" not in vocab or not any(r["modality"] == "lmx" for r in vocab["ranges"]):
        return None
    return Vocabulary.from_dict(vocab).range("lmx")


def train(cfg: TrainConfig, source, log=print) -> Path:
    """Train with examples from ``source`` (see :class:`model.training.data.ExampleSource`).

    Returns the run folder; ``RUN/weights`` holds the latest bundle, ``RUN/best`` the best by
    validation loss.
    """
    return _Run(cfg, source, log).train()


def _distributed(cfg: TrainConfig) -> tuple[bool, int, str]:
    """(several processes?, this one's rank, its device), the process group started when there are several."""
    import torch

    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    if ddp:
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = pick_device(cfg.device)
    if ddp and device == "cuda":
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(device)
    return ddp, rank, device


def _start_model(cfg: TrainConfig, source, latest: Path, vocab: dict, log) -> tuple[Any, dict, int]:
    """(model, the bundle it came from, its step): resumed from ``latest``, started from ``cfg.init_from``
    (with its overrides, rescaled embeddings and overlaid parts), or fresh from the preset."""
    import torch

    from model.bundle import load_bundle
    from model.training.checkpoint import load_parts
    from model.transformer import ModelConfig, Seq2Seq

    if (latest / "model.safetensors").exists():
        model, bundle = load_bundle(latest, "cpu")
        model.train()
        step = int(bundle.get("step", 0))
        log(f"resuming {latest.parent} at step {step}")
        return model, bundle, step
    if not cfg.init_from:
        mcfg = ModelConfig.preset(cfg.preset, vocab_size=vocab["size"], **cfg.model)
        return Seq2Seq(config=mcfg), {}, 0
    model, bundle = load_bundle(cfg.init_from, "cpu")
    log(f"starting from {cfg.init_from} (step {bundle.get('step')})")
    # a changed shape (a wider image stem, say): what still fits is kept, the rest starts afresh
    if cfg.model:
        model, fresh = reshape_model(model, cfg.model)
        if fresh:
            log(f"model overrides {cfg.model}: {len(fresh)} tensors start afresh ({', '.join(fresh[:4])}...)")
    model.train()
    if cfg.src_embed_norm > 0:
        with torch.no_grad():
            w = model.src_embed.weight
            w.mul_(cfg.src_embed_norm / w.norm(dim=1).mean().clamp_min(1e-6))
        log(f"token embeddings rescaled to mean length {cfg.src_embed_norm:g}")
    parts = []
    if cfg.init_parts:
        parts = load_parts(model, cfg.init_parts)
        log(f"{len(parts)} tensors from {cfg.init_parts}")
    image_tasks = [t for t, w in cfg.tasks.items() if w > 0 and t.startswith("image")]
    if cfg.image_stem_norm > 0 and image_tasks and not any(p.startswith("image_stem.") for p in parts):
        import itertools

        examples = source.examples(image_tasks[0], "train", seed=cfg.seed)
        images = [ex.src for ex in itertools.islice(examples, 16)]
        before = rescale_image_stem(model, images, cfg.image_stem_norm)
        log(f"image stem rescaled from mean length {before:.3g} to {cfg.image_stem_norm:g}")
    return model, bundle, 0


def _optimizer(model, cfg: TrainConfig, state_path: Path, step: int, log):
    """AdamW (no weight decay on biases and norms), its state restored when resuming."""
    import torch

    from model.training.checkpoint import load_train_state

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    if state_path.exists() and step > 0:
        try:
            opt.load_state_dict(load_train_state(state_path)["optimizer"])
        except Exception as exc:  # a changed model: start the optimiser afresh
            log(f"optimizer state not restored ({exc})")
    return opt


def _history(history_path: Path, step: int, rank: int) -> list[dict]:
    """The run's logged records up to ``step`` (those after the checkpoint resumed from are trained again)."""
    history = [json.loads(x) for x in history_path.read_text().splitlines()] if history_path.exists() else []
    if any(h.get("step", 0) > step for h in history):
        history = [h for h in history if h.get("step", 0) <= step]
        if rank == 0:
            tmp = history_path.with_suffix(".jsonl.part")
            tmp.write_text("".join(json.dumps(h) + "\n" for h in history))
            os.replace(tmp, history_path)
    return history


class _Run:
    """One training run: the model, its optimizer, the batch streams, and the loop over steps."""

    def __init__(self, cfg: TrainConfig, source, log):
        import numpy as np
        import torch

        self.cfg, self.source, self.log = cfg, source, log
        self.ddp, self.rank, self.device = _distributed(cfg)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        random.seed(cfg.seed + self.rank)
        torch.manual_seed(cfg.seed + self.rank)
        self.run = Path(cfg.run_dir)
        self.run.mkdir(parents=True, exist_ok=True)
        self.meta = source.meta()
        vocab = self.meta["vocab"]
        self.latest = self.run / "weights"
        self.state_path = self.run / "train_state.pt"
        self.history_path = self.run / "history.jsonl"
        model, self.bundle, self.step = _start_model(cfg, source, self.latest, vocab, log)
        self.model = model.to(self.device)
        log(f"model: {model.num_params() / 1e6:.1f} M parameters on {self.device}")
        self.opt = _optimizer(model, cfg, self.state_path, self.step, log)
        self.net = torch.nn.parallel.DistributedDataParallel(model) if self.ddp else model
        self.use_amp = cfg.amp and self.device.startswith("cuda")
        self.tasks = {t: w for t, w in cfg.tasks.items() if w > 0}
        self.shared = [p for n, p in model.named_parameters() if n.startswith(SHARED_ENCODER)]
        self.names, self.weights = list(self.tasks), [self.tasks[t] for t in self.tasks]
        self.eq_rng = np.random.default_rng(cfg.seed + self.rank)
        self.masks = {t: torch.as_tensor(source.logit_mask(t), device=self.device) for t in self.names}
        self.bos, self.eos = vocab["bos"], vocab["eos"]
        self.lmx_ids = lmx_range_of(vocab)
        self.use_ctc = cfg.ctc_weight > 0 and model.ctc_head is not None and self.lmx_ids is not None

    def fits(self, examples):
        """Drop what the model cannot take (a short preset, a long excerpt): never a crash mid-run."""
        mc = self.model.config
        for ex in examples:   # encoder positions: tokens as they are, image width / 8, audio frames / 2
            n = ex.src.shape[-1] // 8 if ex.src_kind == "image" else (
                ex.src.shape[0] // 2 if ex.src_kind == "audio" else len(ex.src))
            if len(ex.tgt) + 1 < mc.max_tgt_len and n <= mc.max_src_len:
                yield ex

    def augmented(self, examples):
        from model.training.mixing import per_use

        cfg = self.cfg
        for ex in per_use(examples, self.eq_rng, cfg.mix_prob, cfg.reverb_prob, cfg.shift_prob, cfg.shift_up):
            if cfg.spec_eq_db > 0 and ex.src_kind == "audio":
                ex = dataclasses.replace(ex, src=spectral_eq(ex.src, self.eq_rng, cfg.spec_eq_db))
            yield ex

    def batches(self) -> Iterator:
        """(task, batch) drawn by the task weights, for ever (prefetched by a thread on a GPU)."""
        from model.batching import collate

        cfg = self.cfg
        streams = {t: token_batches(self.augmented(self.fits(self.source.examples(
            t, "train", seed=cfg.seed + self.rank, curriculum=cfg.curriculum, step_fn=lambda: self.step))),
            cfg.batch_cost, cfg.max_batch) for t in self.names}

        def batch_stream():
            while True:
                task = random.choices(self.names, self.weights)[0]
                yield task, collate(next(streams[task]), self.bos, self.eos)

        prefetch = cfg.prefetch if cfg.prefetch >= 0 else (4 if self.device.startswith("cuda") else 0)
        return prefetched(batch_stream(), prefetch) if prefetch else batch_stream()

    def loss(self, batch, train: bool = True):
        import torch

        from model.transformer import note_loss

        ctc = None
        if train and self.use_ctc and batch.src_kind == "image":
            ctc = ctc_targets(batch.tgt_out, self.lmx_ids)
        batch = batch.to(self.device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.use_amp):
            if batch.labels is not None:      # the note head's piano roll
                notes = self.model.notes(batch.src, batch.target_modality, batch.src_pad)
                return note_loss(notes, batch.labels)
            _, loss = self.net(batch.src_kind, batch.src, batch.tgt_in, batch.target_modality, batch.src_pad,
                               tgt_out=batch.tgt_out, logit_mask=self.masks[batch.task],
                               ctc=None if ctc is None else tuple(x.to(self.device) for x in ctc),
                               ctc_weight=self.cfg.ctc_weight)
        return loss

    def validate(self) -> dict:
        import torch

        from model.batching import collate

        cfg = self.cfg
        self.model.eval()
        out = {}
        with torch.no_grad():
            for t in self.names:
                losses = []
                exs_stream = token_batches(self.fits(self.source.examples(t, "validation", seed=0)),
                                           cfg.batch_cost, cfg.max_batch)
                for i, exs in enumerate(exs_stream):
                    if i >= cfg.eval_batches:
                        break
                    losses.append(float(self.loss(collate(exs, self.bos, self.eos), train=False)))
                if losses:
                    out[f"val/{t}"] = sum(losses) / len(losses)
        self.model.train()
        return out

    def checkpoint(self, folder: Path, metrics: dict) -> None:
        from model.bundle import save_bundle

        # tasks the starting weights already do stay listed (a new task may train on top of them), and so do
        # their tuned inference settings (note thresholds, windows)
        carried = {k: self.bundle[k] for k in ("inference",) if k in self.bundle}
        tasks = {**self.bundle.get("tasks", {}), **self.tasks}
        save_bundle(folder, self.model, {**self.meta, **carried, "tasks": tasks, "step": self.step,
                                         "metrics": metrics, "train_config": dataclasses.asdict(self.cfg)})

    def record(self, running: dict, best: float, elapsed: float, tokens: int, steps: int,
               data_s: float) -> float:
        """Log the running losses (and every ``eval_every`` steps the validation losses, the best bundle and
        the plot); returns the best validation loss so far."""
        from model.training.plot import plot_losses

        cfg, step = self.cfg, self.step
        rec = {"step": step, "lr": lr_at(step, cfg, elapsed), "tok_per_s": round(tokens / elapsed, 1),
               "steps_per_s": round(steps / elapsed, 2), "data_share": round(data_s / elapsed, 3)}
        for t, vals in running.items():
            if vals:
                rec[f"train/{t}"] = sum(vals) / len(vals)
        if step % cfg.eval_every == 0:
            rec.update(self.validate())
            vals = [v for k, v in rec.items() if k.startswith("val/")]
            if vals:
                rec["val/mean"] = sum(vals) / len(vals)
                if rec["val/mean"] < best:
                    best = rec["val/mean"]
                    self.checkpoint(self.run / "best", rec)
        self.history.append(rec)
        with self.history_path.open("a") as fh:
            fh.write(json.dumps(rec) + "\n")
        self.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()))
        if step % cfg.eval_every == 0:
            try:
                plot_losses(self.history, self.run / "loss.png")
            except Exception as exc:  # plotting must never stop training
                self.log(f"loss plot failed: {exc}")
        return best

    def train(self) -> Path:
        import torch

        from model.training.checkpoint import save_train_state

        cfg, model, opt = self.cfg, self.model, self.opt
        batches = self.batches()
        self.history = _history(self.history_path, self.step, self.rank)
        best = min((h.get("val/mean", float("inf")) for h in self.history), default=float("inf"))
        t0 = time.time()
        running: dict[str, list[float]] = {t: [] for t in self.names}
        tokens = 0
        step_count = 0    # steps taken by this process (self.step counts from the run's start)
        data_s = 0.0      # time waiting for batches: where a GPU's time goes when the data cannot keep up
        model.train()
        while self.step < cfg.steps:
            if cfg.max_hours and time.time() - t0 > cfg.max_hours * 3600:
                self.log("time budget reached")
                break
            for group in opt.param_groups:
                group["lr"] = lr_at(self.step, cfg, time.time() - t0)
            opt.zero_grad(set_to_none=True)
            for _ in range(cfg.grad_accum):
                t_data = time.time()
                task, batch = next(batches)
                data_s += time.time() - t_data
                loss = self.loss(batch) / cfg.grad_accum
                loss.backward()
                running[task].append(loss.item() * cfg.grad_accum)
                tokens += (int((batch.tgt_out != 0).sum()) if batch.labels is None
                           else int((~batch.src_pad).sum()))
            scale = cfg.shared_grad.get(task, 1.0) if cfg.grad_accum == 1 else 1.0
            if scale != 1.0:
                for p in self.shared:
                    if p.grad is not None:
                        p.grad = None if scale == 0 else p.grad * scale   # None: AdamW leaves it alone
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            self.step += 1
            step_count += 1
            if self.rank != 0:
                continue
            if self.step % cfg.log_every == 0:
                best = self.record(running, best, time.time() - t0, tokens, step_count, data_s)
                running = {t: [] for t in self.names}
            if self.step % cfg.ckpt_every == 0 or self.step == cfg.steps:
                self.checkpoint(self.latest, self.history[-1] if self.history else {})
                save_train_state(self.state_path, opt, self.step)
        if self.rank == 0:
            self.checkpoint(self.latest, self.history[-1] if self.history else {})
            save_train_state(self.state_path, opt, self.step)
        if self.ddp:
            torch.distributed.destroy_process_group()
        return self.run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="a TOML training configuration")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting (type-checked), e.g. --set steps=500")


def run(args) -> int:
    from model.training.packed import open_source

    cfg = TrainConfig.from_toml(args.config, args.set)
    source = open_source(cfg.data_dir)
    train(cfg, source, log=lambda m: print(m, flush=True))
    return 0


def main(argv=None) -> int:  # ``python -m model.training.train``
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
