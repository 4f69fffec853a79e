"""What chapter 3's prose says about its run, checked against every executed copy of the chapter.

Timings wander on a shared machine, so the prose reads the measured costs, ratios and slopes from the printed
tables without saying which way a close call goes; the claims below are the ones it states flatly.
"""

import re

STEM = "03_cross_vs_bi_encoder"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)


def test_the_cross_encoder_adds_only_a_one_output_head(printed):
    match = re.search(r"its head\):\s*([\d,]+); width of the encoder's output:\s*(\d+)", printed)
    assert match, "no line with the head's weights in the outputs"
    assert int(match.group(1).replace(",", "")) == int(match.group(2)) + 1  # a weight per output number, a bias


def test_ten_thousand_sentences_make_49995000_pairs(printed):
    assert re.search(r"10000\s+49,995,000\s+10,000", printed)


def test_a_pair_has_about_twice_the_tokens_of_a_sentence(printed):
    match = re.search(r"tokens per input: pair ([0-9.]+), sentence ([0-9.]+), pair/sentence ([0-9.]+)", printed)
    assert match and 1.6 <= float(match.group(3)) <= 2.2


def test_the_paper_figures_give_a_pair_the_cost_of_about_nine_sentences(printed):
    match = re.search(r"paper, V100: ([\d,]+) pairs/s, ([\d,]+) sentences/s, pair/sentence ([0-9.]+)", printed)
    assert match and match.group(1) == "214" and match.group(2) == "2,000" and 9 < float(match.group(3)) < 10


def test_reading_every_pair_costs_thousands_of_times_more(printed):
    match = re.search(r"speed factor at n = 10,000: measured ([\d,]+);", printed)
    assert match and int(match.group(1).replace(",", "")) >= 1000


def test_the_cross_encoder_slope_is_the_steeper(printed):
    table = printed.split("log-log slope of the measurements")[1].split("\n\n")[0]  # the slope column's rows
    slope = {name: float(value) for name, value in re.findall(r"^(cross-encoder|bi-encoder)\s+([0-9.]+)\s*$",
                                                                table, re.M)}
    assert set(slope) == {"cross-encoder", "bi-encoder"} and slope["cross-encoder"] > slope["bi-encoder"]


def test_even_the_exact_pair_count_has_a_slope_a_little_above_2(printed):
    match = re.search(r"slope of the exact pair counts n\(n-1\)/2 over these sizes: ([0-9.]+)", printed)
    assert match and 2 < float(match.group(1)) < 2.2


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 3
