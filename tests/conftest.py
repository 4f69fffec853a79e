import os

os.environ.setdefault("SBERT_TEACH_RESOURCES", "packaged")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TQDM_DISABLE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from sbert_teach import resources  # noqa: E402
from sbert_teach.models import build_untuned_encoder, get_model  # noqa: E402

torch.set_num_threads(max(1, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def reference():
    return get_model("reference")


@pytest.fixture
def tiny_encoder():
    """A 1-layer untuned encoder: the real tokenizer and embeddings, fast enough for unit tests."""
    return build_untuned_encoder(resources.packaged_model_path(), seed=0, num_layers=1)


@pytest.fixture
def toy_pairs():
    """16 scored pairs: enough for a few training steps at batch 4."""
    from sbert_teach import pairs_dataset

    return pairs_dataset(["a cat", "a dog", "the sun", "a car"] * 4, ["a kitten", "a puppy", "the moon", "a bus"] * 4,
                         [0.9, 0.8, 0.2, 0.5] * 4)
