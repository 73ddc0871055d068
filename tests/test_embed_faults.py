"""A GPU out of memory mid-run (issue 18): the batch size halves, the run goes on, and the manifest says so.

No GPU is needed: the network is a real ResNet-18 behind a wrapper that raises torch's own
``OutOfMemoryError`` for batches larger than a limit, as a device with that much free memory would. What is
tested is the halving itself, which is device-independent; the real-GPU check is described in
docs/pipeline.md ("Faults").
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from precompute.embed import EmbedConfig, LoadedModel, embed_arrays, load_resnet18  # noqa: E402


class _FitsOnly(torch.nn.Module):
    """``model`` on a device that holds at most ``limit`` images at once."""

    def __init__(self, model: torch.nn.Module, limit: int) -> None:
        super().__init__()
        self.model, self.limit, self.sizes = model, limit, []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.sizes.append(len(images))
        if len(images) > self.limit:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.model(images)


@pytest.fixture(scope="module")
def network() -> LoadedModel:
    return load_resnet18(EmbedConfig(weights="random", device="cpu"))


def _images(n: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 3, 64, 80)).astype(np.float32)


def test_the_batch_halves_until_it_fits_and_the_vectors_do_not_change(network):
    images = _images(16)
    expected = embed_arrays(network, images)
    small = LoadedModel(_FitsOnly(network.model, limit=5), "cpu", network.weights_used, network.weights_id, [])
    vectors = embed_arrays(small, images)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert small.max_batch == 4
    assert small.halvings == [
        "GPU out of memory at batch 16: batch size halved to 8",
        "GPU out of memory at batch 8: batch size halved to 4",
    ]
    later = embed_arrays(small, images[:8])  # the halved size sticks: no new failures
    np.testing.assert_allclose(later, expected[:8], atol=1e-5)
    assert small.model.sizes[-2:] == [4, 4]
    assert len(small.halvings) == 2


def test_a_single_image_that_does_not_fit_stops_with_a_clear_error(network):
    from precompute.errors import PrecomputeError

    none_fit = LoadedModel(_FitsOnly(network.model, limit=0), "cpu", network.weights_used, network.weights_id, [])
    with pytest.raises(PrecomputeError, match=r"ran out of memory on a single image.*--device cpu"):
        embed_arrays(none_fit, _images(3))


def test_the_stage_reports_each_halving_as_a_warning(network, synth_set, tmp_path, monkeypatch):
    import precompute.embed_stage as stage
    from precompute.embed_cache import content_keys
    from precompute.embed_stage import EngineConfig, embed_rows
    from precompute.io import read_dataset
    from precompute.preprocess import PreprocessConfig

    small = LoadedModel(_FitsOnly(network.model, limit=3), "cpu", network.weights_used, network.weights_id, [])
    monkeypatch.setattr(stage, "load_resnet18", lambda config: small)
    dataset = read_dataset(synth_set.root, show_progress=False)
    rows = list(zip(dataset.images["kind"], dataset.images["source"], strict=True))[:12]
    vectors, info, warnings, failed = embed_rows(
        rows, content_keys(rows, show_progress=False), dataset.load_image,
        embed=EmbedConfig(weights="random", device="cpu", batch_size=12, workers=0), preprocess=PreprocessConfig(),
        engine=EngineConfig(), cache_root=tmp_path, shard_images=512, show_progress=False,
    )  # fmt: skip
    assert not failed
    assert not np.isnan(vectors).any()
    assert info["embedded"] == 12
    assert [w for w in warnings if "out of memory" in w] == [
        "GPU out of memory at batch 12: batch size halved to 6",
        "GPU out of memory at batch 6: batch size halved to 3",
    ]
