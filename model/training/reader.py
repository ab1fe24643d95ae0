"""Train the staff reader (:mod:`model.omr.crnn`) with CTC on staves drawn afresh at every step.

    python -m model.training.reader --run runs/reader --hours 1.5 [--threads 1]

One process engraves, degrades and cuts staves (:mod:`model.data.staff_images`) while the trainer
learns on one thread: on two cores that keeps both busy. Every run resumes where the last one
stopped (``RUN/last.pt``: weights, optimiser, step, CPU hours), logs one line per validation to
``RUN/history.jsonl`` (step, hours, training loss, validation symbol error rate) and keeps the best
weights by validation SER in ``RUN/reader.safetensors`` with ``RUN/reader.json`` (its configuration).
Validation staves come from validation-split pieces, drawn once with a fixed seed and kept in
``data/staff_valset.npz`` so that every run is measured on the same staves.

Curriculum: excerpts of at most 1-2 measures first, then longer ones (up to ``--max-measures``),
because a reader learns which symbol is where fastest on short staves.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np
import torch

from model.omr.strips import STAFF_SPACE

VALSET = Path("data/staff_valset.npz")
# validation staves of pages the plain set lacks: a staff in the other clef for some measures, text around the
# staves (made with shares of 0.6); runs that train on them are judged on both sets
VARIANTS = Path("data/staff_valset_variants.npz")
OCTAVE = Path("data/staff_valset_octave.npz")


def _worker(queue, pool_path: str, musescore_dir: str, seed: int, max_measures, degrade_prob: float,
            musescore_share: float = 0.2, clef_share: float = 0.0, text_share: float = 0.0, space: int = STAFF_SPACE,
            octave_share: float = 0.0) -> None:
    torch.set_num_threads(1)
    from model.data.staff_images import load_musescore, load_pool, stream

    pool = load_pool(Path(pool_path))
    musescore = load_musescore(Path(musescore_dir))
    for n, (strip, target) in enumerate(
        stream(pool, seed, lambda: max_measures.value, degrade_prob, musescore, musescore_share, clef_share, text_share,
               space, octave_share), 1
    ):
        queue.put((strip, target))
        if n % 3000 == 0:  # the pool and the engravings may still be growing (builds running beside)
            pool[:] = load_pool(Path(pool_path))
            musescore[:] = load_musescore(Path(musescore_dir))


def batches(queue, budget: int, max_items: int, slots: int):
    """Batches of strips of similar width, at most ``budget`` columns in all (padding included)."""
    buf: list = []
    while True:
        while len(buf) < 4 * max_items:
            strip, target = queue.get()
            if 0 < len(target) <= (strip.shape[1] // 4) * slots * 0.9:
                buf.append((strip, target))
        buf.sort(key=lambda e: e[0].shape[1])
        start = int(np.random.randint(0, len(buf)))
        width = ((buf[start][0].shape[1] + 63) // 64) * 64
        n = max(1, min(max_items, budget // max(width, 1)))
        chosen = buf[max(0, start - n + 1) : start + 1]
        del buf[max(0, start - n + 1) : start + 1]
        yield collate(chosen)


def collate(items) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(images (B,1,H,W) float, widths, targets concatenated, target lengths)."""
    # widths in steps of 64 columns: few distinct shapes, so oneDNN's per-shape caches stay small
    width = max(((s.shape[1] + 63) // 64) * 64 for s, _ in items)
    images = np.zeros((len(items), 1, items[0][0].shape[0], width), np.float32)
    for i, (s, _) in enumerate(items):
        images[i, 0, :, : s.shape[1]] = s / 255.0
    widths = torch.tensor([s.shape[1] for s, _ in items])
    targets = torch.tensor([t for _, ts in items for t in ts], dtype=torch.long)
    lengths = torch.tensor([len(ts) for _, ts in items])
    return torch.from_numpy(images), widths, targets, lengths


def valset_path(path: Path, space: int) -> Path:
    """Where a validation set's staves cut at ``space`` px a staff space are kept (the same excerpts and looks
    at every resolution: the engraving's random draws do not depend on it)."""
    return path if space == STAFF_SPACE else path.with_name(f"{path.stem}_s{space}{path.suffix}")


def validation_set(pool_path: Path, count: int = 160, seed: int = 12345, path: Path = VALSET,
                   variants: float = 0.0, space: int = STAFF_SPACE, octave: float = 0.0) -> list:
    """The fixed validation staves (made once, then read from ``path``, named by ``space``). With ``variants``,
    that share of the excerpts changes clef and, drawn apart, that share carries text (:data:`VARIANTS`); with
    ``octave``, that share has a treble staff in the tenor's clef (:data:`OCTAVE`)."""
    from model.tokenizers.staff_symbols import SYMBOLS, ids

    path = valset_path(path, space)

    if path.exists():  # targets are kept as symbol names: the set stays valid when the vocabulary grows
        data = np.load(path, allow_pickle=False)
        return [(data[f"s{i}"], ids(str(data[f"t{i}"]).split())) for i in range(int(data["n"]))]
    from model.data.clefs import octave_clef
    from model.data.staff_images import load_pool, random_excerpt, staff_examples, with_clefs

    pool = load_pool(pool_path)
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        piece = pool[int(rng.integers(len(pool)))]
        try:
            excerpt = with_clefs(random_excerpt(piece, rng, 4), rng, variants)
            if octave > 0 and rng.random() < octave:
                tenor = octave_clef(excerpt, rng)
                if tenor == excerpt and octave >= 1:   # a set of tenor clefs only: excerpts without one are not kept
                    continue
                excerpt = tenor
            out += staff_examples(excerpt, rng, 0.5, variants, space)
        except Exception:
            continue
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        n=len(out),
        **{f"s{i}": s for i, (s, _) in enumerate(out)},
        **{f"t{i}": np.asarray(" ".join(SYMBOLS[k] for k in t)) for i, (_, t) in enumerate(out)},
    )
    return out


def evaluate_ser(model, valset, batch: int = 8) -> tuple[float, float, float]:
    """(symbol error rate, key signature accuracy, time signature accuracy) of ``model`` on ``valset``,
    reading as the product does (the header head's key and time where the model has one)."""
    from model.metrics import SER
    from model.omr.crnn import greedy_decode
    from model.omr.header import header_labels, header_symbols, read_header
    from model.tokenizers.staff_symbols import SYMBOLS

    keys, times = header_symbols(list(SYMBOLS))
    model.eval()
    ser = SER()
    hits = {"key": [], "time": []}
    order = sorted(range(len(valset)), key=lambda i: valset[i][0].shape[1])
    with torch.inference_mode():
        for k in range(0, len(order), batch):
            items = [valset[i] for i in order[k : k + batch]]
            images, widths, _, _ = collate(items)
            if model.config.keys:
                log_probs, key_logits, time_logits = model(images, header=True)
            else:
                log_probs, key_logits, time_logits = model(images), None, None
            decoded = greedy_decode(log_probs, model.output_lengths(widths))
            for j, ((ids, _, _), (_, target)) in enumerate(zip(decoded, items)):
                if key_logits is not None:
                    (ids,) = read_header([ids], key_logits[j], time_logits[j], list(SYMBOLS))
                ser.add(ids, list(target))
                want = header_labels(list(target), keys, times)
                got = header_labels(ids, keys, times)
                for name, w, g in zip(("key", "time"), want, got):
                    if w >= 0:
                        hits[name].append(w == g)
    model.train()
    return ser.value, float(np.mean(hits["key"] or [0])), float(np.mean(hits["time"] or [0]))


def load_lenient(model, state: dict) -> None:
    """Load weights made before the header head existed or changed: only the head's own weights may be
    missing (or of another shape: they start afresh)."""
    mine = model.state_dict()
    state = {k: v for k, v in state.items() if not (k.startswith("header") and k in mine
                                                      and v.shape != mine[k].shape)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("header") for k in missing):
        raise RuntimeError(f"weights do not fit the reader: missing {missing}, unexpected {unexpected}")


def remap_classes(old: dict, old_symbols: list[str], new: dict) -> dict:
    """``old`` weights for a model whose classifier has ``new``'s symbols: shared symbols keep their rows."""
    from model.tokenizers.staff_symbols import SYMBOLS

    out = dict(old)
    where = {s: i for i, s in enumerate(old_symbols)}
    for name in ("classify.weight", "classify.bias"):
        fresh = new[name].clone()
        for j, sym in enumerate(SYMBOLS):
            if sym in where:
                fresh[j] = old[name][where[sym]]
        out[name] = fresh
    return out


def save_best(model, run: Path) -> None:
    from safetensors.torch import save_file

    from model.tokenizers.staff_symbols import SYMBOLS

    save_file(
        {k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(run / "reader.safetensors")
    )
    (run / "reader.json").write_text(json.dumps({"config": model.config.to_dict(), "symbols": list(SYMBOLS)}))


def _restore(model, opt, ck: dict | None, args) -> tuple[dict, dict | None]:
    """Resume from ``ck`` (the run's ``last.pt``), or start from ``--init`` weights, or from scratch: the
    run's state, and the weight average it kept (None when there is none)."""
    from model.tokenizers.staff_symbols import SYMBOLS

    state, ema_state = {"step": 0, "hours": 0.0, "best": 1e9}, None
    if ck is not None:
        if ck.get("symbols", list(SYMBOLS)) == list(SYMBOLS):
            load_lenient(model, ck["model"])
            try:
                opt.load_state_dict(ck["opt"])
            except ValueError:   # new parameters (a head added): the optimiser starts afresh
                pass
        else:  # the vocabulary changed: keep every weight, and the classifier rows of the symbols kept
            load_lenient(model, remap_classes(ck["model"], ck["symbols"], model.state_dict()))
        state, ema_state = ck["state"], ck.get("ema")
        print(f"resumed at step {state['step']} ({state['hours']:.2f} h)", flush=True)
    elif args.init:  # a fresh run from shipped weights (float16 is enough to go on from)
        from safetensors.torch import load_file

        from model.bundle import dequantize
        from model.omr.crnn import ReaderConfig

        meta = json.loads((Path(args.init) / "reader.json").read_text())
        old = meta["symbols"]
        weights = dequantize(load_file(str(Path(args.init) / "reader.safetensors")))
        if old != list(SYMBOLS):
            weights = remap_classes(weights, old, model.state_dict())
        old_config = ReaderConfig.from_dict(meta["config"] | {"classes": len(SYMBOLS)})
        if old_config.channels != model.config.channels or old_config.hidden != model.config.hidden:
            from model.training.widen import widen

            if old_config.height != model.config.height:
                raise SystemExit("--init: change the reader's width or its staff space, not both in one run")

            weights = widen(weights, old_config, model)   # reads as before; the new channels learn
        if old_config.height != model.config.height:
            weights["project.0.weight"] = resample_rows(weights["project.0.weight"], old_config.channels[-1],
                                                        model.config.height // 32)
        load_lenient(model, weights)
        print(f"initialised from {args.init}", flush=True)
    return state, ema_state


def _ema_of(model, decay: float, saved: dict | None):
    """The averaged copy of the weights that is validated and kept (the model itself when ``decay`` is 0),
    resumed from ``saved`` when the run kept one."""
    if decay <= 0:
        return model
    import copy

    ema = copy.deepcopy(model)
    if saved is not None:
        try:
            load_lenient(ema, saved)
        except RuntimeError:  # the vocabulary changed: start the average from the weights
            pass
    ema.eval()
    return ema


@torch.no_grad()
def _ema_update(ema, model, decay: float) -> None:
    """Exponential moving average of weights and batch-norm statistics (validation noise halves, and it
    needs no annealing to read like an annealed model)."""
    if ema is model:
        return
    for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
        if e.is_floating_point():
            e.mul_(decay).add_(m, alpha=1 - decay)
        else:
            e.copy_(m)


def _save_last(run: Path, model, opt, ema, state: dict) -> None:
    from model.tokenizers.staff_symbols import SYMBOLS

    ck = {"model": model.state_dict(), "opt": opt.state_dict(), "ema": ema.state_dict(), "state": state,
          "symbols": list(SYMBOLS), "config": model.config.to_dict()}
    torch.save(ck, run / "last.tmp")
    (run / "last.tmp").replace(run / "last.pt")


def resample_rows(weight: torch.Tensor, channels: int, rows: int) -> torch.Tensor:
    """The projection's weight ``(feature, channels * old rows)`` for strips of another height: a column's
    features are (channel, row) flattened channel-major, and each channel's weights over the rows are
    interpolated to ``rows`` (scaled so that the same ink gives about the same feature). Only a start: the
    convolutions see staves of another size too, and the run must teach them."""
    old = weight.shape[1] // channels
    w = weight.reshape(weight.shape[0] * channels, 1, old)
    w = torch.nn.functional.interpolate(w, size=rows, mode="linear", align_corners=True) * (old / rows)
    return w.reshape(weight.shape[0], channels * rows)


def _ce_or_zero(ce, logits, labels):
    return ce(logits, labels) if (labels >= 0).any() else logits.sum() * 0.0


def _config(args, ck: dict | None, classes: int, keys: int, times: int):
    """The reader's shape: the one a run started with when it resumes (``ck``), else the command line's,
    where ``--channels``, ``--hidden`` and ``--space`` default to ``--init``'s reader (or to the first reader's
    shape)."""
    from model.omr.crnn import ReaderConfig

    saved = ck.get("config") if ck is not None else None
    if saved:
        return ReaderConfig.from_dict(saved | {"classes": classes})
    shape = {"channels": (16, 24, 48, 96, 128), "hidden": 160, "space": STAFF_SPACE, "header_pool": True}
    if args.init:   # its whole shape (the feature size, the slots, ...), with what the command line changes
        init = json.loads((Path(args.init) / "reader.json").read_text())["config"]
        shape = ReaderConfig.from_dict(init | {"classes": classes}).to_dict()
        shape = {k: v for k, v in shape.items() if k not in ("classes", "keys", "times")}
    if args.channels:
        shape["channels"] = tuple(args.channels)
    if args.hidden:
        shape["hidden"] = args.hidden
    if args.space:
        shape["space"] = args.space
    return ReaderConfig.from_dict(shape | {"classes": classes, "keys": keys, "times": times})


def _validate(ema, valsets: dict, run: Path, state: dict, extra: dict) -> None:
    """Read the validation staves, log one line to ``RUN/history.jsonl`` and keep the best weights: best by
    the mean SER of the sets read (``valsets``: name -> staves, the plain set first; the others are logged
    as ``val_NAME``); a run that changes criterion starts its best afresh."""
    (plain, *others) = valsets.items()
    ser, key_acc, time_acc = evaluate_ser(ema, plain[1])
    rec = {"step": state["step"], "hours": round(state["hours"], 4), "loss": extra["loss"], "val_ser": round(ser, 4),
           "val_key": round(key_acc, 3), "val_time": round(time_acc, 3), "lr": extra["lr"],
           "measures": extra["measures"]}
    sers = [ser]
    for name, staves in others:
        sers.append(evaluate_ser(ema, staves)[0])
        rec[f"val_{name}"] = round(sers[-1], 4)
    judged, criterion = sum(sers) / len(sers), " and ".join(valsets)
    if state.get("criterion", "plain") != criterion:
        state["criterion"], state["best"] = criterion, 1e9
    print(json.dumps(rec), flush=True)
    with open(run / "history.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")
    if judged < state["best"]:
        state["best"] = judged
        save_best(ema, run)


def train(args) -> None:
    from model.omr.crnn import StaffReader
    from model.omr.header import header_labels, header_symbols
    from model.tokenizers.staff_symbols import SYMBOLS

    keys, times = header_symbols(list(SYMBOLS))
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    ck = torch.load(run / "last.pt", weights_only=True) if (run / "last.pt").exists() else None
    model = StaffReader(_config(args, ck, len(SYMBOLS), len(keys), len(times)))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    state, ema_state = _restore(model, opt, ck, args)
    del ck   # the weights live in the model and the optimiser now
    ema = _ema_of(model, args.ema, ema_state)
    space = model.config.space
    valsets = {"plain": validation_set(Path(args.val_pool), space=space)}
    if args.clef_share or args.text_share:
        valsets["variants"] = validation_set(Path(args.val_pool), 100, 54321, VARIANTS, variants=0.6, space=space)
    if args.octave_share:   # the tenor's clef is judged too: no set above holds it
        valsets["octave"] = validation_set(Path(args.val_pool), 60, 777, OCTAVE, octave=1.0, space=space)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    ce = torch.nn.CrossEntropyLoss(ignore_index=-100)

    measures = mp.Value("i", 1)
    queue = mp.Queue(maxsize=256)
    shares = (args.degrade, args.musescore_share, args.clef_share, args.text_share, space, args.octave_share)
    workers = [
        mp.Process(target=_worker, daemon=True,
                   args=(queue, args.pool, args.musescore, args.seed * 100 + state["step"] + i, measures, *shares))
        for i in range(args.workers)
    ]
    for w in workers:
        w.start()
    t0, last_val, last_save = time.time(), time.time(), time.time()
    hours0 = state["hours"]
    losses: list[float] = []
    for images, widths, targets, lengths in batches(queue, args.budget, args.max_items, model.config.slots):
        hours = hours0 + (time.time() - t0) / 3600
        measures.value = int(min(args.max_measures, 2 + hours / args.grow_hours * (args.max_measures - 2)))
        frac = (time.time() - t0) / 3600 / args.hours
        lr = args.lr * min(1.0, (state["step"] + 1) / 200)
        if args.anneal and frac > 0.7:
            lr *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (frac - 0.7) / 0.3))
        for g in opt.param_groups:
            g["lr"] = lr
        log_probs, key_logits, time_logits = model(images, header=True)
        labels = torch.tensor(
            [header_labels(t.tolist(), keys, times) for t in torch.split(targets, lengths.tolist())]
        )
        loss = ctc(log_probs.transpose(0, 1), targets, model.output_lengths(widths), lengths)
        if (labels >= 0).any():
            loss = loss + args.header_weight * (
                _ce_or_zero(ce, key_logits, labels[:, 0]) + _ce_or_zero(ce, time_logits, labels[:, 1])
            )
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        _ema_update(ema, model, args.ema)
        state["step"] += 1
        losses.append(float(loss.detach()))
        now = time.time()
        done = frac >= 1.0
        if now - last_val > args.val_minutes * 60 or done:
            state["hours"] = hours
            _validate(ema, valsets, run, state, {"loss": round(float(np.mean(losses)), 4), "lr": lr,
                                                 "measures": measures.value})
            losses, last_val = [], now
        if now - last_save > 300 or done:
            state["hours"] = hours
            _save_last(run, model, opt, ema, state)
            last_save = now
        if done:
            break
    for w in workers:
        w.terminate()


def ship(run: Path, dest: Path, int8: bool = False) -> None:
    """Write the run's best reader into a weights folder: ``reader.json`` and ``reader.safetensors`` in
    float16 (batch-norm statistics stay float32), or with ``int8`` its large weights as int8 with a
    scale per group of inputs (:func:`model.bundle.quantize_int8`: half the size, for a reader that would
    not fit the 30 MiB bundle in float16)."""
    from safetensors.torch import load_file, save_file

    from model.bundle import quantize_int8

    state = load_file(str(run / "reader.safetensors"))
    if int8:
        small = quantize_int8(state)
    else:
        small = {
            k: (v.half() if v.is_floating_point() and "running_" not in k else v).contiguous()
            for k, v in state.items()
        }
    dest.mkdir(parents=True, exist_ok=True)
    save_file(small, str(dest / "reader.safetensors.tmp"))
    (dest / "reader.safetensors.tmp").chmod(0o644)   # shipped in the repository: readable by all
    (dest / "reader.safetensors.tmp").replace(dest / "reader.safetensors")
    (dest / "reader.json").write_text((run / "reader.json").read_text())


def curve(run: Path, every: float = 0.25) -> str:
    """The learning curve of a run as a Markdown table: validation SER against CPU hours, one row per
    ``every`` hours and the last one."""
    rows = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines() if line.strip()]
    variants = any("val_variants" in r for r in rows)
    out = [
        "| training hours (wall clock) | step | max measures | training CTC loss | validation symbol SER |"
        + (" validation SER, clef and text variants |" if variants else ""),
        "| --- | --- | --- | --- | --- |" + (" --- |" if variants else ""),
    ]
    next_at = 0.0
    for i, r in enumerate(rows):
        if r["hours"] >= next_at or i == len(rows) - 1:
            extra = "" if not variants else (f" {r['val_variants']:.1%} |" if "val_variants" in r else " |")
            out.append(
                f"| {r['hours']:.2f} | {r['step']} | {r['measures']} | {r['loss']:.3f} | {r['val_ser']:.1%} |"
                + extra
            )
            next_at = r["hours"] + every
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", default="runs/reader")
    ap.add_argument("--pool", default="data/staff_train.jsonl.gz")
    ap.add_argument("--val-pool", default="data/staff_val.jsonl.gz")
    ap.add_argument("--musescore", default="data/mscore_train", help="MuseScore 3 engravings made ahead")
    ap.add_argument("--musescore-share", type=float, default=0.2, help="share of the systems drawn from them")
    ap.add_argument("--clef-share", type=float, default=0.0,
                    help="share of the Verovio excerpts with one staff in the other clef for some measures")
    ap.add_argument("--text-share", type=float, default=0.0,
                    help="share of the Verovio excerpts engraved with lyrics, words and fingerings")
    ap.add_argument("--octave-share", type=float, default=0.0,
                    help="share of the Verovio excerpts with a treble staff in the tenor's clef (G2-8)")
    ap.add_argument("--hours", type=float, default=1.0,
                    help="wall-clock hours of this invocation: a resumed run's learning-rate schedule (and "
                    "--anneal) starts again from its resume")
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--anneal", action="store_true", help="cosine down over the last 30%% of the run")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--budget", type=int, default=4000, help="strip columns per batch")
    ap.add_argument("--max-items", type=int, default=24)
    ap.add_argument("--max-measures", type=int, default=6)
    ap.add_argument("--grow-hours", type=float, default=1.0, help="hours to reach --max-measures")
    ap.add_argument("--degrade", type=float, default=0.5)
    ap.add_argument("--val-minutes", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--header-weight", type=float, default=0.5, help="weight of the key/time head's loss")
    ap.add_argument("--ema", type=float, default=0.999, help="decay of the weight average kept (0: none)")
    ap.add_argument("--channels", type=lambda v: [int(x) for x in v.split(",")], default=None,
                    help="convolution channels of a new run (default: --init's; a wider one grows from it)")
    ap.add_argument("--hidden", type=int, default=None, help="LSTM units per direction of a new run "
                    "(default: --init's)")
    ap.add_argument("--space", type=int, default=None, choices=(8, 10, 12, 14, 16),
                    help="strip pixels per staff space of a new run (default: --init's reader's, or 8)")
    ap.add_argument("--init", default=None, help="a weights folder with a reader to start a new run from")
    ap.add_argument("--curve", action="store_true", help="print the run's learning curve and stop")
    ap.add_argument(
        "--ship",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the run's best reader into the weights folder DIR (float16) and stop",
    )
    ap.add_argument("--int8", action="store_true", help="with --ship: large weights as int8 (half the size)")
    args = ap.parse_args(argv)
    if args.curve:
        print(curve(Path(args.run)))
        return 0
    if args.ship:
        ship(Path(args.run), args.ship, int8=args.int8)
        return 0
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
