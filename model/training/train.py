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
    # how much of its gradient a task sends into the shared encoder (encoder layers, their norm, source
    # positions, the target-modality embedding added to its input): 0 lets a new task learn on top of an
    # encoder another task owns without changing it (gradient accumulation of 1 only)
    shared_grad: dict = field(default_factory=dict)
    # when starting from init_from: rescale the token embeddings to this mean length (0: leave them). An
    # encoder trained on audio sees stem outputs of length ~48; tokens embedded at length ~0.3 vanish in it
    src_embed_norm: float = 0.0
    # likewise for the image stem: its output projection is rescaled so that training images come out at this
    # mean length (its outputs start at ~0.2)
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


def plot_losses(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    tasks = sorted({k[len("train/"):] for h in history for k in h if k.startswith("train/")})
    for task in tasks:
        pts = [(h["step"], h[f"train/{task}"]) for h in history if f"train/{task}" in h]
        if pts:
            ax.plot(*zip(*pts), label=f"train {task}", alpha=0.7)
        vpts = [(h["step"], h[f"val/{task}"]) for h in history if f"val/{task}" in h]
        if vpts:
            ax.plot(*zip(*vpts), "o-", label=f"val {task}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = path.with_suffix(".part.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


def train(cfg: TrainConfig, source, log=print) -> Path:
    """Train with examples from ``source`` (see :class:`model.training.data.ExampleSource`).

    Returns the run folder; ``RUN/weights`` holds the latest bundle, ``RUN/best`` the best by
    validation loss.
    """
    import torch

    from model.batching import collate
    from model.bundle import load_bundle, save_bundle
    from model.training.checkpoint import load_parts, load_train_state, save_train_state
    from model.transformer import ModelConfig, Seq2Seq, note_loss

    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    if ddp:
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = pick_device(cfg.device)
    if ddp and device == "cuda":
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed + rank)
    torch.manual_seed(cfg.seed + rank)

    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    meta = source.meta()
    vocab = meta["vocab"]
    latest = run / "weights"
    state_path = run / "train_state.pt"
    history_path = run / "history.jsonl"
    step = 0
    bundle: dict = {}
    if (latest / "model.safetensors").exists():
        model, bundle = load_bundle(latest, "cpu")
        model.train()
        step = int(bundle.get("step", 0))
        log(f"resuming {run} at step {step}")
    elif cfg.init_from:
        model, bundle = load_bundle(cfg.init_from, "cpu")
        log(f"starting from {cfg.init_from} (step {bundle.get('step')})")
        # a changed shape (a wider image stem, say): what still fits is kept, the rest starts afresh
        if cfg.model:
            model, fresh = reshape_model(model, cfg.model)
            if fresh:
                log(f"model overrides {cfg.model}: {len(fresh)} tensors start afresh "
                    f"({', '.join(fresh[:4])}...)")
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

            images = [
                ex.src for ex in itertools.islice(source.examples(image_tasks[0], "train", seed=cfg.seed), 16)
            ]
            before = rescale_image_stem(model, images, cfg.image_stem_norm)
            log(f"image stem rescaled from mean length {before:.3g} to {cfg.image_stem_norm:g}")
    else:
        mcfg = ModelConfig.preset(cfg.preset, vocab_size=vocab["size"], **cfg.model)
        model = Seq2Seq(config=mcfg)
    model.to(device)
    log(f"model: {model.num_params() / 1e6:.1f} M parameters on {device}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    if state_path.exists() and step > 0:
        try:
            opt.load_state_dict(load_train_state(state_path)["optimizer"])
        except Exception as exc:  # a changed model: start the optimiser afresh
            log(f"optimizer state not restored ({exc})")
    net = torch.nn.parallel.DistributedDataParallel(model) if ddp else model
    use_amp = cfg.amp and device.startswith("cuda")

    tasks = {t: w for t, w in cfg.tasks.items() if w > 0}
    shared = [p for n, p in model.named_parameters() if n.startswith(SHARED_ENCODER)]
    names, weights = list(tasks), [tasks[t] for t in tasks]
    mc = model.config

    def fits(examples):
        """Drop what the model cannot take (a short preset, a long excerpt): never a crash mid-run."""
        for ex in examples:   # encoder positions: tokens as they are, image width / 8, audio frames / 2
            n = ex.src.shape[-1] // 8 if ex.src_kind == "image" else (
                ex.src.shape[0] // 2 if ex.src_kind == "audio" else len(ex.src))
            if len(ex.tgt) + 1 < mc.max_tgt_len and n <= mc.max_src_len:
                yield ex

    eq_rng = __import__("numpy").random.default_rng(cfg.seed + rank)

    def augmented(examples):
        for ex in examples:
            if cfg.spec_eq_db > 0 and ex.src_kind == "audio":
                ex = dataclasses.replace(ex, src=spectral_eq(ex.src, eq_rng, cfg.spec_eq_db))
            yield ex

    streams = {
        t: token_batches(
            augmented(
                fits(
                    source.examples(
                        t, "train", seed=cfg.seed + rank, curriculum=cfg.curriculum, step_fn=lambda: step
                    )
                )
            ),
            cfg.batch_cost,
            cfg.max_batch,
        )
        for t in names
    }
    masks = {t: torch.as_tensor(source.logit_mask(t), device=device) for t in names}
    bos, eos = vocab["bos"], vocab["eos"]

    def batch_stream():
        while True:
            task = random.choices(names, weights)[0]
            yield task, collate(next(streams[task]), bos, eos)

    prefetch = cfg.prefetch if cfg.prefetch >= 0 else (4 if device.startswith("cuda") else 0)
    batches = prefetched(batch_stream(), prefetch) if prefetch else batch_stream()

    lmx_ids = lmx_range_of(vocab)
    use_ctc = cfg.ctc_weight > 0 and model.ctc_head is not None and lmx_ids is not None

    def run_batch(batch, train=True):
        ctc = None
        if train and use_ctc and batch.src_kind == "image":
            ctc = ctc_targets(batch.tgt_out, lmx_ids)
        batch = batch.to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            if batch.labels is not None:      # the note head's piano roll
                return note_loss(model.notes(batch.src, batch.target_modality, batch.src_pad), batch.labels)
            _, loss = net(
                batch.src_kind,
                batch.src,
                batch.tgt_in,
                batch.target_modality,
                batch.src_pad,
                tgt_out=batch.tgt_out,
                logit_mask=masks[batch.task],
                ctc=None if ctc is None else tuple(x.to(device) for x in ctc),
                ctc_weight=cfg.ctc_weight,
            )
        return loss

    def evaluate() -> dict:
        model.eval()
        out = {}
        with torch.no_grad():
            for t in names:
                losses = []
                for i, exs in enumerate(
                    token_batches(
                        fits(source.examples(t, "validation", seed=0)), cfg.batch_cost, cfg.max_batch
                    )
                ):
                    if i >= cfg.eval_batches:
                        break
                    losses.append(float(run_batch(collate(exs, bos, eos), train=False)))
                if losses:
                    out[f"val/{t}"] = sum(losses) / len(losses)
        model.train()
        return out

    def checkpoint(folder: Path, metrics: dict):
        # tasks the starting weights already do stay listed (a new task may train on top of them), and so do
        # their tuned inference settings (note thresholds, windows)
        carried = {k: bundle[k] for k in ("inference",) if k in bundle}
        save_bundle(
            folder,
            model,
            {
                **meta,
                **carried,
                "tasks": {**bundle.get("tasks", {}), **tasks},
                "step": step,
                "metrics": metrics,
                "train_config": dataclasses.asdict(cfg),
            },
        )

    history = [json.loads(x) for x in history_path.read_text().splitlines()] if history_path.exists() else []
    # logged after the checkpoint resumed from: trained again
    if any(h.get("step", 0) > step for h in history):
        history = [h for h in history if h.get("step", 0) <= step]
        if rank == 0:
            tmp = history_path.with_suffix(".jsonl.part")
            tmp.write_text("".join(json.dumps(h) + "\n" for h in history))
            os.replace(tmp, history_path)
    best = min((h.get("val/mean", float("inf")) for h in history), default=float("inf"))
    t0 = time.time()
    running: dict[str, list[float]] = {t: [] for t in names}
    tokens = 0
    step_count = 0    # steps taken by this process (step counts from the run's start)
    data_s = 0.0      # time spent waiting for batches: where a GPU's time goes when the data cannot keep up
    model.train()
    while step < cfg.steps:
        if cfg.max_hours and time.time() - t0 > cfg.max_hours * 3600:
            log("time budget reached")
            break
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg, time.time() - t0)
        opt.zero_grad(set_to_none=True)
        for _ in range(cfg.grad_accum):
            t_data = time.time()
            task, batch = next(batches)
            data_s += time.time() - t_data
            loss = run_batch(batch) / cfg.grad_accum
            loss.backward()
            running[task].append(loss.item() * cfg.grad_accum)
            tokens += int((batch.tgt_out != 0).sum()) if batch.labels is None else int((~batch.src_pad).sum())
        scale = cfg.shared_grad.get(task, 1.0) if cfg.grad_accum == 1 else 1.0
        if scale != 1.0:
            for p in shared:
                if p.grad is not None:
                    p.grad = None if scale == 0 else p.grad * scale   # None: AdamW leaves it alone
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        step += 1
        step_count += 1
        if rank != 0:
            continue
        if step % cfg.log_every == 0:
            elapsed = time.time() - t0
            rec = {"step": step, "lr": lr_at(step, cfg, elapsed), "tok_per_s": round(tokens / elapsed, 1),
                   "steps_per_s": round(step_count / elapsed, 2), "data_share": round(data_s / elapsed, 3)}
            for t, vals in running.items():
                if vals:
                    rec[f"train/{t}"] = sum(vals) / len(vals)
            running = {t: [] for t in names}
            if step % cfg.eval_every == 0:
                rec.update(evaluate())
                vals = [v for k, v in rec.items() if k.startswith("val/")]
                if vals:
                    rec["val/mean"] = sum(vals) / len(vals)
                    if rec["val/mean"] < best:
                        best = rec["val/mean"]
                        checkpoint(run / "best", rec)
            history.append(rec)
            with history_path.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()))
            if step % cfg.eval_every == 0:
                try:
                    plot_losses(history, run / "loss.png")
                except Exception as exc:  # plotting must never stop training
                    log(f"loss plot failed: {exc}")
        if step % cfg.ckpt_every == 0 or step == cfg.steps:
            checkpoint(latest, history[-1] if history else {})
            save_train_state(state_path, opt, step)
    if rank == 0:
        checkpoint(latest, history[-1] if history else {})
        save_train_state(state_path, opt, step)
    if ddp:
        torch.distributed.destroy_process_group()
    return run


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
