"""Compare embedding choices against a synthetic set's truth: k-NN accuracy of the true morphology.

For each colour form and each fusion (plus single windows and the seed's
whole-figure, one-point-per-image configuration), embed with random-init or
ImageNet ResNet-18 (through the same cache as the pipeline) and report the
5-NN cross-validated accuracy of the true morphology, in embedding space
(cosine). Higher is better; chance is ~1/24.

    python scripts/compare_embeddings.py --data data/demo [--weights imagenet-or-random]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from precompute.embed import EmbedConfig, embed_images, load_resnet18
from precompute.embed_cache import EmbeddingCache, content_keys, default_cache_dir
from precompute.fuse import fuse_windows
from precompute.io import read_dataset
from precompute.preprocess import PreprocessConfig


def knn_accuracy(vectors: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    _, counts = np.unique(labels, return_counts=True)
    folds = int(min(5, counts.min())) if counts.min() >= 2 else 2
    cv = StratifiedKFold(folds, shuffle=True, random_state=0) if counts.min() >= 2 else 2
    return float(cross_val_score(KNeighborsClassifier(5, metric="cosine"), vectors, labels, cv=cv).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--weights", default="imagenet-or-random")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    args = parser.parse_args()

    dataset = read_dataset(args.data, verify=False)
    truth = pd.read_csv(args.data / "truth" / "truth.csv").set_index("gravityspy_id")
    images = dataset.images
    rows = list(zip(images["kind"], images["source"], strict=True))
    keys = content_keys(rows)
    embed_config = EmbedConfig(weights=args.weights, device="auto", workers=2)
    loaded = load_resnet18(embed_config)
    print(f"# weights used: {loaded.weights_used}; {len(dataset.glitches)} glitches")
    print("| input | unit / fusion | 5-NN accuracy (true morphology) |")
    print("|---|---|---|")
    configs = [
        PreprocessConfig(colour="grey"),
        PreprocessConfig(colour="rgb"),
        PreprocessConfig(colour="energy"),
        PreprocessConfig(crop="none", colour="grey", height=224, width=224),
    ]
    for pre in configs:
        cache = EmbeddingCache(
            args.cache_dir,
            {"model": "resnet18", "weights": loaded.weights_id, "preprocess": pre.as_dict(), "version": 1},
        )
        todo = [i for i, k in enumerate(keys) if k not in cache]
        for start in range(0, len(todo), 512):
            chunk = todo[start : start + 512]
            done = list(embed_images([rows[i] for i in chunk], dataset.load_image, loaded, pre, embed_config))
            vectors = np.concatenate([v for _, v, _ in done])
            cache.put([keys[i] for i in chunk], vectors)
        vectors = cache.get(keys)
        name = f"{pre.crop}, {pre.colour}, {pre.height}x{pre.width}"
        image_morph = truth.loc[images["gravityspy_id"], "morphology"].to_numpy()
        print(f"| {name} | image (one point per PNG) | {knn_accuracy(vectors, image_morph):.3f} |")
        for window in dataset.windows:
            mask = (images["window"] == window).to_numpy()
            print(f"| {name} | window {window} only | {knn_accuracy(vectors[mask], image_morph[mask]):.3f} |")
        for fusion in ("concat", "mean"):
            ids, fused, _ = fuse_windows(images, vectors, dataset.windows, method=fusion)
            morph = truth.loc[ids, "morphology"].to_numpy()
            print(f"| {name} | glitch, {fusion} | {knn_accuracy(fused, morph):.3f} |")


if __name__ == "__main__":
    main()
