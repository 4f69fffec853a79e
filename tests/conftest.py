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


# ---- claims tests (tests/test_chapterNN_claims.py): each sets STEM and its tests take printed, cells or nb;
# they run once per executed copy of the chapter there is (tests/chapter_outputs.py)
def pytest_generate_tests(metafunc):
    stem = getattr(metafunc.module, "STEM", None)
    if stem and "chapter_copy" in metafunc.fixturenames:
        from chapter_outputs import executed_copies

        copies = executed_copies(stem)
        metafunc.parametrize("chapter_copy", [copy for _, copy in copies], ids=[scale for scale, _ in copies],
                             scope="module", indirect=True)


@pytest.fixture(scope="module")
def chapter_copy(request):
    import nbformat

    from chapter_outputs import fixtures

    given = request.param  # a path (the committed notebook) or an executed notebook from the build's cache
    return fixtures(given if isinstance(given, nbformat.NotebookNode) else nbformat.read(given, as_version=4))


@pytest.fixture(scope="module")
def printed(chapter_copy):
    return chapter_copy["printed"]


@pytest.fixture(scope="module")
def cells(chapter_copy):
    return chapter_copy["cells"]


@pytest.fixture(scope="module")
def nb(chapter_copy):
    return chapter_copy["nb"]
