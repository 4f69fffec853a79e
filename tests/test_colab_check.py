"""scripts/colab_check.py: the GPU check of the Colab path (the colab scale under the local hub), and how its
record reaches the instructors page and each chapter's setup line."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sbert_teach import chapter_times

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COLAB_RECORD = {
    "measured": "2026-12-02 on NVIDIA H200 (torch 2.11.0+cu130), colab scale, hub profile", "device": "NVIDIA H200",
    "scale": "colab", "profile": "hub", "bert": "base",
    "runs": {"fp16": {"chapters": {"04_softmax_nli.ipynb": {"seconds": 40.0}}},
             "bf16": {"chapters": {"04_softmax_nli.ipynb": {"seconds": 38.0}}}},
    "t4_estimate": {"how": "the fp16 time x 15.2 (NVIDIA H200 989 against T4 65 peak TFLOP/s): an estimate",
                    "chapters": {"04_softmax_nli.ipynb": {"seconds": 608.6}}},
}


def test_a_colab_record_becomes_the_t4_setup_line_and_a_table(tmp_path, monkeypatch):
    page = _script("instructors_page")
    (tmp_path / "chapter_times_colab.json").write_text(json.dumps(COLAB_RECORD))
    record = page.chapter_times_record(tmp_path)
    saved = tmp_path / "chapter_times.json"
    saved.write_text(json.dumps(record))
    monkeypatch.setattr(chapter_times, "RECORD", saved)
    line = chapter_times.expected_time(4, "colab", "cuda", "hub")
    assert line == "about 10 min on a T4 (estimated from a run at this scale on an NVIDIA H200, 2026-12-02)"
    # the packaged profile and a CPU were not measured at this scale: the line says so, it does not borrow
    assert chapter_times.expected_time(4, "colab", "cuda", "packaged").startswith("not measured yet")
    assert chapter_times.expected_time(4, "colab", "cpu", "hub").startswith("not measured yet")
    table = "\n".join(page.colab_section(tmp_path))
    assert "| 04 | 0.7 min | 0.6 min | 10.1 min |" in table and "an estimate" in table


def test_without_a_colab_record_the_page_says_how_to_make_one(tmp_path):
    page = _script("instructors_page")
    assert "No chapter has been timed on a T4 yet" in "\n".join(page.colab_section(tmp_path))
    assert all(m["scale"] != "colab" for m in page.chapter_times_record(tmp_path)["measurements"])


@pytest.mark.slow
def test_a_prepared_hub_is_finished_on_the_other_machine(tmp_path):
    """--prepare leaves the weights out (the tree that travels is limited); finish() makes them, in the
    layouts the hub profile loads."""
    from transformers import AutoModel

    from sbert_teach import resources

    check = _script("colab_check")
    check.prepare(tmp_path, n_nli=80, n_sts=40, wheels=False)
    bert = check.local_hub._model_repo(tmp_path, "bert-base-uncased")
    assert (bert / "tokenizer_config.json").exists() and not (bert / "config.json").exists()
    assert not check.reference_weights(tmp_path).exists() and not (tmp_path / "work").exists()
    assert sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()) < 8 * 2**20
    check.finish(tmp_path, "tiny")
    reference = AutoModel.from_pretrained(check.reference_weights(tmp_path).parent)
    packaged = AutoModel.from_pretrained(resources.packaged_model_path())
    assert [(n, p.shape) for n, p in reference.named_parameters()] == \
        [(n, p.shape) for n, p in packaged.named_parameters()]
    assert (check.reference_weights(tmp_path).parent / "modules.json").exists()
    config = json.loads((bert / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"]) == (12, 32)


@pytest.mark.slow
def test_the_check_runs_a_chapter_under_the_hub_and_records_it(tmp_path):
    output = tmp_path / "times.json"
    proc = subprocess.run([sys.executable, "scripts/colab_check.py", "--bert", "tiny", "--scale", "smoke",
                           "--precision", "auto", "--nli-pairs", "400", "--sts-pairs", "100", "--output", str(output),
                           "01_bert_token_outputs.ipynb"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads(output.read_text())
    assert record["profile"] == "hub" and record["scale"] == "smoke" and record["bert"] == "tiny"
    assert record["runs"]["auto"]["chapters"]["01_bert_token_outputs.ipynb"]["seconds"] > 0
    assert "t4_estimate" not in record  # no GPU, no estimate


ESTIMATE_RECORD = {
    "counted": "2026-12-07 on a 2-core CPU, against tests/local_hub.py (100,000 NLI pairs)",
    "rates": {"minilm": {"layers": 6, "trained": 1265.0, "encoded": 9397.0},
              "bert-base": {"layers": 12, "trained": 816.0, "encoded": 4453.0}, "measured": "NVIDIA H100, 2026-11-22"},
    "t4_factor": 15.22, "how": "scripts/colab_estimate.py: an estimate, not a measurement",
    "chapters": {"10_finetune_for_search.ipynb": {"reference": "narrow", "sentences": {"minilm|6|trained": 100000},
                                                  "h100_seconds": 79.1, "t4_ceiling_seconds": 1203.6},
                 "11_hard_negatives_and_big_batches.ipynb": {"reference": "real", "sentences": {"minilm|6|trained": 1},
                                                             "h100_seconds": 30.0, "t4_ceiling_seconds": 456.0}},
}


def test_the_counted_work_becomes_a_t4_range_and_a_measured_run_wins(tmp_path, monkeypatch):
    page = _script("instructors_page")
    (tmp_path / "chapter_times_colab_estimate.json").write_text(json.dumps(ESTIMATE_RECORD))
    saved = tmp_path / "chapter_times.json"
    saved.write_text(json.dumps(page.chapter_times_record(tmp_path)))
    monkeypatch.setattr(chapter_times, "RECORD", saved)
    line = chapter_times.expected_time(10, "colab", "cuda", "hub")
    assert line.startswith("between about 1 and 20 min on a T4 for its model passes, plus installing") 
    assert "an estimate, not timed on a T4: the passes counted on 2026-12-07" in line
    assert chapter_times.expected_time(11, "colab", "cuda", "hub").startswith("up to about 8 min on a T4")  # low < 1 min
    assert chapter_times.expected_time(4, "colab", "cuda", "hub").startswith("not measured yet")  # not counted
    assert chapter_times.expected_time(10, "local", "cuda", "hub").startswith("not measured yet")
    small = json.loads(json.dumps(ESTIMATE_RECORD))
    small["chapters"]["10_finetune_for_search.ipynb"].update(h100_seconds=2.0, t4_ceiling_seconds=30.0)
    (tmp_path / "chapter_times_colab_estimate.json").write_text(json.dumps(small))
    saved.write_text(json.dumps(page.chapter_times_record(tmp_path)))
    assert chapter_times.expected_time(10, "colab", "cuda", "hub").startswith("under 1 min on a T4 for its model")
    (tmp_path / "chapter_times_colab_estimate.json").write_text(json.dumps(ESTIMATE_RECORD))
    saved.write_text(json.dumps(page.chapter_times_record(tmp_path)))
    table = "\n".join(page.colab_section(tmp_path))
    assert "| 10 | 1.3 min | 20.1 min |" in table and "| **all chapters** | **2 min** | **28 min** |" in table
    assert "except in chapter 11, which mines negatives" in table

    # a GPU run of scripts/colab_check.py measured chapter 10: its time, not the estimate
    measured = json.loads(json.dumps(COLAB_RECORD))
    measured["t4_estimate"]["chapters"] = {"10_finetune_for_search.ipynb": {"seconds": 300.0}}
    (tmp_path / "chapter_times_colab.json").write_text(json.dumps(measured))
    saved.write_text(json.dumps(page.chapter_times_record(tmp_path)))
    assert chapter_times.expected_time(10, "colab", "cuda", "hub").startswith("about 5 min on a T4 (estimated from a run")


def test_the_estimate_prices_each_model_and_a_shallower_student_per_layer():
    estimate = _script("colab_estimate")
    rates = {"minilm": {"layers": 6, "trained": 100.0, "encoded": 1000.0},
             "bert-base": {"layers": 12, "trained": 50.0, "encoded": 500.0}}
    assert estimate.h100_seconds({"minilm|6|trained": 200, "minilm|6|encoded": 3000}, rates) == pytest.approx(5.0)
    assert estimate.h100_seconds({"minilm|2|trained": 300}, rates) == pytest.approx(1.0)  # a third of the layers
    assert estimate.h100_seconds({"bert-base|12|encoded": 1000}, rates) == pytest.approx(2.0)
    record = {"chapters": {"10": {"sentences": {"minilm|6|trained": 200}}}}
    estimate.price(record, rates, t4_factor=10.0)  # --reprice: the same counts at other rates
    assert record["chapters"]["10"] == {"sentences": {"minilm|6|trained": 200}, "h100_seconds": 2.0,
                                        "t4_ceiling_seconds": 20.0} and record["t4_factor"] == 10.0
    real = estimate.h100_rates()  # from benchmarks/results: the H100's measured rates
    assert real["minilm"]["encoded"] > real["minilm"]["trained"] > real["bert-base"]["trained"] > 0
    train = json.loads((ROOT / "benchmarks" / "results" / "train_vs_st_cuda.json").read_text())["results"]
    assert real["minilm"]["trained"] == 2 * train["mnr"]["pairs_per_second"]["sbert_teach"]["median"]  # Part III: MNR


@pytest.mark.slow
def test_the_counter_sees_every_forward_pass_with_and_without_gradients(tmp_path):
    """The counter loaded into each chapter's process: our encoder (padding-free or not), and the library's."""
    estimate = _script("colab_estimate")
    (tmp_path / "sitecustomize.py").write_text(estimate.COUNTER)
    code = """
import torch
from sbert_teach import get_model
from sbert_teach.library import as_sentence_transformer
model = get_model("reference")
model.encode(["a b", "c d e", "f"])                       # 3 encoded, our fast path
as_sentence_transformer(model).encode(["g h", "i"])       # 2 encoded, the library's
model.train()
model(model.tokenize(["j", "k l", "m n o", "p"]))          # 4 trained
"""
    env = {**__import__("os").environ, "PYTHONPATH": f"{tmp_path}:{ROOT}", "COLAB_WORK_FILE": str(tmp_path / "c.json")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    assert json.loads((tmp_path / "c.json").read_text()) == {"minilm|6|encoded": 5, "minilm|6|trained": 4}
