"""sbert_teach.library: our encoders as sentence-transformers models, and the library's losses on real batches.

What chapters 2, 4, 5 and 6 show in their "the same thing in sentence-transformers" cells, on real
sentences through real models (tests/test_objectives.py checks the same losses on hand-made tensors):
identical vectors, the same loss for each of SoftmaxLoss, CosineSimilarityLoss, TripletLoss and
MultipleNegativesRankingLoss on one batch, and a short SentenceTransformerTrainer run.
"""

import pytest
import torch

from sbert_teach import (TextColumnsCollator, evaluate_sts, load_encoder, load_nli, load_sts, make_objective,
                         nli_triplets, resources)
from sbert_teach.library import as_sentence_transformer, reference_location
from sbert_teach.models import build_untuned_encoder
from sbert_teach.pooling import mean_pooling

SENTENCES = ["A man is playing a guitar.", "A woman slices an onion on a board in the kitchen.", "Rain."]
BATCH = 8


@pytest.fixture(scope="module")
def st_reference(reference):
    return as_sentence_transformer(reference)


@pytest.fixture
def small_untuned():
    """One random layer under the real tokenizer and word-piece table: a real model, quick to train."""
    return build_untuned_encoder(resources.packaged_model_path(), seed=0, num_layers=1)


def test_reference_location_is_the_packaged_folder_or_the_hub_name():
    assert reference_location(resources.PACKAGED) == str(resources.packaged_model_path())
    assert reference_location(resources.HUB) == "sentence-transformers/all-MiniLM-L6-v2"


def test_the_library_pooling_module_is_our_mean_pooling(reference):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    st_model = SentenceTransformer(reference_location(), device="cpu").eval()
    features = st_model.preprocess(SENTENCES)
    with torch.no_grad():
        tokens = st_model[0](features)["token_embeddings"]
        theirs = Pooling(tokens.shape[-1], pooling_mode="mean")(features)["sentence_embedding"]
    assert int(features["attention_mask"].sum(1).min()) < tokens.shape[1]  # the batch has padding to ignore
    torch.testing.assert_close(theirs, mean_pooling(tokens, features["attention_mask"]), rtol=0, atol=0)


def test_as_sentence_transformer_gives_the_same_vectors_in_eval_mode_and_is_a_copy(small_untuned):
    st_model = as_sentence_transformer(small_untuned)
    assert not any(module.training for module in st_model.modules())  # no dropout: the same batch, the same vectors
    assert st_model.device == small_untuned.device
    torch.testing.assert_close(torch.as_tensor(st_model.encode(SENTENCES)), small_untuned.encode(SENTENCES),
                               rtol=1e-5, atol=1e-6)
    before = small_untuned.transformer.embeddings.word_embeddings.weight.clone()
    with torch.no_grad():
        st_model[0].auto_model.embeddings.word_embeddings.weight.add_(1.0)
    torch.testing.assert_close(small_untuned.transformer.embeddings.word_embeddings.weight, before, rtol=0, atol=0)


def _library_loss(name, st_model, objective):
    from sentence_transformers.sentence_transformer.losses import (
        CosineSimilarityLoss, MultipleNegativesRankingLoss, SoftmaxLoss, TripletDistanceMetric, TripletLoss)

    if name == "softmax":
        loss = SoftmaxLoss(st_model, objective.encoder.embedding_dim, num_labels=3)
        loss.classifier.load_state_dict(objective.classifier.state_dict())
        return loss
    if name == "regression":
        return CosineSimilarityLoss(st_model)
    if name == "triplet":
        assert TripletLoss(st_model).triplet_margin == 5  # the library's default: the chapter passes the paper's 1
        return TripletLoss(st_model, distance_metric=TripletDistanceMetric.EUCLIDEAN, triplet_margin=1)
    return MultipleNegativesRankingLoss(st_model)  # scale 20, like ours


def _batch(name):
    if name == "softmax":
        return load_nli("train", limit=BATCH)
    if name == "regression":
        return load_sts("train", limit=BATCH)
    return nli_triplets(load_nli("train", limit=8 * BATCH)).select(range(BATCH))


@pytest.mark.parametrize("name", ["softmax", "regression", "triplet", "mnr"])
def test_the_library_loss_equals_our_objective_on_a_real_batch(name, reference, st_reference):
    # eval mode on both sides: dropout would make the losses differ by chance (and `reference` is shared
    # with the rest of the session, where an earlier test may have left it in training mode)
    objective = make_objective(name, reference).eval()
    st_reference.eval()
    batch = _batch(name)
    assert len(batch) == BATCH
    collate = TextColumnsCollator(reference.tokenizer, objective.text_columns, objective.label_column,
                                  objective.label_dtype, max_length=reference.max_length)
    features, labels = collate(list(batch))  # our tokenisation ...
    their_features = [st_reference.preprocess(batch[column]) for column in objective.text_columns]  # ... and theirs
    with torch.no_grad():
        ours = objective(features, labels)
        theirs = _library_loss(name, st_reference, objective)(their_features, labels)
    assert ours.item() > 1e-3  # a real batch: not a loss that is 0 whatever the code does
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_a_few_trainer_steps_lower_the_loss_and_the_library_folder_loads_back(small_untuned, tmp_path):
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss

    st_model = as_sentence_transformer(small_untuned)
    pairs = load_sts("train", limit=16)
    loss = CosineSimilarityLoss(st_model)

    def loss_on_pairs():
        st_model.eval()
        with torch.no_grad():
            return loss([st_model.preprocess(pairs[c]) for c in ("sentence1", "sentence2")],
                        torch.tensor(pairs["score"])).item()

    before = loss_on_pairs()
    untouched = small_untuned.transformer.encoder.layer[0].attention.self.query.weight.clone()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=4, per_device_train_batch_size=8, learning_rate=1e-3,
        seed=0, save_strategy="no", report_to="none", disable_tqdm=True, dataloader_pin_memory=False)
    SentenceTransformerTrainer(model=st_model, args=args, train_dataset=pairs, loss=loss).train()
    after = loss_on_pairs()
    assert after < 0.9 * before, (before, after)
    torch.testing.assert_close(small_untuned.transformer.encoder.layer[0].attention.self.query.weight, untouched,
                               rtol=0, atol=0)  # the library trained its copy, not our encoder

    # chapter 5: the library's evaluator and ours agree on the trained model, saved by the library
    st_model.save(str(tmp_path / "trained"))
    dev = load_sts("dev", limit=32)
    evaluator = EmbeddingSimilarityEvaluator(dev["sentence1"], dev["sentence2"], dev["score"])
    theirs = evaluator(st_model)[evaluator.primary_metric]
    ours = evaluate_sts(load_encoder(tmp_path / "trained"), dev)["spearman_cosine"]
    assert abs(ours - theirs) < 1e-4
