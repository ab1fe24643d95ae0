"""The trainer: multi-task steps, checkpoints that rebuild the model, resume, loss curves."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from model.batching import Example, collate
from model.training.train import TrainConfig, token_batches, train

V, BOS, EOS = 48, 1, 2


class CopySource:
    """Two toy tasks: copy tokens (tokens -> tokens) and read bar heights of an 'image'."""

    def meta(self):
        return {"vocab": {"size": V, "bos": BOS, "eos": EOS}, "tokenizers": {}}

    def examples(self, task, split, seed=0, curriculum=None, step_fn=None):
        rng = random.Random(f"{task}{split}{seed}")
        while True:
            ids = [rng.randrange(8, 24) for _ in range(rng.randrange(3, 8))]
            if task == "copy":
                yield Example(task, "tokens", np.array(ids), ids, 0)
            else:
                img = np.ones((16, 8 * len(ids)), np.float32)
                for i, t in enumerate(ids):
                    img[16 - (t - 8):, 8 * i: 8 * i + 4] = 0.0
                yield Example(task, "image", img, [t + 16 for t in ids], 1)

    def logit_mask(self, task):
        m = np.zeros(V, bool)
        m[EOS] = True
        m[8:24] = task == "copy"
        m[24:40] = task != "copy"
        return m


def test_collate_pads_each_kind():
    exs = [Example("t", "audio", np.zeros((5, 3), np.float32), [4, 5], 0),
           Example("t", "audio", np.zeros((8, 3), np.float32), [4], 0)]
    b = collate(exs, BOS, EOS)
    assert b.src.shape == (2, 8, 3) and b.src_pad[0].tolist() == [False] * 5 + [True] * 3
    assert b.tgt_in.tolist() == [[BOS, 4, 5], [BOS, 4, 0]] and b.tgt_out.tolist() == [
        [4, 5, EOS],
        [4, EOS, 0],
    ]
    with pytest.raises(ValueError):
        collate([exs[0], Example("t", "tokens", np.array([3]), [4], 0)], BOS, EOS)


def test_token_batches_respect_the_budget():
    src = CopySource().examples("copy", "train")
    for i, batch in enumerate(token_batches(src, cost=40, max_batch=6)):
        assert 1 <= len(batch) <= 6 and (len(batch) == 1 or max(e.cost for e in batch) * len(batch) <= 40)
        if i > 30:
            break


def test_train_checkpoint_resume_and_plot(tmp_path):
    from model.bundle import load_bundle

    cfg = TrainConfig(run_dir=str(tmp_path / "run"), preset="tiny",
                      model={"image_height": 16, "dropout": 0.0, "d_model": 48, "d_ff": 96},
                      tasks={"copy": 1.0, "bars": 1.0}, batch_cost=200, max_batch=16, lr=3e-3, warmup=10,
                      steps=40, log_every=10, eval_every=20, ckpt_every=20, eval_batches=2, threads=1)
    run = train(cfg, CopySource(), log=lambda m: None)
    hist = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    assert hist[-1]["step"] == 40 and "val/copy" in hist[-1] and "val/bars" in hist[-1]
    assert hist[-1]["train/copy"] < hist[0]["train/copy"]
    assert (run / "loss.png").stat().st_size > 1000 and (run / "best" / "config.json").exists()
    model, meta = load_bundle(run / "weights")
    assert meta["step"] == 40 and meta["tasks"] == {"copy": 1.0, "bars": 1.0}
    assert 0.0 < hist[-1]["data_share"] < 1.0 and hist[-1]["steps_per_s"] > 0
    cfg.steps, cfg.prefetch = 45, 2      # batches drawn ahead by a thread, as on a GPU
    train(cfg, CopySource(), log=lambda m: None)
    assert load_bundle(run / "weights")[1]["step"] == 45
    cfg.prefetch = -1
    # a run killed after logging steps its last checkpoint does not hold: those steps are trained again on
    # resume, and the history keeps one record per step, in order, so the loss curve does not double back
    with (run / "history.jsonl").open("a") as fh:
        fh.write(
            json.dumps({"step": 50, "train/copy": 9.9})
            + "\n"
            + json.dumps({"step": 60, "train/copy": 9.9})
            + "\n"
        )
    cfg.steps = 50
    train(cfg, CopySource(), log=lambda m: None)
    steps = [json.loads(x)["step"] for x in (run / "history.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 50
    assert all(
        json.loads(x).get("train/copy") != 9.9 for x in (run / "history.jsonl").read_text().splitlines()
    )


def test_a_task_with_no_shared_gradient_learns_without_moving_the_encoder(tmp_path):
    """shared_grad = {task: 0}: the new task trains its own parts (decoder, embeddings) on top of an encoder
    it leaves exactly as it was."""
    from model.bundle import load_bundle
    from model.training.train import SHARED_ENCODER

    base = dict(preset="tiny", model={"image_height": 16, "dropout": 0.0, "d_model": 48, "d_ff": 96},
                tasks={"copy": 1.0}, batch_cost=200, max_batch=16, lr=3e-3, warmup=5, weight_decay=0.1,
                steps=12, log_every=6, eval_every=12, ckpt_every=12, eval_batches=1, threads=1)
    first = train(TrainConfig(run_dir=str(tmp_path / "a"), **base), CopySource(), log=lambda m: None)
    cfg = TrainConfig(
        run_dir=str(tmp_path / "b"), init_from=str(first / "weights"), shared_grad={"copy": 0.0}, **base
    )
    second = train(cfg, CopySource(), log=lambda m: None)
    before, _ = load_bundle(first / "weights")
    after, _ = load_bundle(second / "weights")
    b, a = dict(before.named_parameters()), dict(after.named_parameters())
    shared = [n for n in b if n.startswith(SHARED_ENCODER)]
    assert shared and all(torch_equal(b[n], a[n]) for n in shared)
    assert not all(torch_equal(b[n], a[n]) for n in b if n.startswith("decoder."))


def torch_equal(x, y) -> bool:
    import torch

    return bool(torch.equal(x, y))


def test_the_image_stem_is_rescaled_to_the_length_a_trained_encoder_expects():
    import torch

    from model.training.train import rescale_image_stem
    from model.transformer import ModelConfig, Seq2Seq

    model = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=V, image_height=16))
    images = [ex.src for ex, _ in zip(CopySource().examples("bars", "train"), range(6))]
    before = rescale_image_stem(model, images, 48.0)
    assert before < 5.0                                   # a fresh stem's outputs are short
    with torch.no_grad():
        after = torch.stack(
            [model.image_stem(torch.as_tensor(i)[None, None]).norm(dim=-1).mean() for i in images]
        )
    assert float(after.mean()) == pytest.approx(48.0, rel=1e-4)
    # a stem with Transformer layers of its own: no longer linear in the projection, still brought there
    model = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=V, image_height=16, image_layers=2))
    rescale_image_stem(model, images, 48.0)
    with torch.no_grad():
        after = torch.stack(
            [model.image_stem(torch.as_tensor(i)[None, None]).norm(dim=-1).mean() for i in images]
        )
    assert float(after.mean()) == pytest.approx(48.0, rel=0.02)


def test_a_wider_stem_keeps_every_tensor_whose_shape_still_fits():
    import torch

    from model.training.train import reshape_model
    from model.transformer import ModelConfig, Seq2Seq

    model = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=V, image_height=16))
    wider, fresh = reshape_model(model, {"stem_channels": [8, 12, 16]})
    assert tuple(wider.config.stem_channels) == (8, 12, 16)
    assert fresh and all(n.startswith("image_stem.") for n in fresh)
    old = model.state_dict()
    for name, tensor in wider.state_dict().items():
        if name not in fresh:
            assert torch.equal(tensor, old[name]), name
    same, none = reshape_model(model, {"stem_channels": list(model.config.stem_channels)})
    assert same is model and none == []


def test_the_learning_rate_can_end_its_cosine_when_the_time_budget_ends():
    from model.training.train import lr_at

    cfg = TrainConfig(lr=1e-3, min_lr=1e-5, warmup=10, steps=10_000, max_hours=0.1)
    assert lr_at(100, cfg, elapsed_s=360) > 9e-4          # by steps alone: still near the top
    cfg.anneal_by_time = True
    # half the time: halfway
    assert lr_at(100, cfg, elapsed_s=180) == pytest.approx(1e-5 + 0.5 * (1e-3 - 1e-5))
    assert lr_at(100, cfg, elapsed_s=360) == pytest.approx(1e-5)
    assert lr_at(5, cfg, elapsed_s=360) < 1e-3             # warm-up stays step-based


def test_batches_drawn_ahead_by_a_thread_arrive_in_order_and_errors_reach_the_trainer():
    from model.training.train import prefetched

    assert list(prefetched(iter(range(50)), 3)) == list(range(50))

    def broken():
        yield 1
        raise ValueError("shard unreadable")

    got = prefetched(broken(), 2)
    assert next(got) == 1
    with pytest.raises(ValueError, match="shard unreadable"):
        next(got)


def test_image_layers_of_the_stem_train_while_a_frozen_encoder_stays_bit_for_bit(tmp_path):
    """image_layers: the stem reads with Transformer layers of its own; with shared_grad 0 the shared encoder
    (which another task owns) does not move, and the stem's layers learn."""
    import torch

    from model.bundle import load_bundle, save_bundle
    from model.training.train import reshape_model
    from model.transformer import ModelConfig, Seq2Seq

    base = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=V, image_height=16, dropout=0.0))
    save_bundle(tmp_path / "start", base, {**CopySource().meta(), "step": 0})
    cfg = TrainConfig(run_dir=str(tmp_path / "run"), init_from=str(tmp_path / "start"), preset="tiny",
                      model={"image_layers": 1}, tasks={"bars": 1.0}, shared_grad={"bars": 0.0},
                      batch_cost=200, max_batch=16, lr=3e-3, warmup=5, steps=30, log_every=10, eval_every=30,
                      ckpt_every=30, eval_batches=1, threads=1)
    run = train(cfg, CopySource(), log=lambda m: None)
    model, meta = load_bundle(run / "weights")
    assert model.config.image_layers == 1 and len(model.image_stem.layers) == 1
    start, _ = reshape_model(base, {"image_layers": 1})
    before, after = start.state_dict(), model.state_dict()
    assert all(torch.equal(before[n], after[n]) for n in after if n.startswith("encoder."))
    assert any(not torch.equal(before[n], after[n]) for n in after if n.startswith("image_stem.layers."))


