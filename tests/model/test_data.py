"""The data build: shards, manifest, the held-out split, and the trainer's view of them."""

import itertools
import json

import numpy as np
import pytest

from model.data.build import BuildSettings, build, plan_units, read_shard
from model.data.split import split_of


def test_no_test_split_file_is_ever_planned():
    units = plan_units(4000, seed=3, settings=BuildSettings(generated_share=0.0))
    corpus = [u for u in units if u["path"] is not None]
    assert len({u["source"] for u in corpus}) > 2500  # the whole train + validation corpus is used
    assert all(split_of(u["source"]) != "test" for u in corpus)
    assert all(u["split"] == split_of(u["source"]) for u in corpus)


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    settings = BuildSettings(excerpts_per_unit=2, audio_prob=1.0, generated_share=0.0)
    return out, build(out, count=2, seed=11, workers=1, settings=settings, log=lambda s: None)


def test_build_writes_shards_and_manifest(small_build):
    out, manifest = small_build
    assert json.loads((out / "manifest.json").read_text())["seed"] == 11
    files = [e for e in manifest["shards"] if e.get("file")]
    assert files, manifest["shards"]
    for e in files:
        assert split_of(e["source"]) == e["split"] != "test"
        records = read_shard(out / e["file"])
        images = [a for h, a in records if h["task"] == "image"]
        assert images and all(a.dtype == np.uint8 and a.shape[0] == 160 for a in images)
        assert all(h["tgt_lmx"][0] == "measure" for h, _ in records if h.get("tgt_lmx"))
    assert manifest["totals"]["image2lmx"] >= 2 and manifest["totals"]["audio2midi"] >= 1


def test_build_is_deterministic(small_build, tmp_path):
    out, manifest = small_build
    again = build(
        tmp_path,
        count=2,
        seed=11,
        workers=1,
        settings=BuildSettings(excerpts_per_unit=2, audio_prob=1.0, generated_share=0.0),
        log=lambda s: None,
    )
    assert [e.get("counts") for e in again["shards"]] == [e.get("counts") for e in manifest["shards"]]
    a = read_shard(out / manifest["shards"][0]["file"])
    b = read_shard(tmp_path / again["shards"][0]["file"])
    assert [h["tgt_lmx"] for h, _ in a] == [h["tgt_lmx"] for h, _ in b]


def test_shard_source_feeds_every_task(small_build):
    from model.training.data import TASK_TARGET, ShardSource

    out, _ = small_build
    source = ShardSource(out)
    meta = source.meta()
    assert meta["vocab"]["size"] == source.vocab.size
    for task in TASK_TARGET:
        examples = list(itertools.islice(source.examples(task, "train", seed=0), 3))
        if not source.shards(task, "train"):
            continue
        assert examples, task
        lo, hi = source.vocab.range(TASK_TARGET[task])
        assert all(lo <= t < hi for e in examples for t in e.tgt), task
        mask = source.logit_mask(task)
        assert mask[lo:hi].all() and not mask[source.vocab.pad]


def test_builds_pool_and_other_pianos_keep_the_labels(small_build, tmp_path):
    """"data/v1,data/v2" trains on the shards of both; a build recorded with other GM pianos keeps the
    labels (the piano only changes the sound)."""
    from model.training.data import ShardSource

    def audio_build(folder, programs):
        settings = BuildSettings(tasks=("audio2midi",), excerpts_per_unit=2, audio_prob=1.0,
                                 generated_share=0.0, piano_programs=programs)
        return build(folder, count=2, seed=11, workers=1, settings=settings, log=lambda s: None)

    grand, other = tmp_path / "grand", tmp_path / "pianos"
    a, b = audio_build(grand, (0,)), audio_build(other, (1, 2))
    assert list(b["settings"]["piano_programs"]) == [1, 2]
    one, both = ShardSource(small_build[0]), ShardSource(f"{small_build[0]},{other}")
    assert len(both.shards("audio2midi", "train")) == len(one.shards("audio2midi", "train")) + len(
        ShardSource(other).shards("audio2midi", "train"))
    ra = [r for e in a["shards"] if e.get("file") for r in read_shard(grand / e["file"])]
    rb = [r for e in b["shards"] if e.get("file") for r in read_shard(other / e["file"])]
    assert ra and [h["tgt_midi"] for h, _ in ra] == [h["tgt_midi"] for h, _ in rb]
    assert not all(np.array_equal(x, y) for (_, x), (_, y) in zip(ra, rb))   # but it sounds different


