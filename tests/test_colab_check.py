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
    assert "Not measured yet" in "\n".join(page.colab_section(tmp_path))
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
