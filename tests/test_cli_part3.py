"""The command line on your own data (issue 22): ``train --data FILE`` in each file format and with each
Part III option, ``mine`` and ``evaluate-retrieval``, and a clear error for each kind of bad input.

Every run is in-process on tiny data, with a one-layer encoder standing in for both 'reference' and
'untuned' (folders load as usual) and STSb scored on 16 pairs, so each test takes a few seconds.
"""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest
import torch

from sbert_teach import cli, models, own_data, recipe_registry, resources
from sbert_teach.encoder import SentenceEncoder
from sbert_teach.models import build_untuned_encoder
from sbert_teach.objectives import OBJECTIVES, make_objective
from sbert_teach.persistence import load_encoder, save_encoder
from sbert_teach.retrieval import evaluate_retrieval
from sbert_teach.static import StaticEncoder

ANCHORS = ["how do I reset my password", "can I change the delivery address", "what payment methods do you accept",
           "how long does shipping take", "can I return a gift", "do you ship abroad",
           "is there a student discount", "how do I cancel my order"]
POSITIVES = ["Open Settings, choose Account, then Reset password.", "Change the address before the parcel ships.",
             "We accept credit cards, bank transfer and PayPal.", "Parcels arrive within three to five days.",
             "Gifts can be returned within 30 days.", "We ship to every country in the European Union.",
             "Students get 10% off with a valid card.", "Orders can be cancelled before they ship."]
NEGATIVES = POSITIVES[1:] + POSITIVES[:1]


def tiny_model(seed=0):
    return build_untuned_encoder(resources.packaged_model_path(), seed=seed, num_layers=1)


@pytest.fixture
def tiny(monkeypatch):
    """A 'tiny' scale (16 STSb pairs, batch 4) and one-layer stand-ins for the reference and the untuned start."""
    scale = dataclasses.replace(resources.get_scale("smoke"), name="tiny", eval_pairs=16, max_steps=2, batch_size=4)
    monkeypatch.setitem(resources.SCALES, "tiny", scale)
    real_get_model = models.get_model

    def get_model(which="reference", resources_profile=None, seed=0, pooling=None):
        if which in ("reference", "untuned"):
            return tiny_model(seed)
        return real_get_model(which, resources_profile, seed=seed, pooling=pooling)

    monkeypatch.setattr(models, "get_model", get_model)


def run(capsys, *args):
    code = cli.main([*args, "--resources", "packaged"])
    out, err = capsys.readouterr()
    return code, out, err


def train(capsys, tmp_path, data, *options, objective="mnr"):
    return run(capsys, "train", "--objective", objective, "--data", str(data), "--scale", "tiny", "--start",
               "reference", "--steps", "2", "--batch-size", "4", "--output", str(tmp_path / "model"), *options)


def write(frame, path):
    own_data.write_table(__import__("datasets").Dataset.from_pandas(frame, preserve_index=False), path)
    return path


def pairs_file(tmp_path, name="pairs.csv", **columns):
    return write(pd.DataFrame(columns or {"anchor": ANCHORS, "positive": POSITIVES}), tmp_path / name)


def assert_refused(code, err, *fragments):
    assert code == 2 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


# -- one list of objectives: the registry -------------------------------------------------------

@pytest.mark.parametrize("name", list(recipe_registry.RECIPES))
def test_every_registered_loss_is_a_choice_and_built_by_name(name, tiny_encoder):
    train_help = " ".join(cli.build_parser()._subparsers._group_actions[0].choices["train"].format_help().split())
    assert f"{name}: " in train_help
    objective = make_objective(name, tiny_encoder)
    assert OBJECTIVES[name] is recipe_registry.get(name).objective
    assert objective.text_columns  # every loss says which columns it reads (what --data checks)


