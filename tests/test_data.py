from collections import Counter

import pytest
import torch

from sbert_teach import data
from sbert_teach.data import NLI_LABELS, TextColumnsCollator, load_nli, load_sts, nli_from_records, nli_triplets


@pytest.mark.parametrize("split,rows", [("train", 5749), ("dev", 1500), ("test", 1379)])
def test_packaged_sts_reads_every_row_with_scores_in_0_1(split, rows):
    ds, report = load_sts(split, return_report=True)
    assert report.read == rows and len(ds) + sum(report.dropped.values()) == rows
    assert len(ds) == rows  # no row of the shipped files is unusable
    assert set(ds.column_names) == {"sentence1", "sentence2", "score"}
    assert min(ds["score"]) >= 0.0 and max(ds["score"]) <= 1.0 and max(ds["score"]) == 1.0


def test_sts_limit_draws_across_the_genres_in_proportion_and_the_report_says_so():
    full = load_sts("dev")
    genres = [f[0] for f in data.csv.reader(open(data.resources.packaged_sts_path("dev"), encoding="utf-8"),
                                             delimiter="\t", quoting=data.csv.QUOTE_NONE)]
    ds, report = load_sts("dev", limit=300, return_report=True)
    assert (report.read, report.kept, len(ds)) == (1500, 1500, 300)
    assert "drew 300 of the 1500 kept" in str(report) and "genres" in str(report)
    # the first 300 pairs are captions only; the drawn 300 hold each genre in its share of the file (+-1)
    assert set(genres[:300]) == {"main-captions"}
    where = {(a, b): g for a, b, g in zip(full["sentence1"], full["sentence2"], genres)}
    drawn = Counter(where[(a, b)] for a, b in zip(ds["sentence1"], ds["sentence2"]))
    for genre, n in Counter(genres).items():
        assert abs(drawn[genre] - 300 * n / 1500) <= 1, genre
    # seeded: the same subset each call
    again = load_sts("dev", limit=300)
    assert list(again["sentence1"]) == list(ds["sentence1"])


def test_the_row_readers_still_stop_at_limit_so_their_report_counts_what_was_read():
    rows = [("a", "b", 1.0), ("", "b", 2.0), ("c", "d", 9.0), ("e", "f", 3.0), ("g", "h", 4.0)]
    ds, report = data.sts_from_rows(rows, "rows", limit=2)
    assert (report.read, report.kept, sum(report.dropped.values())) == (4, 2, 2)
    assert list(ds["sentence1"]) == ["a", "e"]


def test_nli_limit_draws_whole_premises_across_the_file_so_triplets_survive():
    full = load_nli("train")
    ds, (report,) = load_nli("train", limit=2_000, return_report=True)
    assert len(ds) == 2_000 and "drew 2000 of the 99890 kept" in str(report)
    premises = set(ds["sentence1"])
    first = list(full["sentence1"])
    # drawn from the whole file, not its first rows
    assert max(first.index(p) for p in list(premises)[:50]) > 20_000
    # a premise comes with all its hypotheses (all but at most the one group cut to fill the size)
    sizes = Counter(first)
    short = [p for p, n in Counter(ds["sentence1"]).items() if n != sizes[p]]
    assert len(short) <= 1
    assert len(nli_triplets(ds)) > 0.2 * len(premises)


