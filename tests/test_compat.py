"""What must hold across the declared dependency range and when the hub is out of reach."""

from __future__ import annotations

import pytest
import torch

from sbert_teach import resources
from sbert_teach.data import load_hub_dataset
from sbert_teach.speed import padding_free_bert


def test_padding_free_pass_works_without_the_scaling_attribute_of_transformers_5(tiny_encoder):
    """transformers 4.x's BertSelfAttention has no ``scaling``; the pass then uses 1/sqrt(head size)."""
    bert = tiny_encoder.transformer.eval()
    batch = tiny_encoder.tokenizer(["a cat sits on the mat", "a dog"], padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = bert(**batch).last_hidden_state * batch["attention_mask"].unsqueeze(-1)
        for layer in bert.encoder.layer:
            att = layer.attention.self
            if hasattr(att, "scaling"):
                assert att.scaling == pytest.approx(att.attention_head_size ** -0.5)
                del att.scaling  # as in transformers 4.x
                assert not hasattr(att, "scaling")
        got = padding_free_bert(bert, batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))
    assert torch.allclose(got, expected, atol=1e-5)


def test_a_hub_data_set_out_of_reach_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(resources.MissingResourceError, match=r"'stanfordnlp/snli' \(split 'train'\).*"
                                                             r"SBERT_TEACH_RESOURCES=packaged"):
        load_hub_dataset("stanfordnlp/snli", "train")
