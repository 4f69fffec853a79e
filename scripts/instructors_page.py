"""Write book/instructors.md, the "For instructors" page, from the notebooks and the measured records.

Nothing on the page is typed by hand: the exercise table is read from the chapters (each
`### Exercise N.k` heading, the checker its check cell calls, and that checker's docstring), and
the chapter times come from the records the builds leave behind:
  book/data/chapter_times_local.json   written by `make book` (scripts/execution_report.py)
  book/data/chapter_times_smoke.json   written by the nbval run of `make test` (conftest.py)
  book/data/chapter_times_gpu.json     written by scripts/time_chapters.py on a GPU machine
Usage: python scripts/instructors_page.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bert_base import PEAK_BF16_TFLOPS  # noqa: E402

T4_PEAK_TFLOPS = PEAK_BF16_TFLOPS["T4"]  # a T4 has no bf16: its fp16 tensor-core peak
DATA = ROOT / "book" / "data"


def chapter_title(nb: dict) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "?"


def exercises(nb: dict) -> list[tuple[str, str]]:
    """(exercise heading, checker name) for each exercise of a chapter."""
    from sbert_teach.course import is_solution

    found, cells = [], nb["cells"]
    for i, cell in enumerate(cells):
        if not is_solution(cell):
            continue
        heading = "?"
        for earlier in reversed(cells[:i]):
            m = re.search(r"^###\s*(Exercise[^\n]*)", "".join(earlier["source"]), re.M)
            if earlier["cell_type"] == "markdown" and m:
                heading = m.group(1).strip()
                break
        checker = "?"
        for later in cells[i + 1:]:
            m = re.search(r"checks\.(\w+)\(", "".join(later["source"]))
            if later["cell_type"] == "code" and m:
                checker = m.group(1)
                break
        found.append((heading, checker))
    return found


def first_line(doc: str | None) -> str:
    """The docstring's first paragraph on one line."""
    paragraph = (doc or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines()).rstrip(".")


def load_times(name: str) -> tuple[dict, str]:
    path = DATA / name
    if not path.exists():
        return {}, ""
    record = json.loads(path.read_text())
    return record.get("chapters", {}), record.get("measured", "")


CHAPTER_TIMES_RECORD = ROOT / "sbert_teach" / "records" / "chapter_times.json"


def chapter_times_record(data: Path = DATA) -> dict:
    """The measured chapter times by (scale, device), shipped with the package for each chapter's setup line."""
    measurements = []
    for name, scale, device, where in (("chapter_times_local.json", "local", "cpu", "a 2-core CPU"),
                                       ("chapter_times_smoke.json", "smoke", "cpu", "a 2-core CPU"),
                                       ("chapter_times_gpu.json", "local", "cuda", None)):
        path = data / name
        if not path.exists():
            continue
        record = json.loads(path.read_text())
        measurements.append({
            "scale": record.get("scale", scale), "profile": "packaged",  # every build runs the offline resources
            "device": device, "on": where or record.get("device", "a GPU"),
            "measured": record.get("measured", ""),
            "seconds": {ch[:2]: round(v["seconds"], 1) for ch, v in sorted(record.get("chapters", {}).items())},
        })
    colab = data / "chapter_times_colab.json"  # scripts/colab_check.py on a GPU: what Colab's T4 gets
    if colab.exists() and "t4_estimate" in (record := json.loads(colab.read_text())):
        measurements.append({
            "scale": record["scale"], "profile": record["profile"], "device": "cuda", "on": "a T4",
            "estimated_from": record["device"], "measured": record["measured"],
            "seconds": {ch[:2]: v["seconds"] for ch, v in sorted(record["t4_estimate"]["chapters"].items())},
        })
    counted = data / "chapter_times_colab_estimate.json"  # scripts/colab_estimate.py: the work, counted on a CPU
    if counted.exists():  # after the GPU record: a chapter measured there keeps its measured time
        record = json.loads(counted.read_text())
        measurements.append({
            "scale": "colab", "profile": "hub", "device": "cuda", "on": "a T4", "estimate": record["how"],
            "counted": record["counted"],
            "seconds": {ch[:2]: v["h100_seconds"] for ch, v in sorted(record["chapters"].items())},
            "ceiling_seconds": {ch[:2]: v["t4_ceiling_seconds"] for ch, v in sorted(record["chapters"].items())},
        })
    return {"how": "scripts/instructors_page.py, from book/data/chapter_times_*.json", "measurements": measurements}