def test_draw_subset_gives_each_stratum_its_share_and_keeps_groups_whole():
    strata = ["a"] * 60 + ["b"] * 30 + ["c"] * 10
    groups = [i // 3 for i in range(100)]
    rows = data.draw_subset(100, 20, strata, groups, seed=1)
    assert len(rows) == 20 and rows == sorted(rows) and len(set(rows)) == 20
    assert Counter(strata[i] for i in rows) == {"a": 12, "b": 6, "c": 2}
    assert data.draw_subset(100, 20, strata, groups, seed=1) == rows
    assert data.draw_subset(100, 20, strata, groups, seed=2) != rows
    assert data.draw_subset(5, 9) == [0, 1, 2, 3, 4]


def test_sts_lines_with_extra_columns_keep_the_right_fields():
    ds = load_sts("train")
    # sentences never look like a genre/source field, which a column shift would produce
    assert not any(s in ("main-news", "main-captions", "main-forums") for s in list(ds["sentence1"]) + list(ds["sentence2"]))


def test_packaged_snli_test_drops_and_counts_the_dash_labels():
    ds, reports = load_nli("test", return_report=True)
    (report,) = reports
    assert report.read == 10_000 and len(ds) == 9_824
    assert report.dropped == {"no gold label": 176}
    assert data.LAST_REPORTS["snli-test (packaged)"] is report
    assert sorted(set(ds["label"])) == [0, 1, 2]


def test_label_names_are_read_not_assumed():
    records = [{"premise": "A dog runs.", "hypothesis": "An animal moves.", "label": 2},
               {"premise": "A dog runs.", "hypothesis": "A cat sleeps.", "label": 0},
               {"premise": "A dog runs.", "hypothesis": "A dog.", "label": -1}]
    ds, report = nli_from_records(records, label_names=["contradiction", "neutral", "entailment"])
    assert [NLI_LABELS[y] for y in ds["label"]] == ["entailment", "contradiction"]
    assert report.dropped == {"no gold label": 1}


def test_a_malformed_json_line_is_dropped_and_counted_once(tmp_path):
    path = tmp_path / "nli.jsonl"
    path.write_text('{"sentence1": "A dog runs.", "sentence2": "An animal moves.", "gold_label": "entailment"}\n'
                    '{"sentence1": "broken\n')
    ds, report = nli_from_records(data._iter_jsonl(path))
    assert len(ds) == 1 and report.read == 2
    assert report.dropped == {"malformed line or not a record": 1}


def test_triplets_one_per_premise_with_both_kinds():
    nli, _ = nli_from_records([
        {"sentence1": "P1", "sentence2": "e1", "gold_label": "entailment"},
        {"sentence1": "P1", "sentence2": "c1", "gold_label": "contradiction"},
        {"sentence1": "P1", "sentence2": "n1", "gold_label": "neutral"},
        {"sentence1": "P2", "sentence2": "e2", "gold_label": "entailment"},  # no contradiction
    ])
    trip, report = nli_triplets(nli, return_report=True)
    assert trip[:] == {"anchor": ["P1"], "positive": ["e1"], "negative": ["c1"]}
    assert report.kept == 1 and sum(report.dropped.values()) == 1


def test_packaged_triplet_count():
    assert len(nli_triplets(load_nli("train"))) == 27_195


def test_collator_pads_each_column_only_to_its_own_longest(tiny_encoder):
    rows = [{"a": "short", "b": "a much longer sentence with many more words in it", "y": 1},
            {"a": "tiny", "b": "also short", "y": 0}]
    (fa, fb), labels = TextColumnsCollator(tiny_encoder.tokenizer, ["a", "b"], "y")(rows)
    assert fa["input_ids"].shape[1] == 3  # [CLS] word [SEP]
    assert fb["input_ids"].shape[1] == fb["attention_mask"].sum(1).max()
    assert labels.tolist() == [1, 0] and labels.dtype == torch.long


@pytest.mark.parametrize("limit", [None, 1, 7, 40, 1000])
@pytest.mark.parametrize("chunk_rows", [3, 65_536])
def test_column_wise_nli_loading_equals_row_by_row_with_the_same_counts(limit, chunk_rows):
    """The hub loader reads columns a chunk at a time; it must keep, drop and count exactly as row by row."""
    import random

    from datasets import ClassLabel, Dataset, Features, Value

    from sbert_teach.data import nli_from_columns

    rng = random.Random(limit or 0)
    words = ["a man sits", "two dogs", "", "   ", "kids play", None]
    features = Features({"premise": Value("string"), "hypothesis": Value("string"),
                         "label": ClassLabel(names=["entailment", "neutral", "contradiction"])})
    raw = Dataset.from_dict({"premise": [rng.choice(words) for _ in range(60)],
                             "hypothesis": [rng.choice(words) for _ in range(60)],
                             "label": [rng.choice([0, 1, 2, -1]) for _ in range(60)]}, features=features)
    names = raw.features["label"].names
    rows, by_row = nli_from_records(raw, "rows", label_names=names, limit=limit)
    columns, by_column = nli_from_columns(raw, "columns", names, limit=limit, chunk_rows=chunk_rows)
    assert rows.to_dict() == columns.to_dict()
    assert (by_row.read, by_row.kept, by_row.dropped) == (by_column.read, by_column.kept, by_column.dropped)
    assert by_column.dropped["no gold label"] > 0 and by_column.dropped["empty or non-text sentence"] > 0 or limit == 1
