"""What chapter 10's prose says about its run, checked against the executed (smoke) outputs it is committed with.

The prose is written to hold for any run where a result could go either way (a gain or a loss after fine-tuning,
LoRA's time per step); the claims below are the ones it states flatly.
"""

import re

from chapter_outputs import number_after

STEM = "10_finetune_for_search"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)


def test_the_splits_share_no_text(printed):
    line = next(line for line in printed.splitlines() if line.startswith("texts shared by train and dev"))
    assert [int(n) for n in re.findall(r":\s*(\d+)", line)] == [0, 0, 0]


def test_hand_package_and_library_figures_agree_to_1e6(printed):
    differences = re.findall(r"largest difference:\s*([-+0-9.e]+)", printed)
    assert len(differences) >= 2
    assert float(differences[0]) <= 1e-6  # by hand against sbert_teach
    assert float(differences[1]) <= 1e-6  # sbert_teach against InformationRetrievalEvaluator
    assert number_after(printed, "figures compared:") == 15


def test_the_reference_already_finds_most_captions(printed):
    row = re.search(r"cosine_recall@10\s+([0-9.]+)\s+([0-9.]+)", printed)  # the sbert_teach / library table
    assert row and float(row.group(1)) > 0.5


def test_lora_trains_a_fraction_of_a_percent(printed):
    match = re.search(r"LoRA, rank \d+\s*:\s*[\d,]+ of [\d,]+ parameters train \(([0-9.]+)%\)", printed)
    assert match and float(match.group(1)) < 1.0
    assert "100.00%" in printed  # full fine-tuning trains every parameter


def test_merged_model_loads_in_sentence_transformers_with_the_same_vectors(printed):
    assert "adapters left after merging: False" in printed
    assert number_after(printed, "merged vs adapters, largest difference:") < 1e-5
    assert number_after(printed, "SentenceTransformer(path) vs our encoder, largest difference:") < 1e-5


def test_your_own_file_reads_back_the_same_rows(printed):
    assert "same rows as in memory: True" in printed


def test_the_curve_starts_at_the_model_as_it_ships_and_has_two_seeds_at_its_largest_size(printed):
    table = printed.split("fine-tuned on the first N training pairs:")[1].split("\n\n")[0]
    rows = [line.split() for line in table.strip().splitlines()[1:]]
    assert rows[0][0] == "0" and rows[0][2] == "0"  # 0 pairs, 0 steps
    largest = max(int(r[0]) for r in rows)
    assert len({r[1] for r in rows if int(r[0]) == largest}) == 2


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2
