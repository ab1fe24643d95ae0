"""Train and measure the RQ-VAE image codec on rendered systems.

    python -m tools.rqvae_train --out runs/rqvae --steps 6000 --bypass 1000 [--ship model/codec]
    python -m tools.rqvae_train --out runs/rqvae --eval-only

Systems are engraved from the corpus's training split (every Verovio font, several staff sizes),
staff-normalised, and cut into 160x128 crops. Held-out systems come from the test split. Reports the
mean absolute reconstruction error (all pixels and ink pixels), the share of ink pixels recovered
(threshold 0.5), ink precision, and tokens (code positions x codebooks) per second encoded and
decoded on this machine.
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
    err = ink_err = ink_hit = ink_total = drawn = drawn_right = pixels = 0.0
    tokens = 0
    t_enc = t_dec = 0.0
    with torch.no_grad():
        for s in systems:
            x = torch.as_tensor(pad16(s))[None, None]
            t = time.perf_counter()
            _, c, _ = model.encode(x)
            t_enc += time.perf_counter() - t
            t = time.perf_counter()
            recon = model.decode_codes(c)[0, 0].numpy()
            t_dec += time.perf_counter() - t
            tokens += c.numel()
            page = x[0, 0].numpy()
            ink = page < 0.5
            diff = np.abs(recon - page)
            err += diff.sum()
            pixels += diff.size
            ink_err += diff[ink].sum()
            ink_total += ink.sum()
            ink_hit += (recon[ink] < 0.5).sum()
            drawn += (recon < 0.5).sum()
            drawn_right += (ink & (recon < 0.5)).sum()
    return {"systems": len(systems), "mae": round(float(err / pixels), 4),
            "ink_mae": round(float(ink_err / max(1, ink_total)), 4),
            "ink_recall": round(float(ink_hit / max(1, ink_total)), 4),
            "ink_precision": round(float(drawn_right / max(1, drawn)), 4),
            "tokens_per_s_encode": round(float(tokens / t_enc), 1),
            "tokens_per_s_decode": round(float(tokens / t_dec), 1)}


def cached_systems(out: Path, split: str, n_files: int, seed: int) -> list[np.ndarray]:
    """Rendered systems of ``split``, kept in ``out`` (rendering is the slow part of a short run)."""
    path = out / f"systems-{split}-{n_files}-{seed}.npz"
    if path.exists():
        with np.load(path) as data:
            return [data[k] for k in sorted(data.files, key=int)]
    systems = render_systems(split, n_files, seed)
    np.savez_compressed(path, **{str(i): s for i, s in enumerate(systems)})
    return systems


def main(argv=None) -> int:
    import torch

    from model.tokenizers.rqvae import RQVAE, RQVAEConfig, load_codec, save_codec

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/rqvae"))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--width", type=int, default=128, help="crop width in pixels (the height is 160)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--bypass", type=int, default=0,
                    help="first steps without the quantiser (a fresh codec: 1000 or so)")
    ap.add_argument("--files", type=int, default=80, help="training-split corpus files to engrave")
    ap.add_argument("--test-files", type=int, default=25, help="test-split corpus files for the report")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", type=Path, help="start from this codec folder (else from --out, else fresh)")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--ship", type=Path, help="also write the codec here (float16), e.g. model/codec")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = random.Random(0)
    args.out.mkdir(parents=True, exist_ok=True)
    init = args.init or (args.out if (args.out / "rqvae.safetensors").exists() else None)
    model = load_codec(init) if init else RQVAE(RQVAEConfig())
    if not args.eval_only:
        print("rendering training systems...", flush=True)
        train = cached_systems(args.out, "train", args.files, 1)
        print(f"{len(train)} training systems", flush=True)
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        model.train()
        t0 = time.time()
        for step in range(1, args.steps + 1):
            for group in opt.param_groups:     # cosine decay to a tenth
                group["lr"] = args.lr * (0.1 + 0.45 * (1 + np.cos(np.pi * step / args.steps)))
            x = torch.as_tensor(crops(train, args.batch, args.width, rng))
            _, _, loss = model(x, quantise=step > args.bypass)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 100 == 0 or step == args.steps:
                print(f"step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
                save_codec(model, args.out, half=False)
    held = cached_systems(args.out, "test", args.test_files, 2)
    report = measure(model, held)
    report["params_M"] = round(sum(p.numel() for p in model.parameters()) / 1e6, 3)
    report["threads"] = args.threads
    report["config"] = model.c.to_dict()
    print(json.dumps(report), flush=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    if args.ship:
        save_codec(model, args.ship)
        (args.ship / "report.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