def test_objectives_is_a_view_of_the_registry(monkeypatch, tiny_encoder):
    monkeypatch.setattr(recipe_registry, "RECIPES", dict(recipe_registry.RECIPES))
    mnr = recipe_registry.get("mnr")
    recipe_registry.register(dataclasses.replace(mnr, name="my_mnr", options={"use_hard_negatives": False}))
    assert "my_mnr" in OBJECTIVES and len(OBJECTIVES) == len(recipe_registry.RECIPES)
    assert make_objective("my_mnr", tiny_encoder).text_columns == ("anchor", "positive")  # the recipe's options
    with pytest.raises(ValueError, match="Unknown objective 'contrastive'. Choose one of: .*my_mnr"):
        make_objective("contrastive", tiny_encoder)


# -- train --data: the three formats, and chapter 8's error -------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_train_on_your_file_in_each_format(suffix, tiny, capsys, tmp_path):
    data = pairs_file(tmp_path, f"pairs{suffix}", anchor=ANCHORS, positive=POSITIVES, negative=NEGATIVES,
                      source=["faq"] * 8)
    assert own_data.read_table(data).to_dict() == {"anchor": ANCHORS, "positive": POSITIVES, "negative": NEGATIVES,
                                                   "source": ["faq"] * 8}
    code, out, err = train(capsys, tmp_path, data)
    assert code == 0, err
    assert "rows: 8  columns: anchor, positive, negative" in out  # the negative is used, the extra column is not
    assert "objective: mnr  scale: tiny  steps: 2" in out
    start, trained = tiny_model(), load_encoder(tmp_path / "model")
    assert not torch.equal(start.encode(ANCHORS[:2]), trained.encode(ANCHORS[:2]))


@pytest.mark.parametrize("objective, columns", [
    ("regression", {"sentence1": ANCHORS, "sentence2": POSITIVES, "score": [0.9, 0.1, 0.5, 0.7, 0.3, 0.0, 1.0, 0.6]}),
    ("batch_hard", {"sentence": ANCHORS, "label": [0, 1, 2, 1, 0, 1, 2, 0]}),
])
def test_losses_with_labels_train_on_your_file(objective, columns, tiny, capsys, tmp_path):
    code, out, err = train(capsys, tmp_path, pairs_file(tmp_path, **columns), objective=objective)
    assert code == 0 and f"rows: 8  columns: {', '.join(columns)}" in out, err


def test_a_json_file_holding_one_list_is_read_too(tmp_path):
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps([{"anchor": a, "positive": p} for a, p in zip(ANCHORS, POSITIVES)]))
    assert own_data.read_table(path)["anchor"][:] == ANCHORS


@pytest.mark.parametrize("objective, columns, missing", [
    ("mnr", {"question": ANCHORS, "answer": POSITIVES}, "['anchor', 'positive']"),
    ("softmax", {"sentence1": ANCHORS, "sentence2": POSITIVES, "score": [0.5] * 8}, "['label']"),
    ("distill_mse", {"anchor": ANCHORS, "positive": POSITIVES}, "['sentence']"),
])
def test_wrong_columns_get_chapter_8s_error(objective, columns, missing, tiny, capsys, tmp_path):
    data = pairs_file(tmp_path, "mine.csv", **columns)
    code, _, err = train(capsys, tmp_path, data, objective=objective)
    assert_refused(code, err, f"lacks column(s) {missing} that the {objective} objective needs",
                   f"it has {list(columns)}", "Rename the columns", "chapter 8")
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("name, content, message", [
    ("pairs.txt", "anchor,positive\na,b\n", "unknown file type '.txt'. Save your data as CSV"),
    ("empty.csv", "anchor,positive\n", "empty.csv has no rows"),
    ("blank.csv", "", "blank.csv has no rows"),
    ("hole.csv", "anchor,positive\na cat,a kitten\na dog,\n", "row 2, column 'positive' is empty"),
    ("scores.csv", "sentence1,sentence2,score\na,b,4.0\n", "not a similarity between -1 and 1 (1 such rows)"),
    ("labels.csv", "sentence1,sentence2,label\na,b,3\n", "labels[0] = 3 is out of range 0..2"),
    ("topics.csv", "sentence,label\na,billing\nb,2\n", "row 1, column 'label': 'billing' is not a whole number"),
])
def test_bad_files_are_refused_by_name(name, content, message, tiny, capsys, tmp_path):
    objective = {"scores.csv": "regression", "labels.csv": "softmax", "topics.csv": "batch_hard"}.get(name, "mnr")
    (tmp_path / name).write_text(content)
    code, _, err = train(capsys, tmp_path, tmp_path / name, objective=objective)
    assert_refused(code, err, message)