def test_the_parts_a_run_trained_travel_alone_and_overlay_the_bundle_they_grew_on(tmp_path):
    import torch

    from model.bundle import load_bundle, save_bundle
    from model.training.checkpoint import load_parts, save_parts
    from model.transformer import ModelConfig, Seq2Seq

    base = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=V, image_height=16))
    save_bundle(tmp_path / "start", base, {**CopySource().meta(), "step": 0})
    cfg = TrainConfig(
        run_dir=str(tmp_path / "run"),
        init_from=str(tmp_path / "start"),
        preset="tiny",
        tasks={"bars": 1.0},
        shared_grad={"bars": 0.0},
        batch_cost=200,
        max_batch=16,
        lr=3e-3,
        warmup=5,
        steps=20,
        log_every=10,
        eval_every=20,
        ckpt_every=20,
        eval_batches=1,
        threads=1,
    )
    run = train(cfg, CopySource(), log=lambda m: None)
    trained, _ = load_bundle(run / "weights")
    parts = save_parts(run / "weights", tmp_path / "reader.safetensors")
    names = load_parts(base, parts)
    assert names and all(not n.startswith(("encoder.", "audio_stem.", "note_head.")) for n in names)
    got, want = base.state_dict(), trained.state_dict()
    for n in names:
        assert torch.allclose(got[n], want[n], atol=1e-3, rtol=1e-3), n
    # a run that starts from them does not rescale the stem they carry
    logs = []
    cfg2 = TrainConfig(**{**cfg.__dict__, "run_dir": str(tmp_path / "run2"), "init_parts": str(parts),
                          "image_stem_norm": 48.0, "steps": 1})
    train(cfg2, CopySource(), log=logs.append)
    assert any("tensors from" in m for m in logs) and not any("rescaled" in m for m in logs)
    wider = Seq2Seq(
        config=ModelConfig.preset("tiny", vocab_size=V, image_height=16, stem_channels=(4, 8, 16))
    )
    with pytest.raises(ValueError, match="do not fit"):
        load_parts(wider, parts)


