"""What chapter 1's prose says about its run, checked against every executed copy (smoke, local, hub).

The prose reads the untuned column of the layer table per start (packaged: random layers; Colab: bert-base), so
only what holds for any start is stated flatly and checked here; the norms are checked where the setup line says
the layers are freshly initialised, the one case the prose states them for.
"""

import re

STEM = "01_bert_token_outputs"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)


def test_hidden_states_hold_one_entry_more_than_the_layers(printed):
    layers, width = map(int, re.search(r"with (\d+) layers, (\d+) numbers per token", printed).groups())
    count, shape = re.search(r"hidden_states: (\d+) tensors of shape \((\d+), (\d+), (\d+)\)", printed).group(1, 4)
    assert int(count) == layers + 1
    assert int(shape) == width


def test_padding_leaves_the_real_tokens_alone(printed):
    assert "real tokens identical alone and in the batch: True" in printed


def test_freshly_initialised_layers_give_every_vector_the_length_root_d(printed):
    root_d = float(re.search(r"square root of the width d = \d+: ([0-9.]+)", printed).group(1))
    real = [float(x) for x in re.search(r"norms of the real tokens:\s+([0-9. ]+)\n", printed).group(1).split()]
    padding = [float(x) for x in re.search(r"norms of the padding vectors:\s+([0-9. ]+)\n", printed).group(1).split()]
    assert real and padding
    if "randomly initialised transformer layers" in printed:  # the packaged start, the case the prose states
        assert all(abs(norm - root_d) <= 0.1 for norm in real + padding)


def test_the_reference_is_best_at_its_last_layer_and_well_above_every_untuned_layer(printed):
    untuned_best = float(re.search(r"untuned start: last layer [0-9.-]+, layers from [0-9.-]+ to ([0-9.-]+)",
                                   printed).group(1))
    last, best = re.search(r"reference SBERT: last layer ([0-9.-]+), best layer (\d+)", printed).groups()
    # the reference's last layer: the last row of the table with a number (not NaN) in its column
    rows = re.findall(r"^(\d+)\s+[0-9.-]+\s+[0-9.]+\s*$", printed, re.M)
    assert int(best) == max(int(layer) for layer in rows)
    assert float(last) >= untuned_best + 0.1


def test_the_subset_is_said_for_what_it_is(printed):
    pairs = int(re.search(r"STSb dev pairs: (\d+)", printed).group(1))
    load = re.search(r"stsb-dev.*read (\d+), kept (\d+).*", printed)
    kept = int(load.group(2))
    assert pairs == kept or f"drew {pairs} of the {kept} kept, across the whole file" in printed


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2
