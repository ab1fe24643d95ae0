"""The RQ-VAE image codec: shapes, column-major flattening with 2-D positions, learning."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from model.tokenizers.rqvae import RQVAE, ImageCodes, RQVAEConfig

SMALL = RQVAEConfig(channels=16, channels2=16, latent=8, n_codebooks=2, codebook_size=16, height=32)


def test_codes_are_column_major_with_positions_and_separators():
    tok = ImageCodes(SMALL, RQVAE(SMALL))
    seq = tok.encode([np.ones((32, 48), np.float32), np.ones((32, 16), np.float32)])
    # 2 rows x 3 columns, a separator, then 2 rows x 1 column
    assert seq.codes.shape == (6 + 1 + 2, 2)
    assert seq.positions[:4].tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert seq.codes[6].tolist() == [tok.sep_id] * 2 and seq.positions[7].tolist() == [4, 0]
    assert seq.codes[:, 1].min() >= SMALL.codebook_size          # codebook 1 has its own id range
    img = tok.decode([int(i) for row in seq.codes[:6] for i in row])
    assert img.shape == (32, 48)
    assert len(tok.vocab) == 2 * 16 + 1


def test_training_steps_reduce_reconstruction_loss():
    torch.manual_seed(0)
    model = RQVAE(SMALL)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = torch.ones(4, 1, 32, 64)
    x[:, :, 10:12, :] = 0.0                                        # staff-like lines
    x[:, :, 20:22, :] = 0.0
    first = None
    for _ in range(40):
        _, codes, loss = model(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.6 * first
    assert codes.shape == (4, 2, 4, 2)
    recon, codes, bypassed = model(x, quantise=False)                # the warm-up path: no codes
    assert codes is None and recon.shape == x.shape and torch.isfinite(bypassed)


_TOK = ImageCodes(SMALL, RQVAE(SMALL).eval())


@given(st.lists(st.integers(0, len(_TOK.vocab) - 1), max_size=60))
@settings(max_examples=40, deadline=None)
def test_any_token_sequence_decodes(ids):
    """Any sequence of the codec's ids (separators included) decodes to an image of the system height."""
    img = _TOK.decode(ids)
    assert img.ndim == 2 and img.shape[0] == 32 and img.shape[1] % 16 == 0
    assert np.isfinite(img).all()


def test_the_shipped_codec_redraws_a_system_it_has_not_seen():
    """The codec trained here (model/codec) on training-split systems redraws a system of a test-split
    chorale from its codes: most ink comes back, little ink is invented."""
    from music21 import corpus

    from model.engrave import EngraveOptions, notation_to_image
    from model.io.types import Notation
    from model.tokenizers.rqvae import ImageCodes, pad16
    from model.tokenizers.score_image import normalise_system

    tok = ImageCodes.shipped()
    chorale = Notation(corpus.parse("bach/bwv24.6"))                   # in the test split
    page = notation_to_image(chorale, EngraveOptions(systems=True, font="Bravura"), dpi=150).page(0)
    canvas = pad16(normalise_system(page))
    seq = tok.encode(canvas)
    assert seq.codes.shape[1] == tok.config.n_codebooks and seq.codes.shape[0] == canvas.size // 256
    back = tok.decode([int(i) for row in seq.codes for i in row])
    ink, drawn = canvas < 0.5, back < 0.5
    assert back.shape == canvas.shape
    assert (ink & drawn).sum() / ink.sum() > 0.5 and (ink & drawn).sum() / drawn.sum() > 0.5