def test_a_missing_file_is_named(tiny, capsys, tmp_path):
    code, _, err = train(capsys, tmp_path, tmp_path / "nowhere.csv")
    assert_refused(code, err, f"No file at {tmp_path / 'nowhere.csv'}")


# -- train --data with each Part III piece ------------------------------------------------------

def test_cached_mnr_with_a_mini_batch_size(tiny, capsys, tmp_path):
    data = pairs_file(tmp_path)
    code, out, err = train(capsys, tmp_path, data, "--mini-batch-size", "2", objective="cached_mnr")
    assert code == 0 and "objective: cached_mnr" in out, err
    code, _, err = train(capsys, tmp_path, data, "--mini-batch-size", "8", objective="cached_mnr")
    assert_refused(code, err, "--mini-batch-size 8 is larger than the batch of 4 rows", "raise --batch-size")


def test_matryoshka_sizes(tiny, capsys, tmp_path):
    data = pairs_file(tmp_path)
    code, out, err = train(capsys, tmp_path, data, "--dims", "384", "128", "32", objective="matryoshka")
    assert code == 0 and "objective: matryoshka" in out, err
    code, _, err = train(capsys, tmp_path, data, "--dims", "512", "256", objective="matryoshka")
    assert_refused(code, err, "dim 512 is wider than the 384-dimensional embeddings")
    code, _, err = train(capsys, tmp_path, data, "--dims", "64", "128", objective="matryoshka")
    assert_refused(code, err, "decreasing order", "(128, 64)")
    # around cached MNR: the mini-batch size reaches the inner objective
    code, out, err = train(capsys, tmp_path, data, "--inner", "cached_mnr", "--mini-batch-size", "2", "--dims", "384",
                           "64", objective="matryoshka")
    assert code == 0, err


def test_distillation_from_the_reference(tiny, capsys, tmp_path):
    data = pairs_file(tmp_path, "sentences.csv", sentence=ANCHORS + POSITIVES)
    code, out, err = run(capsys, "train", "--objective", "distill_mse", "--data", str(data), "--scale", "tiny",
                         "--steps", "2", "--batch-size", "4", "--output", str(tmp_path / "student"))
    assert code == 0, err
    assert "rows: 16  columns: sentence, teacher_embedding" in out  # the teacher (reference) added the vectors


def test_a_teacher_of_another_width_is_refused_with_the_fix(tiny, capsys, tmp_path):
    wide = tiny_model()
    save_encoder(SentenceEncoder(wide.transformer, wide.tokenizer, dense_dim=32), tmp_path / "teacher32")
    data = pairs_file(tmp_path, "sentences.csv", sentence=ANCHORS)
    code, _, err = train(capsys, tmp_path, data, "--teacher", str(tmp_path / "teacher32"), objective="distill_mse")
    assert_refused(code, err, "student's vectors have 384 dimensions but the teacher's have 32",
                   "dense_dim=32", "PCA")
    # vectors in the file (JSON Lines) are checked the same way
    vectors = write(pd.DataFrame({"sentence": ANCHORS, "teacher_embedding": [[0.1] * 8] * 8}), tmp_path / "v.jsonl")
    code, _, err = train(capsys, tmp_path, vectors, objective="distill_mse")
    assert_refused(code, err, "have 384 dimensions but the teacher's have 8")


