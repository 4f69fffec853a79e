"""LoRA adapters (sbert_teach.lora): what trains, what stays, and that both saved forms load in
sentence-transformers."""

import importlib.metadata
import json

import pytest
import torch

from sbert_teach import TrainConfig, load_encoder, lora, make_objective, resources, save_encoder, train
from sbert_teach.optimization import make_optimizer
from sbert_teach.speed import supports_padding_free

SENTENCES = ["A cat sits on the mat.", "A man is cooking pasta.", "Stocks fell sharply today.", "Rain.",
             "Two children play football in a park near the river."]


def short_training(encoder, pairs, steps=3, lr=1e-2):
    """A few regression steps through the package's own training loop, unchanged."""
    objective = make_objective("regression", encoder)
    train(objective, pairs, TrainConfig(batch_size=4, max_steps=steps, learning_rate=lr, warmup_ratio=0.0,
                                        show_progress=False, device="cpu"))
    return objective


def lora_params(module):
    return {n: p for n, p in module.named_parameters() if ".lora_" in n}


def test_trainable_count_is_r_times_d_in_plus_d_out_per_adapted_linear(tiny_encoder):
    total_before = lora.count_parameters(tiny_encoder).total
    lora.add_lora(tiny_encoder, r=8)
    # peft's default for BERT: query and value, each 384 -> 384 in the one layer: 2 * 8 * (384 + 384)
    assert lora.adapted_modules(tiny_encoder) == ["encoder.layer.0.attention.self.query",
                                                  "encoder.layer.0.attention.self.value"]
    counts = lora.count_parameters(tiny_encoder)
    assert counts.trainable == 12_288
    assert counts.total == total_before + 12_288
    assert "12,288 of" in str(counts) and 0 < counts.fraction < 0.01


def test_trainable_count_for_every_linear_layer(tiny_encoder):
    lora.add_lora(tiny_encoder, r=4, target_modules=["query", "key", "value", "dense"])
    transformer = tiny_encoder.transformer
    shapes = [(transformer.get_submodule(n).in_features, transformer.get_submodule(n).out_features)
              for n in lora.adapted_modules(tiny_encoder)]
    # q, k, v and attention output 384x384, feed-forward 384->1536->384, pooler 384x384
    assert sorted(shapes) == sorted([(384, 384)] * 5 + [(384, 1536), (1536, 384)])
    assert lora.count_parameters(tiny_encoder).trainable == sum(4 * (d_in + d_out) for d_in, d_out in shapes) == 4 * (
        5 * 768 + 2 * 1920)


def test_training_moves_only_the_adapters(tiny_encoder, toy_pairs):
    lora.add_lora(tiny_encoder, r=4, alpha=8)
    assert supports_padding_free(tiny_encoder.transformer)  # still a BertModel: training keeps its fast path
    base = {n: p.detach().clone() for n, p in tiny_encoder.named_parameters() if ".lora_" not in n}
    before = tiny_encoder.encode(SENTENCES)
    objective = short_training(tiny_encoder, toy_pairs)
    after = dict(tiny_encoder.named_parameters())
    for name, value in base.items():
        assert torch.equal(after[name], value), name
        assert after[name].grad is None, f"frozen {name} got a gradient"
    adapters = lora_params(tiny_encoder)
    assert adapters and all(p.grad is not None for p in adapters.values())
    assert all(p.abs().sum() > 0 for n, p in adapters.items() if "lora_B" in n)  # B starts at zero
    assert (tiny_encoder.encode(SENTENCES) - before).abs().max() > 1e-3
    # the optimizer train() builds holds exactly the adapters
    optimizer = make_optimizer(objective, 1e-3, 0.01)
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert held == {id(p) for p in adapters.values()}


def test_adapters_start_as_the_identity_and_the_padding_free_pass_uses_them(tiny_encoder, toy_pairs):
    before = tiny_encoder.encode(SENTENCES)
    lora.add_lora(tiny_encoder)
    torch.testing.assert_close(tiny_encoder.encode(SENTENCES), before)  # B = 0: same model at the start
    short_training(tiny_encoder, toy_pairs, steps=2)
    torch.testing.assert_close(tiny_encoder.encode(SENTENCES, padding_free=True),
                               tiny_encoder.encode(SENTENCES, padding_free=False), rtol=1e-5, atol=1e-5)


