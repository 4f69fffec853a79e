"""The benchmark scripts run end to end at a tiny size. No timing is asserted: only that each
script prints its ``<name>_ratio:`` lines and writes a valid JSON record, and that the
appendix page can be generated from those records."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = {
    "train_vs_st": ["train_softmax_vs_st_ratio", "train_mnr_vs_st_ratio", "train_vs_st_ratio"],
    "encode_vs_st": ["encode_vs_st_ratio", "encode_vs_naive_ratio"],
    "scaling": ["cross_vs_bi_ratio"],
    "switches": ["train_padding_free_share_ratio", "encode_smart_batching_share_ratio"],
    "bert_base": ["bert_base_vs_plain_passes_ratio"],
    "static_vs_transformer": ["static_vs_transformer_ratio"],
    "lora_vs_full": ["lora_vs_full_step_time_ratio", "lora_vs_full_cpu_time_ratio"],
    "cached_mnr_memory": ["cached_vs_plain_memory_ratio", "cached_vs_plain_time_ratio", "cached_vs_plain_cpu_time_ratio"],
    "miner_vs_library": ["miner_vs_library_ratio", "miner_vs_library_cpu_time_ratio",
                         "miner_end_to_end_vs_library_ratio", "miner_end_to_end_vs_library_cpu_time_ratio"],
    "retrieval_vs_library": ["retrieval_vs_library_ratio", "retrieval_vs_library_cpu_time_ratio",
                             "retrieval_end_to_end_vs_library_ratio", "retrieval_end_to_end_vs_library_cpu_time_ratio"],
}


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Run every script with --tiny at once (one torch thread each), so the module takes one script's time."""
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "SBERT_TEACH_RESOURCES": "packaged", "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}
    procs = {
        name: subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), "--tiny", "--threads", "1",
                                "--device", "cpu", "--results-dir", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        for name in SCRIPTS
    }
    results = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=900)
        results[name] = (proc.returncode, stdout, stderr)
    return out, results


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_prints_ratios_and_writes_json(tiny_runs, name):
    out, results = tiny_runs
    code, stdout, stderr = results[name]
    assert code == 0, stderr[-3000:]
    printed = dict(re.findall(r"^(\w+_ratio): (-?[\d.]+|nan|inf)$", stdout, flags=re.M))
    for key in SCRIPTS[name]:
        assert key in printed, f"{key} not printed:\n{stdout[-2000:]}"
    record = json.loads((out / f"{name}.json").read_text())
    assert record["benchmark"] == name and record["mode"] == "tiny"
    assert {"date_utc", "cpu", "versions"} <= set(record["machine"])
    assert set(SCRIPTS[name]) <= set(record["ratios"])


def test_report_writes_the_appendix_page_from_the_records(tiny_runs, tmp_path):
    out, _ = tiny_runs
    page = tmp_path / "how_fast.md"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report.py"), "--results", str(out),
                           "--output", str(page)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    assert text.startswith("# How fast is it?")
    for heading in ("## Goals", "## Against the paper's Table 7", "## Latest figures: CPU", "## Where the speed comes from"):
        assert heading in text
    assert "+89%" in text and "+48%" in text
    record = json.loads((out / "encode_vs_st.json").read_text())
    assert record["machine"]["date_utc"] in text  # says when the figures were measured
    for heading in ("### Static embeddings vs the transformer", "### LoRA vs full fine-tuning",
                    "### Cached MNR vs plain MNR", "### Hard-negative mining", "### Retrieval evaluation"):
        assert heading in text
    assert "lacks a field" not in text  # every record has what its section reads


def test_the_library_comparisons_agree_with_the_library(tiny_runs):
    """What the timings stand on: the same rows from both miners, the same figures from both evaluators."""
    out, _ = tiny_runs
    miner = json.loads((out / "miner_vs_library.json").read_text())["results"]
    for comparison in ("same_vectors", "end_to_end"):
        for row in miner[comparison]["rows"]:
            assert not row["columns_differ"] and row["rows_ours"] == row["rows_theirs"] > 0
            assert row["differing"] == 0, (comparison, row["settings"])
    retrieval = json.loads((out / "retrieval_vs_library.json").read_text())["results"]
    for comparison in ("same_vectors", "end_to_end"):
        assert len(retrieval[comparison]["figures"]["library"]) == 15
        assert retrieval[comparison]["max_abs_difference"] < 1e-6, comparison


def test_cached_mnr_memory_measures_each_configuration_against_plain(tiny_runs):
    out, _ = tiny_runs
    rows = json.loads((out / "cached_mnr_memory.json").read_text())["results"]["rows"]
    assert {row["mini_batch"] for row in rows} >= {None} and len(rows) >= 2
    for row in rows:
        assert row["peak_growth_bytes"] > 0 and row["step_cpu_seconds"]["median"] > 0
        if row["mini_batch"] is None:
            assert row["memory_vs_plain"] == 1.0


def test_report_shows_the_busy_machine_record_against_the_run_alone(tmp_path):
    """benchmarks/busy_machine.py's record becomes the page's "On a busy machine" table, each run against alone."""
    record = {"notebook": "05_regression_sts.ipynb", "scale": "smoke", "cpus": 2, "measured": "2026-12-06",
              "runs": {"alone": {"wall_s": 50.0, "cpu_s": 80.0}, "loaded, spinning": {"wall_s": 350.0, "cpu_s": 320.0},
                       "loaded, passive": {"wall_s": 90.0, "cpu_s": 80.0}}}
    (tmp_path / "busy_machine.json").write_text(json.dumps(record))
    page = tmp_path / "how_fast.md"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report.py"), "--results", str(tmp_path),
                           "--output", str(page)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    assert "## On a busy machine" in text
    assert "| loaded, spinning | 350 s | 7.00x | 320 s | 4.00x |" in text
    assert "| loaded, passive | 90 s | 1.80x | 80 s | 1.00x |" in text