def test_excerpt_features_are_found():
    from model.data.card import excerpt_features

    tokens = ("measure key:fifths:0 time beats:4 beat-type:4 clef:G2 staff:1 clef:F4 staff:2 "
              "C5 voice:1 eighth 3in2 stem:up tuplet:start D5 eighth 3in2 E5 eighth 3in2 tuplet:stop "
              "chord G5 eighth 3in2 F5 half tied:start backup whole A4 voice:2 whole stem:down "
              "backup whole C3 voice:3 whole staff:2 "
              "measure clef:F4 staff:1 F5 voice:1 whole tied:stop").split()
    found = excerpt_features(tokens)
    assert {"grand_staff", "tuplets", "chords", "ties", "voices", "clef_change"} <= found
    assert not found & {"grace", "key_change", "time_change", "pedal"}


def test_dataset_card_and_contact_sheet(small_build, tmp_path):
    from PIL import Image

    from model.data.card import card, contact_sheet_png, markdown

    out, _ = small_build
    c = card(out)
    assert c["excerpts"] > 0 and sum(c["records"]["image2lmx"].values()) == c["images"]["clean"] + \
        c["images"].get("degraded", 0)
    assert c["audio_hours"] > 0 and set(c["features"]) >= {"tuplets", "ties", "chords", "voices", "grace"}
    assert "| tuplets |" in markdown(c)
    n = contact_sheet_png(out, tmp_path / "sheet.png", n=4)
    assert (0 < n <= 4) if c["images"].get("degraded") else n == 0
    if n:
        assert Image.open(tmp_path / "sheet.png").width == 1600


def test_the_evaluation_piano_never_trains(small_build):
    """The held-out soundfont family is not among the training soundfonts, and its audio is not trained on."""
    from pathlib import Path

    from model.data.build import HELD_OUT_SOUNDFONT, TRAIN_SOUNDFONTS, held_out_soundfont
    from model.training.data import ShardSource

    assert held_out_soundfont(HELD_OUT_SOUNDFONT) and held_out_soundfont("MuseScore_General_Lite.sf3")
    assert not any(held_out_soundfont(p) for p in TRAIN_SOUNDFONTS)
    src = ShardSource(small_build[0])
    header = {"task": "audio2midi", "soundfont": "MuseScore_General_Lite.sf3", "tgt_midi": []}
    assert src.to_example("audio2midi", header, None) is None
    assert Path(HELD_OUT_SOUNDFONT).name not in {Path(p).name for p in TRAIN_SOUNDFONTS}


def test_eval_reports_the_papers_metrics(small_build, tmp_path):
    """`unimt eval` end to end with a tiny model trained for a few steps on real shards: every task is
    scored on test-split material, SER and note F1 are numbers, the baseline quantiser is scored too."""
    from model.evaluate import evaluate
    from model.training.data import ShardSource
    from model.training.train import TrainConfig, train

    cfg = TrainConfig(run_dir=str(tmp_path / "run"), preset="tiny",
                      model={"note_head": True, "audio_stem": "conv2d", "audio_channels": [4, 8]},
                      tasks={"image2lmx": 1.0, "midi2lmx": 1.0, "audio2midi": 1.0, "audio2notes": 1.0},
                      batch_cost=400, max_batch=4,
                      steps=4, log_every=1, eval_every=2, ckpt_every=2, eval_batches=1, threads=1)
    run = train(cfg, ShardSource(small_build[0]), log=lambda m: None)
    hist = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    assert any("train/audio2notes" in h for h in hist) and "val/audio2notes" in hist[-1]
    report = evaluate(
        str(run / "weights"), pieces=1, excerpts=1, seed=0, log=lambda s: None, basic_pitch=False
    )
    assert set(report["trained_tasks"]) == {"image2lmx", "midi2lmx", "audio2midi", "audio2notes"}
    # the note head is measured on whole recordings through the product's path
    assert report["seconds_per_sequence"]["audio2midi real-time factor"] > 0
    assert "image2lmx" in report["ser"] and "midi2lmx" in report["ser"]
    assert "midi2lmx baseline (music21 quantiser)" in report["ser"]
    assert any(k.startswith("image2lmx ") and ("clean" in k or "degraded" in k) for k in report["ser"])
    assert all(v["ser"] >= 0 and v["reference_tokens"] > 0 for v in report["ser"].values())
    assert 0.0 <= report["note_f1"]["audio2midi"]["onset_f1"] <= 1.0


