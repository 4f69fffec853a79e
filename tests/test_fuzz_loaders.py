"""Random malformed records through the data loaders: each is loaded correctly or dropped and counted.

Nothing passes through silently: for every generated input, ``read == kept + dropped``, every kept
row is exactly what its record says (by an independent reading of the record), and every dropped
row has a reason.
"""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sbert_teach.data import NLI_LABELS, nli_from_records, sts_from_rows

text = st.one_of(st.text(max_size=12), st.sampled_from(["A dog runs.", "  ", "", "\t\n", "Two men  "]))
junk = st.one_of(st.none(), st.integers(-3, 5), st.floats(allow_nan=True), st.booleans(), st.lists(st.integers(), max_size=2),
                 st.binary(max_size=4), text)
label = st.one_of(st.sampled_from([*NLI_LABELS, "-", "ENTAILMENT", " neutral ", "maybe", "", -1, 0, 1, 2, 3, True]), junk)
record = st.one_of(
    st.fixed_dictionaries({}, optional={"sentence1": st.one_of(text, junk), "sentence2": st.one_of(text, junk),
                                        "premise": st.one_of(text, junk), "hypothesis": st.one_of(text, junk),
                                        "gold_label": label, "label": label}),
    junk,  # not a record at all
)


def _expected_nli(rec, names):
    """Independent reading of one record: the row it should give, or None if it must be dropped."""
    if not isinstance(rec, dict):
        return None
    s1 = rec.get("sentence1", rec.get("premise"))
    s2 = rec.get("sentence2", rec.get("hypothesis"))
    raw = rec.get("gold_label", rec.get("label"))
    if not (isinstance(s1, str) and s1.strip() and isinstance(s2, str) and s2.strip()):
        return None
    if isinstance(raw, str):
        name = raw.strip().lower()
    elif type(raw) is int and names and 0 <= raw < len(names):
        name = names[raw]
    else:
        return None
    if name not in NLI_LABELS:
        return None
    return (s1.strip(), s2.strip(), NLI_LABELS.index(name))


@settings(max_examples=200, deadline=None)
@given(st.lists(record, max_size=25), st.sampled_from([None, ["entailment", "neutral", "contradiction"],
                                                        ["contradiction", "neutral", "entailment"]]))
def test_nli_loader_loads_or_counts_every_record(records, names):
    ds, report = nli_from_records(records, "fuzz", label_names=names)
    expected = [row for row in (_expected_nli(r, names) for r in records) if row is not None]
    assert report.read == len(records)
    assert report.kept == len(ds) == len(expected)
    assert report.kept + sum(report.dropped.values()) == report.read
    assert all(reason for reason in report.dropped)
    assert list(zip(ds["sentence1"], ds["sentence2"], ds["label"])) == expected


score = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 7), st.sampled_from(["3.2", "x", "", "nan"]),
                  st.none())
row = st.one_of(st.tuples(st.one_of(text, junk), st.one_of(text, junk), score), st.tuples(text, text), junk,
                st.lists(text, min_size=4, max_size=4))


def _expected_sts(r):
    try:
        s1, s2, raw = r
        value = float(raw)
    except (TypeError, ValueError):
        return None
    if not (isinstance(s1, str) and s1.strip() and isinstance(s2, str) and s2.strip()):
        return None
    if math.isnan(value) or not 0.0 <= value <= 5.0:
        return None
    return (s1.strip(), s2.strip(), value / 5.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(row, max_size=25))
def test_sts_loader_loads_or_counts_every_row(rows):
    ds, report = sts_from_rows(rows, "fuzz")
    expected = [r for r in (_expected_sts(x) for x in rows) if r is not None]
    assert report.read == len(rows)
    assert report.kept == len(ds) == len(expected)
    assert report.kept + sum(report.dropped.values()) == report.read
    kept = list(zip(ds["sentence1"], ds["sentence2"], ds["score"]))
    assert [(a, b) for a, b, _ in kept] == [(a, b) for a, b, _ in expected]
    assert all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-7) for (_, _, x), (_, _, y) in zip(kept, expected))
