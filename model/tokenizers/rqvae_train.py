"""Train and measure the RQ-VAE image codec on rendered systems.

    python -m model.tokenizers.rqvae_train --out runs/rqvae --steps 1500
    python -m model.tokenizers.rqvae_train --out runs/rqvae --eval-only

Systems are engraved from the corpus's training split (every Verovio font, several staff sizes),
staff-normalised, and cut into 160x256 crops. Held-out systems come from the test split. Reports the
mean absolute reconstruction error (all pixels and ink pixels), the share of ink pixels recovered
(threshold 0.5), and codes per second on this machine.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np


def render_systems(split: str, n_files: int, seed: int) -> list[np.ndarray]:
    from music21 import converter

    from model.data.split import corpus_files
    from model.engrave import FONTS, EngraveOptions, notation_to_image
    from model.io.types import Notation
    from model.tokenizers.score_image import normalise_system

    rng = random.Random(seed)
    files = [p for rel, p in corpus_files(split) if p.suffix in (".mxl", ".xml", ".musicxml", ".krn")]
    rng.shuffle(files)
    out = []
    for path in files[:n_files]:
        try:
            score = converter.parse(str(path))
            opts = EngraveOptions(systems=True, font=rng.choice(FONTS), scale=rng.choice([80, 100, 120]),
                                  page_width=rng.choice([1600, 2100, 2600]))
            img = notation_to_image(Notation(score), opts, dpi=150)
            for i in range(min(img.page_count, 4)):
                canvas = normalise_system(img.page(i))
                if canvas.shape[1] >= 64:
                    out.append(canvas)
        except Exception:
            continue
    return out


def crops(systems: list[np.ndarray], n: int, width: int, rng: random.Random) -> np.ndarray:
    out = np.ones((n, 1, 160, width), np.float32)
    for i in range(n):
        s = rng.choice(systems)
        x = rng.randrange(0, max(1, s.shape[1] - width))
        part = s[:160, x:x + width]
        out[i, 0, : part.shape[0], : part.shape[1]] = part
    return out


def measure(model, systems: list[np.ndarray]) -> dict:
    import torch

    from model.tokenizers.rqvae import pad16

    model.eval()
    err = ink_err = ink_hit = ink_total = pixels = 0.0
    codes = 0
    t = time.perf_counter()
    with torch.no_grad():
        for s in systems:
            x = torch.as_tensor(pad16(s))[None, None]
            _, c, _ = model.encode(x)
            recon = model.decode_codes(c)[0, 0].numpy()
            codes += c[0, :, :, 0].numel()
            ink = x[0, 0].numpy() < 0.5
            diff = np.abs(recon - x[0, 0].numpy())
            err += diff.sum()
            pixels += diff.size
            ink_err += diff[ink].sum()
            ink_total += ink.sum()
            ink_hit += (recon[ink] < 0.5).sum()
    secs = time.perf_counter() - t
    return {"systems": len(systems), "mae": round(float(err / pixels), 4),
            "ink_mae": round(float(ink_err / max(1, ink_total)), 4),
            "ink_recall": round(float(ink_hit / max(1, ink_total)), 4),
            "positions_per_s_encode_decode": round(float(codes / secs), 1)}


def main(argv=None) -> int:
    import torch

    from model.tokenizers.rqvae import RQVAE, RQVAEConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/rqvae"))
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--files", type=int, default=80)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-only", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = random.Random(0)
    args.out.mkdir(parents=True, exist_ok=True)
    model = RQVAE(RQVAEConfig())
    ckpt = args.out / "rqvae.pt"
    if ckpt.exists():
        model.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=True))
    if not args.eval_only:
        print("rendering training systems...", flush=True)
        train = render_systems("train", args.files, 1)
        print(f"{len(train)} training systems", flush=True)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        t0 = time.time()
        for step in range(1, args.steps + 1):
            x = torch.as_tensor(crops(train, args.batch, 256, rng))
            _, _, loss = model(x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 50 == 0:
                print(f"step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
                torch.save(model.state_dict(), ckpt)
        torch.save(model.state_dict(), ckpt)
    held = render_systems("test", 25, 2)
    report = measure(model, held)
    report["params_M"] = round(sum(p.numel() for p in model.parameters()) / 1e6, 3)
    print(json.dumps(report), flush=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
