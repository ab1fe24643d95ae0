"""The encoder-decoder: cached decoding equals recomputation, masking holds, every front-end runs."""

from __future__ import annotations

import pytest
import torch

from model.transformer import SRC_AUDIO, SRC_IMAGE, SRC_TOKENS, ModelConfig, Seq2Seq

BOS, EOS = 1, 2


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    m = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=40, image_height=32, n_mels=16, dropout=0.0))
    return m.eval()


def _mask(lo, hi, v=40):
    m = torch.zeros(v, dtype=torch.bool)
    m[lo:hi] = True
    m[EOS] = True
    return m


def test_cached_logits_equal_full_recomputation(tiny):
    src = torch.randint(3, 40, (2, 9))
    tgt = torch.randint(3, 40, (2, 7))
    tm = torch.tensor([0, 1])
    memory, mask = tiny.encode(SRC_TOKENS, src, tm)
    mkv = tiny.memory_kv(memory)
    full = tiny.decode(tgt, mkv, mask)
    caches = [dict() for _ in tiny.decoder]
    steps = [tiny.decode(tgt[:, i:i + 1], mkv, mask, caches, start=i) for i in range(tgt.shape[1])]
    assert torch.allclose(full, torch.cat(steps, 1), atol=1e-5)


def test_greedy_with_and_without_cache_agree(tiny):
    src = torch.randint(3, 40, (3, 6))
    tm = torch.tensor([0, 0, 1])
    kw = dict(bos_id=BOS, eos_id=EOS, max_len=12)
    assert tiny.generate(SRC_TOKENS, src, tm, **kw) == tiny.generate(
        SRC_TOKENS, src, tm, use_cache=False, **kw
    )


def test_logit_mask_confines_output_to_target_range(tiny):
    src = torch.randint(3, 40, (2, 5))
    out = tiny.generate(SRC_TOKENS, src, torch.tensor([0, 0]), bos_id=BOS, eos_id=EOS, max_len=15,
                        logit_mask=_mask(20, 30))
    assert all(20 <= t < 30 or t == EOS for seq in out for t in seq)
    g = torch.Generator().manual_seed(0)
    sampled = tiny.generate(SRC_TOKENS, src, torch.tensor([0, 0]), bos_id=BOS, eos_id=EOS, max_len=15,
                            logit_mask=_mask(5, 10), strategy="top_p", generator=g)
    assert all(5 <= t < 10 or t == EOS for seq in sampled for t in seq)
    beam = tiny.generate(SRC_TOKENS, src, torch.tensor([0, 0]), bos_id=BOS, eos_id=EOS, max_len=10,
                         logit_mask=_mask(10, 20), strategy="beam", beam_size=3)
    assert len(beam) == 2 and all(10 <= t < 20 or t == EOS for seq in beam for t in seq)


def test_image_and_audio_front_ends(tiny):
    img = torch.rand(2, 1, 32, 96)
    logits, loss = tiny(SRC_IMAGE, img, torch.randint(3, 40, (2, 5)), torch.tensor([0, 1]),
                        tgt_out=torch.randint(3, 40, (2, 5)))
    assert logits.shape == (2, 5, 40) and torch.isfinite(loss)
    mel = torch.randn(2, 50, 16)
    pad = torch.zeros(2, 50, dtype=torch.bool)
    pad[1, 30:] = True
    memory, mask = tiny.encode(SRC_AUDIO, mel, torch.tensor([2, 2]), pad)
    assert memory.shape[:2] == (2, 25) and mask.shape == (2, 1, 1, 25)


def test_a_few_steps_of_training_lower_the_loss():
    torch.manual_seed(0)
    m = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=40, dropout=0.0))
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    src = torch.randint(3, 40, (8, 6))
    tgt = torch.cat([torch.full((8, 1), BOS), src, torch.full((8, 1), EOS)], 1)
    first = None
    for _ in range(60):
        _, loss = m(SRC_TOKENS, src, tgt[:, :-1], torch.zeros(8, dtype=torch.long), tgt_out=tgt[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.5 * first


def test_config_round_trip():
    c = ModelConfig.preset("small", vocab_size=777)
    assert ModelConfig.from_dict(c.to_dict()) == c