def seed_spread_section() -> list[str]:
    """Students' numbers will not match the printed ones: how far apart, from the seed_spread record."""
    from sbert_teach import shipped_records

    rec = shipped_records.record("seed_spread")
    table = shipped_records.seed_spread(rec)
    lines = [
        "## How far students' numbers will be from the book's",
        "",
        "A student's run differs from the printed one in the seed (their own, or the same seed on other",
        "hardware) and, on a GPU, in mixed precision. Change in STSb dev Spearman at the local scale,",
        f"from `scripts/seed_spread.py` on an {rec['device']} (each seed also draws the untuned start):",
        "",
        "| objective | precision | runs (seeds) | lowest | median | highest | rose in |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in table.itertuples():
        lines.append(f"| {row.objective} | {row.precision} | {row.runs} ({row.seeds}) | {row.lowest:+.3f} | "
                     f"{row.median:+.3f} | {row.highest:+.3f} | {row.rose} of {row.runs} |")
    lines += [
        "",
        "Regression and in-batch negatives (MNR) gain a lot for every seed; softmax's gain at 500 steps is",
        "within the seed's noise (chapter 4 says so and shows this table), and the triplet objective's",
        "varies several-fold. A class that compares objectives can pool the students' runs: each student",
        "is one seed. The fp16 row is the mode a Colab T4 uses (it has no bf16).",
        "",
    ]
    return lines


def colab_section(data: Path = DATA) -> list[str]:
    """The colab scale on a GPU: measured (scripts/colab_check.py) or, until then, estimated from counted work."""
    lines = ["## On Colab: the colab scale", ""]
    path = data / "chapter_times_colab.json"
    if not path.exists():
        bench = json.loads((ROOT / "benchmarks" / "results" / "bert_base_cuda.json").read_text())
        gpu, settings = bench["machine"]["gpu"], bench["settings"]
        steps_per_s = bench["results"]["pairs_per_second"]["median"] / settings["batch_size"]
        t4 = steps_per_s * T4_PEAK_TFLOPS / settings["peak_bf16_tflops"]
        mfu = bench["results"]["mfu"]["median"]
        return lines + [
            "No chapter has been timed on a T4 yet. On Colab with a GPU the chapters run at the `colab` scale with",
            "the hub's models and data (bert-base-uncased, SNLI and MultiNLI, STSb, all-MiniLM-L6-v2).",
            "(For maintainers: `scripts/colab_check.py` times that path on a GPU machine and fills this section.)",
            "",
            f"The scale was sized so that chapter 4's 1,000 softmax steps take at most about {1000 / t4 / 60:.0f} min "
            f"on a T4: an {gpu}",
            f"trains bert-base with the softmax objective at {steps_per_s:.1f} steps of batch {settings['batch_size']} "
            "a second (`benchmarks/bert_base.py`),",
            f"and at a T4's share of the peak FLOP/s ({T4_PEAK_TFLOPS:g} against {settings['peak_bf16_tflops']:g} "
            f"TFLOP/s) that is {t4:.1f} steps a second. At batch",
            f"{settings['batch_size']} that GPU used {mfu:.1%} of its peak, most likely waiting on Python and kernel "
            "launches rather than",
            "on arithmetic, so a T4 should lose much less than the ratio of peaks. Counted in full (below),",
            "chapter 4 does more than those 1,000 steps.",
            "",
            *counted_work_section(data),
        ]
    record = json.loads(path.read_text())
    runs = record["runs"]
    estimate = record.get("t4_estimate", {}).get("chapters", {})
    heads = [f"{p} autocast" for p in runs] + (["T4 (estimate)"] if estimate else [])
    lines += [f"Measured {record['measured']} (`scripts/colab_check.py`; each chapter in a fresh process with an",
              "empty cache, as on Colab, so chapter 7 trains what it lacks):", "",
              "| Chapter | " + " | ".join(heads) + " |", "| --- |" + " --- |" * len(heads)]
    names = sorted({n for r in runs.values() for n in r["chapters"]})
    fmt = lambda x: f"{x / 60:.1f} min" if x is not None else "failed"  # noqa: E731
    for name in names:
        cells = [fmt(r["chapters"].get(name, {}).get("seconds")) for r in runs.values()]
        cells += [fmt(estimate.get(name, {}).get("seconds"))] if estimate else []
        lines.append(f"| {name[:2]} | " + " | ".join(cells) + " |")
    if estimate:
        lines += ["", f"The T4 column is {record['t4_estimate']['how']}."]
    return lines + [""]


def counted_work_section(data: Path = DATA) -> list[str]:
    """scripts/colab_estimate.py's record: each chapter run at the colab scale on a CPU, its work counted."""
    path = data / "chapter_times_colab_estimate.json"
    if not path.exists():
        return []
    record = json.loads(path.read_text())
    rates, factor = record["rates"], record["t4_factor"]
    chapters = sorted(record["chapters"].items())
    low, high = (sum(c[key] for _, c in chapters) / 60 for key in ("h100_seconds", "t4_ceiling_seconds"))
    real = [name[:2] for name, c in chapters if c["reference"] == "real"]
    lines = [
        "### Estimated from each chapter's counted work",
        "",
        f"On {record['counted'].split()[0]} `scripts/colab_estimate.py` ran every chapter to the end at the "
        "`colab` scale under the hub profile,",
        f"{record['counted'].split(' ', 1)[1]}. To fit a CPU the",
        "models were random and narrow (bert-base 32 wide, the reference 64 wide with its six layers)"
        + (f", except in chapter {', '.join(real)}, which mines negatives with a margin that a random model's "
           "scores all fall within and so ran with the real reference" if real else "") + ";",
        "their scores mean nothing. It counted the sentences each chapter passes through a BERT model, with",
        "gradients (trained) and without (encoded), and priced them one by one at the rates an H100 measured for",
        f"the real models at the benchmarks' batch sizes ({rates['measured']}): all-MiniLM-L6-v2 trains about",
        f"{rates['minilm']['trained']:,.0f} sentences a second with MNR and encodes about "
        f"{rates['minilm']['encoded']:,.0f}; a cut-down student at the same",
        f"rate per layer (a rough scaling); bert-base trains about {rates['bert-base']['trained']:,.0f} with "
        "softmax, and its encode rate, not",
        f"benchmarked, is a guess (about {rates['bert-base']['encoded']:,.0f}: MiniLM's, scaled by the ratio of "
        "their softmax training rates).",
        "",
        "A T4 is no faster than that H100, so the first column is the low end. The second prices the same work",
        f"at 1/{factor:.1f} of those rates, a T4's share of peak FLOP/s: a pessimistic estimate, not a bound (it",
        "assumes the T4 reaches at least the small share of its peak that the H100 reached). Until a T4 run",
        "narrows it, budget the high end and expect well under it. Colab's GPU may also not be a T4.",
        "Only the model passes are counted: each chapter starts in a fresh runtime, so installing the package,",
        "loading, and downloading models and data come on top every time (not timed). Chapter 7 retrains the",
        "models of chapters 4 to 6 because a fresh runtime has none of them saved.",
        "",
        "| Chapter | at an H100's rates (low end) | at a T4's share of peak FLOP/s (high end) |",
        "| --- | --- | --- |",
    ]
    for name, chapter in chapters:
        lines.append(f"| {name[:2]} | {chapter['h100_seconds'] / 60:.1f} min | {chapter['t4_ceiling_seconds'] / 60:.1f} min |")
    lines += [f"| **all chapters** | **{low:.0f} min** | **{high:.0f} min** |", "",
              "The sentences behind each row, per model and depth, are in `book/data/chapter_times_colab_estimate.json`.",
              ""]
    return lines


def main() -> None:
    from sbert_teach import checks

    local, local_when = load_times("chapter_times_local.json")
    smoke, smoke_when = load_times("chapter_times_smoke.json")
    gpu, gpu_when = load_times("chapter_times_gpu.json")
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    lines = [
        "# For instructors",
        "",
        "<!-- Generated by scripts/instructors_page.py from the notebooks and book/data/*.json. Do not edit. -->",
        "",
        "## Build the course",
        "",
        "```bash",
        "python -m sbert_teach.course build course/",
        "```",
        "",
        "writes `course/student/` (each solution replaced by a stub that says what to write; no outputs,",
        "so no answer hides in them), `course/instructor/` (the chapters as they are), `course/slides/`",
        "(one reveal.js deck per chapter, which opens offline) and a zip for each audience. Solutions are",
        "marked in one way only: a code cell tagged `solution`. They run in CI like every other cell, and",
        "`tests/test_course.py` checks that the student copies contain none of their code, that every",
        "checker reports \"not written yet\" on the stubs, and that it passes once the solution is pasted back.",
        "",
        "Students check an answer by running the cell under it, e.g. `checks.mean_pooling(mean_pooling)`.",
        "A checker tests edge cases and prints a hint for each failed case, never the expected values.",
        "",
        "## How long each chapter takes",
        "",
        "Wall time to execute each chapter, as measured: the builds on a 2-core CPU without a GPU, and",
        "the local scale once more on a GPU:",
        "",
        "| Chapter | local scale, CPU (`make book`) | smoke scale, CPU (CI, nbval) | local scale, GPU |",
        "| --- | --- | --- | --- |",
    ]
    total_local = total_smoke = total_gpu = 0.0
    for path in notebooks:
        nb = json.loads(path.read_text())
        lt, st = local.get(path.name, {}).get("seconds"), smoke.get(path.name, {}).get("seconds")
        gt = gpu.get(path.name, {}).get("seconds")
        total_local += lt or 0
        total_smoke += st or 0
        total_gpu += gt or 0
        fmt = lambda x: f"{x / 60:.1f} min" if x is not None else "not measured yet"  # noqa: E731
        lines.append(f"| {path.stem[:2]}. {chapter_title(nb)} | {fmt(lt)} | {fmt(st)} | {fmt(gt)} |")
    lines.append(f"| **all chapters** | **{total_local / 60:.1f} min** | **{total_smoke / 60:.1f} min** "
                 f"| **{total_gpu / 60:.1f} min** |")
    lines += [
        "",
        f"Local scale measured {local_when or 'never'}; smoke scale measured {smoke_when or 'never'}. "
        "Chapters 4 to 6 train; chapter 7 reuses their models when they ran first.",
        "",
        f"GPU column: {gpu_when or 'never'}, without Jupyter (`scripts/time_chapters.py` runs each chapter's",
        "code cells in a fresh IPython shell). That was a data-centre GPU, not Colab's: we could not reach",
        "Colab from our machines, and its free T4 has a small fraction of an H100's compute, so expect",
        "Colab to land between the GPU and CPU columns, with the first run also downloading models and data.",
        "The `paper` scale trains one epoch over about a million NLI pairs per objective, which takes hours",
        "on a T4; for a class, set `SBERT_TEACH_SCALE=local` in the first cell to run each chapter in minutes.",
        "",
        *colab_section(),
        *seed_spread_section(),
        "## What each exercise checks",
        "",
        "| Chapter | Exercise | Checker | What it checks |",
        "| --- | --- | --- | --- |",
    ]
    for path in notebooks:
        nb = json.loads(path.read_text())
        for heading, checker in exercises(nb):
            doc = first_line(getattr(checks.ALL_CHECKERS.get(checker), "__doc__", ""))
            doc = re.sub(r"^Exercise [\d.]+:\s*", "", doc).replace("|", "\\|")
            lines.append(f"| {path.stem[:2]} | {heading} | `checks.{checker}` | {doc} |")
    (ROOT / "book" / "instructors.md").write_text("\n".join(lines) + "\n")
    CHAPTER_TIMES_RECORD.write_text(json.dumps(chapter_times_record(), indent=1) + "\n")
    print(f"wrote book/instructors.md ({len(notebooks)} chapters)")


if __name__ == "__main__":
    main()
