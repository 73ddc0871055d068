"""Draw one example per true morphology of a synthetic data set into one PNG (for docs and eyeballing).

python scripts/synth_gallery.py --data data/demo --out docs/images/synth-gallery.png [--window 1.0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--window", default="1.0", choices=["0.5", "1.0", "2.0", "4.0"])
    parser.add_argument("--columns", type=int, default=6)
    args = parser.parse_args()

    truth = pd.read_csv(args.data / "truth" / "truth.csv")
    meta = pd.read_csv(args.data / "trainingset_v1d1_metadata.csv").set_index("gravityspy_id")
    column = f"url{['0.5', '1.0', '2.0', '4.0'].index(args.window) + 1}"
    # per morphology, the glitch whose SNR is closest to its median: typical, not the loudest
    picks = truth.loc[truth.groupby("morphology")["snr"].apply(lambda s: (s - s.median()).abs().idxmin())]
    tile_w, tile_h = 320, 256
    rows = -(-len(picks) // args.columns)
    sheet = Image.new("RGB", (tile_w * args.columns, tile_h * rows), "white")
    draw = ImageDraw.Draw(sheet)
    for i, row in enumerate(picks.sort_values("morphology").itertuples()):
        with Image.open(args.data / meta.at[row.gravityspy_id, column]) as image:
            tile = image.convert("RGB").resize((tile_w, tile_h - 16), Image.Resampling.LANCZOS)
        x, y = (i % args.columns) * tile_w, (i // args.columns) * tile_h
        sheet.paste(tile, (x, y + 16))
        caption = f"{row.morphology} (label {row.label}, SNR {row.snr:.0f})"
        draw.text((x + 6, y + 2), caption, fill=(0, 0, 0))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix.lower() in (".jpg", ".jpeg"):
        sheet.save(args.out, quality=88)
    else:
        sheet.save(args.out, optimize=True)
    print(f"wrote {args.out}: {len(picks)} morphologies, window {args.window} s")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