def test_merged_model_gives_the_same_vectors_and_loads_in_sentence_transformers(tiny_encoder, toy_pairs, tmp_path):
    from sentence_transformers import SentenceTransformer

    lora.add_lora(tiny_encoder, r=8, target_modules=["query", "value", "intermediate.dense"])
    short_training(tiny_encoder, toy_pairs)
    unmerged = tiny_encoder.encode(SENTENCES)
    with pytest.raises(ValueError, match="merge_lora"):  # unmerged: a clear error, not peft's version message
        save_encoder(tiny_encoder, tmp_path / "unmerged")
    lora.merge_lora(tiny_encoder)
    assert not lora.has_lora(tiny_encoder) and not lora_params(tiny_encoder)
    assert lora.count_parameters(tiny_encoder).fraction == 1.0  # an ordinary encoder again
    merged = tiny_encoder.encode(SENTENCES)
    torch.testing.assert_close(merged, unmerged, rtol=1e-5, atol=1e-5)
    save_encoder(tiny_encoder, tmp_path / "merged")
    assert (tmp_path / "merged" / "model.safetensors").exists()
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    theirs = SentenceTransformer(str(tmp_path / "merged"), device="cpu").encode(SENTENCES, convert_to_tensor=True)
    torch.testing.assert_close(theirs, unmerged, rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def trained_adapter(tmp_path_factory):
    """The packaged reference with r=8 adapters after two training steps, saved as an adapter alone."""
    from sbert_teach import pairs_dataset

    pairs = pairs_dataset(["a cat", "a dog", "the sun", "a car"] * 2, ["a kitten", "a puppy", "the moon", "a bus"] * 2,
                          [0.9, 0.8, 0.2, 0.5] * 2)
    encoder = lora.add_lora(load_encoder(str(resources.packaged_model_path())), r=8)  # a fresh copy
    short_training(encoder, pairs, steps=2, lr=5e-3)
    folder = lora.save_lora(encoder, tmp_path_factory.mktemp("lora") / "adapter")
    return encoder.encode(SENTENCES), folder


def test_adapter_alone_is_small_and_names_its_base(trained_adapter):
    _, folder = trained_adapter
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "adapter_config.json", "adapter_model.safetensors"]
    assert (folder / "adapter_model.safetensors").stat().st_size < 400_000  # 73,728 float32 numbers and a header
    config = json.loads((folder / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 8
    assert config["base_model_name_or_path"] == str(resources.packaged_model_path().resolve())


def test_adapter_alone_read_by_peft_gives_sentence_transformers_the_same_vectors(trained_adapter):
    from peft import PeftModel
    from sentence_transformers import SentenceTransformer

    ours, folder = trained_adapter
    theirs = SentenceTransformer(str(resources.packaged_model_path()), device="cpu")
    before = theirs.encode(SENTENCES, convert_to_tensor=True)
    PeftModel.from_pretrained(theirs.transformers_model, str(folder))  # peft puts the adapter into ST's model in place
    after = theirs.encode(SENTENCES, convert_to_tensor=True)
    assert (after - before).abs().max() > 1e-4  # the adapter is in use
    torch.testing.assert_close(after, ours, rtol=1e-5, atol=1e-5)


def test_sentence_transformers_load_adapter_reads_the_folder(trained_adapter):
    from sentence_transformers import SentenceTransformer
    from transformers.integrations.peft import MIN_PEFT_VERSION
    from transformers.utils.peft_utils import check_peft_version

    try:
        check_peft_version(MIN_PEFT_VERSION)
    except ValueError:
        pytest.skip(f"this transformers refuses peft below {MIN_PEFT_VERSION} in load_adapter; "
                    f"peft {importlib.metadata.version('peft')} is installed")
    ours, folder = trained_adapter
    theirs = SentenceTransformer(str(resources.packaged_model_path()), device="cpu")
    theirs.load_adapter(str(folder))
    torch.testing.assert_close(theirs.encode(SENTENCES, convert_to_tensor=True), ours, rtol=1e-5, atol=1e-5)


def test_load_lora_puts_the_saved_adapter_back(trained_adapter):
    ours, folder = trained_adapter
    back = lora.load_lora(load_encoder(str(resources.packaged_model_path())), folder)
    assert lora.has_lora(back) and lora.count_parameters(back).trainable == 0  # loaded for use
    torch.testing.assert_close(back.encode(SENTENCES), ours, rtol=1e-5, atol=1e-5)
    again = lora.load_lora(load_encoder(str(resources.packaged_model_path())), folder, trainable=True)
    assert lora.count_parameters(again).trainable == 73_728  # 6 layers x (query, value) x 8 x (384 + 384)


def test_save_lora_refuses_a_base_that_is_not_the_trained_one(tiny_encoder, tmp_path):
    # the untuned encoder was built from the reference's config, so it names the reference, whose weights differ
    lora.add_lora(tiny_encoder)
    with pytest.raises(ValueError, match="not the one these adapters were trained on"):
        lora.save_lora(tiny_encoder, tmp_path / "adapter")
    assert not (tmp_path / "adapter").exists()
    # saving the base first makes the adapter usable
    base = tmp_path / "base"
    lora.merge_lora(tiny_encoder)  # B = 0: the merged model is the base itself
    save_encoder(tiny_encoder, base)
    lora.add_lora(tiny_encoder)
    folder = lora.save_lora(tiny_encoder, tmp_path / "adapter", base_model_path=base)
    assert str(base.resolve()) in (folder / "adapter_config.json").read_text()


def test_bad_input_says_what_to_do(tiny_encoder, tmp_path):
    with pytest.raises(ValueError, match=r"No linear layer .* called \['qurey'\].*'query'"):
        lora.add_lora(tiny_encoder, target_modules=["query", "qurey"])
    with pytest.raises(ValueError, match=r"called \['LayerNorm'\]"):
        lora.add_lora(tiny_encoder, target_modules=["LayerNorm"])
    with pytest.raises(TypeError, match="wrap it in a list"):
        lora.add_lora(tiny_encoder, target_modules="query")
    with pytest.raises(ValueError, match="positive integer"):
        lora.add_lora(tiny_encoder, r=0)
    with pytest.raises(ValueError, match="dropout"):
        lora.add_lora(tiny_encoder, dropout=1.0)
    assert not lora.has_lora(tiny_encoder)  # nothing was changed by the refused calls
    assert lora.count_parameters(tiny_encoder).fraction == 1.0
    with pytest.raises(ValueError, match="no LoRA adapters to merge"):
        lora.merge_lora(tiny_encoder)
    with pytest.raises(ValueError, match="use save_encoder"):
        lora.save_lora(tiny_encoder, tmp_path / "adapter")
    with pytest.raises(FileNotFoundError, match="adapter_config.json"):
        lora.load_lora(tiny_encoder, tmp_path)
    lora.add_lora(tiny_encoder)
    with pytest.raises(ValueError, match="already has LoRA adapters"):
        lora.add_lora(tiny_encoder)