def test_a_static_model_from_the_reference(tiny, capsys, tmp_path):
    code, out, err = train(capsys, tmp_path, pairs_file(tmp_path), "--static")
    assert code == 0, err
    modules = json.loads((tmp_path / "model" / "modules.json").read_text())
    assert modules[0]["type"].endswith("StaticEmbedding")
    assert isinstance(load_encoder(tmp_path / "model"), StaticEncoder)


@pytest.mark.parametrize("options, objective, message", [
    (("--dims", "384", "64"), "mnr", "--dims is for --objective matryoshka"),
    (("--mini-batch-size", "2"), "mnr", "--mini-batch-size is for --objective cached_mnr"),
    (("--teacher", "reference"), "mnr", "--teacher is for --objective distill_mse"),
    (("--inner", "mnr"), "cached_mnr", "--inner is for --objective matryoshka"),
])
def test_an_option_the_objective_does_not_take_is_an_error(options, objective, message, tiny, capsys, tmp_path):
    code, _, err = train(capsys, tmp_path, pairs_file(tmp_path), *options, objective=objective)
    assert_refused(code, err, message)


def test_without_a_file_part_iii_options_and_losses_without_book_data_say_to_add_one(tiny, capsys, tmp_path):
    code, _, err = run(capsys, "train", "--objective", "cached_mnr", "--output", str(tmp_path / "m"))
    assert_refused(code, err, "no data for 'cached_mnr'", "--data FILE")
    code, _, err = run(capsys, "train", "--objective", "mnr", "--static", "--output", str(tmp_path / "m"))
    assert_refused(code, err, "--static set(s) up training on your own data: add --data FILE")


# -- mine ---------------------------------------------------------------------------------------

def test_mine_writes_triplets_that_train_takes(tiny, capsys, tmp_path):
    code, out, err = run(capsys, "mine", "--data", str(pairs_file(tmp_path)), "--output",
                         str(tmp_path / "triplets.jsonl"), "--num-negatives", "2")
    assert code == 0, err
    assert "mined up to 2 negatives for 8 (anchor, positive) pairs" in out
    triplets = own_data.read_table(tmp_path / "triplets.jsonl")
    assert triplets.column_names == ["anchor", "positive", "negative"] and len(triplets) == 16
    for row in triplets:  # never the pair's own positive
        assert row["negative"] != row["positive"] and row["negative"] in POSITIVES
    code, out, err = train(capsys, tmp_path, tmp_path / "triplets.jsonl")
    assert code == 0 and "columns: anchor, positive, negative" in out, err


def test_mine_refuses_pairs_without_their_columns_and_an_empty_corpus(tiny, capsys, tmp_path):
    code, _, err = run(capsys, "mine", "--data", str(pairs_file(tmp_path, "qa.csv", q=ANCHORS, a=POSITIVES)),
                       "--output", str(tmp_path / "t.csv"))
    assert_refused(code, err, "lacks column(s) ['anchor', 'positive'] that the miner needs", "it has ['q', 'a']")
    (tmp_path / "corpus.csv").write_text("text\n")
    code, _, err = run(capsys, "mine", "--data", str(pairs_file(tmp_path)), "--corpus", str(tmp_path / "corpus.csv"),
                       "--output", str(tmp_path / "t.csv"))
    assert_refused(code, err, "corpus.csv has no rows")


# -- evaluate-retrieval -------------------------------------------------------------------------

def retrieval_files(tmp_path, queries=None, corpus=None, relevant=None):
    queries = queries or {"id": [f"q{i}" for i in range(8)], "text": ANCHORS}
    corpus = corpus or {"id": [f"{i:03d}" for i in range(8)], "text": POSITIVES}
    relevant = relevant or {"query_id": [f"q{i}" for i in range(8)], "corpus_id": [f"{i:03d}" for i in range(8)]}
    return [str(write(pd.DataFrame(table), tmp_path / f"{name}.csv"))
            for name, table in (("queries", queries), ("corpus", corpus), ("relevant", relevant))]