def test_lmx_in_column_order_reads_left_to_right_across_both_staves():
    from model.tokenizers.lmx_visual import visual_order

    lmx = ("measure key:fifths:0 time beats:4 beat-type:4 clef:G2 staff:1 clef:F4 staff:2 "
           "C5 voice:1 half staff:1 chord E4 half G4 half sharp backup whole C3 voice:2 whole staff:2 "
           "measure rest voice:1 rest:measure staff:1 backup whole C3 voice:2 quarter dot staff:2 D3 eighth "
           "E3 half").split()
    assert visual_order(lmx) == (
        "clef:G2 clef:F4 key:fifths:0 time beats:4 beat-type:4 C5 half E4 half C3 whole sharp G4 half "
        "measure rest C3 quarter dot D3 eighth E3 half").split()


def test_a_ctc_head_on_the_image_memory_learns_to_read_columns():
    """The CTC aid (``ctc_weight``): targets in column order as LMX-local ids, a loss that trains the stem and
    the head, and falls as a toy reader learns."""
    import torch

    from model.tokenizers.lmx_vocab import VOCAB
    from model.training.train import ctc_targets
    from model.transformer import ModelConfig, Seq2Seq

    off = 5
    row = [
        off + VOCAB.index(t) for t in "measure C5 voice:1 half backup half E3 voice:2 half staff:2".split()
    ]
    targets, lengths = ctc_targets(torch.tensor([row + [EOS, 0, 0]]), (off, off + len(VOCAB)))
    assert [VOCAB[i] for i in targets[0, : lengths[0]]] == ["C5", "half", "E3", "half"]

    torch.manual_seed(0)
    model = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=V, image_height=16, dropout=0.0, image_ctc=2,
                                              ctc_classes=6))
    src = CopySource()
    exs = [ex for _, ex in zip(range(8), src.examples("bars", "train"))]
    batch = collate(exs, BOS, EOS)
    # class of a bar: its height bucket (1..5); one symbol per 8-pixel column
    cls = [[1 + (t - 24) * 5 // 16 for t in ex.tgt] for ex in exs]
    lens = torch.tensor([len(c) for c in cls])
    tgt = torch.zeros(len(cls), int(lens.max()), dtype=torch.long)
    for k, c in enumerate(cls):
        tgt[k, : len(c)] = torch.tensor(c)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def ctc_only():
        memory, mask = model.encode("image", batch.src, batch.target_modality, batch.src_pad)
        return model.ctc_loss(memory, mask, tgt, lens)

    first = float(ctc_only().detach())
    for _ in range(60):
        opt.zero_grad()
        loss = ctc_only()
        loss.backward()
        opt.step()
    assert model.image_stem.proj.weight.grad is not None and model.ctc_head[1].weight.grad is not None
    assert float(ctc_only().detach()) < 0.5 * first
    # and in the full loss, for image batches only, at its weight
    _, ce = model(
        "image", batch.src, batch.tgt_in, batch.target_modality, batch.src_pad, tgt_out=batch.tgt_out
    )
    _, both = model(
        "image",
        batch.src,
        batch.tgt_in,
        batch.target_modality,
        batch.src_pad,
        tgt_out=batch.tgt_out,
        ctc=(tgt, lens),
        ctc_weight=0.5,
    )
    assert float(both.detach()) == pytest.approx(
        float(ce.detach()) + 0.5 * float(ctc_only().detach()), rel=1e-4
    )


def test_the_probe_compares_a_system_s_own_image_with_another_s_and_a_blank_page(tmp_path):
    """``python -m tools.probe``. A toy reader trained briefly learns the sequence length from the
    image's width first: another system's image (another width) costs it dearly, a blank page of the same
    width hardly at all. That is why the probe keeps the blank page: only a gap to it shows reading. A stem
    that sees nothing scores its own image and the blank page alike."""
    import copy

    import torch

    from model.bundle import load_bundle, save_bundle
    from model.training.train import rescale_image_stem
    from model.transformer import ModelConfig, Seq2Seq
    from tools.probe import page_use

    torch.manual_seed(2)
    start = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=V, image_height=16, dropout=0.0))
    rescale_image_stem(
        start, [ex.src for _, ex in zip(range(8), CopySource().examples("bars", "train"))], 5.0
    )
    save_bundle(tmp_path / "start", start, {**CopySource().meta(), "step": 0})
    cfg = TrainConfig(run_dir=str(tmp_path / "run"), init_from=str(tmp_path / "start"), preset="tiny",
                      tasks={"bars": 1.0}, batch_cost=200, max_batch=16, lr=3e-3, warmup=5, steps=300,
                      log_every=100, eval_every=300, ckpt_every=300, eval_batches=1, threads=1, seed=2)
    model, _ = load_bundle(train(cfg, CopySource(), log=lambda m: None) / "weights")
    got = page_use(model, CopySource(), count=12, task="bars")
    assert got["systems"] == 12 and "ctc_readout_ser" not in got
    assert got["other"] > got["own"] + 0.3 and got["blank"] < got["other"] - 0.3
    blind = copy.deepcopy(model)
    with torch.no_grad():
        blind.image_stem.proj.weight.zero_()
    seen = page_use(blind, CopySource(), count=12, task="bars")
    assert seen["own"] == pytest.approx(seen["blank"], abs=1e-5)