def test_a_pack_carries_the_builds_examples_and_redraws_its_images(small_build, tmp_path):
    from model.training.data import ShardSource
    from model.training.packed import INK_BELOW, PackedSource, pack, redraw

    out, _ = small_build
    path = tmp_path / "small.unimtpack"
    counts = pack(str(out), path, log=lambda s: None)
    assert counts["train"] > 0
    shards, packed = ShardSource(out), PackedSource(path)
    assert packed.meta()["vocab"] == shards.meta()["vocab"]
    for task in ("image2lmx", "midi2lmx"):
        assert (packed.logit_mask(task) == shards.logit_mask(task)).all()
        want = sorted(tuple(e.tgt) for e in shards.examples(task, "validation"))
        got = sorted(tuple(e.tgt) for e in packed.examples(task, "validation"))
        assert got == want                                    # every example, its target ids unchanged
    # the images: the shard's ink, binarised, at the same size, redrawn in [0, 1]
    originals = {}
    for f in shards.shards("image2lmx", "train"):
        for header, array in read_shard(f):
            if header["task"] == "image":
                originals[tuple(header["tgt_lmx"])] = array
    lmx = {v: k for k, v in shards._lmx_ids.items()}
    off = shards.vocab.offset("lmx")
    for ex in itertools.islice(packed.examples("image2lmx", "train", seed=1), 20):
        array = originals[tuple(lmx[i - off] for i in ex.tgt)]
        assert ex.src.shape == array.shape and ex.src.dtype == np.float32
        assert 0.0 <= ex.src.min() and ex.src.max() <= 1.0
        ink = array < INK_BELOW
        assert ex.src[ink].mean() < ex.src[~ink].mean() - 0.3   # ink stays dark on lighter paper
    rng = np.random.default_rng(0)
    ink = np.zeros((40, 64), bool)
    ink[20, :] = True
    clean = redraw(ink, False, rng)
    assert clean[0].min() == 1.0 and clean[20].max() < 0.95  # white paper, the line kept
    assert (
        redraw(ink, True, np.random.default_rng(1)).std() != redraw(ink, True, np.random.default_rng(2)).std()
    )


def test_a_pieces_chords_are_written_low_to_high_whatever_order_its_file_types_them(tmp_path):
    """ABC types a chord's notes in any order (fiddle tunes often top down); the order is not on the page,
    so every score the data and the evaluations cut writes them low to high, as notation programs do."""
    from model.data.build import unit_scores
    from model.tokenizers.lmx import linearize

    tune = tmp_path / "tune.abc"
    tune.write_text("X:1\nT:Top down\nM:4/4\nL:1/4\nK:G\n[dB] [gB] [BG] G |]\n")
    tokens = linearize(unit_scores({"path": str(tune), "source": "tune.abc"}, np.random.default_rng(0))[0])
    heads = [t for t in tokens if len(t) == 2 and t[0] in "ABCDEFG" and t[1].isdigit()]
    assert heads == ["B4", "D5", "B4", "G5", "G4", "B4", "G4"]