def test_evaluate_retrieval_prints_the_evaluators_figures(tiny, capsys, tmp_path):
    files = retrieval_files(tmp_path)
    code, out, err = run(capsys, "evaluate-retrieval", "--queries", files[0], "--corpus", files[1], "--relevant",
                         files[2], "--k", "1", "5")
    assert code == 0, err
    printed = dict(line.split(": ") for line in out.splitlines() if line.startswith("cosine_"))
    # ids such as "000" stay text; the figures are the package evaluator's on the same task and model
    task = own_data.read_retrieval_task(*files)
    assert set(task.corpus) == {f"{i:03d}" for i in range(8)}
    expected = evaluate_retrieval(tiny_model(), task, accuracy_at_k=(1, 5), precision_recall_at_k=(1, 5),
                                  mrr_at_k=(5,), ndcg_at_k=(5,), map_at_k=(5,))
    for key in ("cosine_recall@1", "cosine_recall@5", "cosine_mrr@5", "cosine_ndcg@5"):
        assert float(printed[key]) == pytest.approx(expected[key], abs=5e-5)


@pytest.mark.parametrize("change, message", [
    ({"corpus": {"id": ["d1", "d1"], "text": ["A cat.", "A dog."]},
      "relevant": {"query_id": ["q0"], "corpus_id": ["d1"]}, "queries": {"id": ["q0"], "text": ["a cat"]}},
     "id(s) ['d1'] appear more than once"),
    ({"relevant": {"query_id": [f"q{i}" for i in range(7)], "corpus_id": [f"{i:03d}" for i in range(7)]}},
     "Query 'q7' has no relevant document"),
    ({"relevant": {"query_id": ["q0"] + [f"q{i}" for i in range(8)], "corpus_id": ["999"] + [f"{i:03d}" for i in
                                                                                           range(8)]}},
     "not in the corpus: ['999']"),
    ({"k": ("--k", "10")}, "--k 10 is larger than the corpus (8 documents)"),
    ({"queries": {"ident": ["q0"], "text": ["a cat"]}}, "lacks column(s) ['id'] that the queries file needs"),
])
def test_evaluate_retrieval_bad_input_names_the_fix(change, message, tiny, capsys, tmp_path):
    k = change.pop("k", ("--k", "1"))
    files = retrieval_files(tmp_path, **change)
    code, _, err = run(capsys, "evaluate-retrieval", "--queries", files[0], "--corpus", files[1], "--relevant",
                       files[2], *k)
    assert_refused(code, err, message)


def test_evaluate_retrieval_refuses_an_empty_corpus(tiny, capsys, tmp_path):
    files = retrieval_files(tmp_path)
    (tmp_path / "corpus.csv").write_text("id,text\n")
    code, _, err = run(capsys, "evaluate-retrieval", "--queries", files[0], "--corpus", files[1], "--relevant",
                       files[2])
    assert_refused(code, err, "corpus.csv has no rows")


def test_every_command_line_example_in_the_readme_parses():
    """The README's command-line section and the --help epilog show each piece with one line: each must be a
    valid command (parsed here, not run)."""
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Command line"):readme.index("## Resources: hub or packaged")]
    lines = [line for line in (section + cli.EXAMPLES).splitlines()
             if line.strip().startswith("python -m sbert_teach ") and "--help" not in line]
    commands = {shlex.split(line.split("#")[0])[3] for line in lines}
    assert {"train", "mine", "evaluate-retrieval", "evaluate"} <= commands
    assert all(option in section for option in ("--data", "--mini-batch-size", "--dims", "--teacher", "--static"))
    parser = cli.build_parser()
    for line in lines:
        parser.parse_args(shlex.split(line.split("#")[0])[3:])  # argparse exits on an unknown option or choice


def test_own_data_doctests():
    import doctest

    assert doctest.testmod(own_data).failed == 0
