"""Input checks shared by every public entry point.

Each check raises an error that names the problem *and* the fix, before any
tensor is built, so a learner never has to read a traceback from deep inside
torch or the tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence


def check_sentences(sentences, what: str = "sentences") -> list[str]:
    """Return ``sentences`` as a list after checking it holds non-empty strings.

    >>> check_sentences(["a cat", "a dog"])
    ['a cat', 'a dog']
    """
    if isinstance(sentences, str):
        raise TypeError(
            f"{what} must be a list of strings, not a single string. "
            f"Wrap it in a list: [{sentences!r}]."
        )
    if sentences is None or not isinstance(sentences, Sequence):
        raise TypeError(
            f"{what} must be a list of strings, got {type(sentences).__name__}. "
            "Pass a list such as ['A man is eating.', 'A man eats food.']."
        )
    sentences = list(sentences)
    if not sentences:
        raise ValueError(f"{what} is empty. Pass at least one sentence.")
    for i, s in enumerate(sentences):
        if not isinstance(s, str):
            raise TypeError(
                f"{what}[{i}] is {type(s).__name__} ({s!r}), not a string. "
                "Convert it with str() or remove it before encoding."
            )
        if not s.strip():
            raise ValueError(
                f"{what}[{i}] is an empty or whitespace-only string. "
                "Remove it: an empty sentence has no meaning to embed."
            )
    return sentences


def check_same_length(**columns) -> int:
    """Check that all named columns have the same length and return it."""
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{n}={k}" for n, k in lengths.items())
        raise ValueError(
            f"Mismatched lengths: {listed}. Each row needs one entry in every column; "
            "check that the lists were built from the same rows."
        )
    return next(iter(lengths.values()))


def check_labels(labels, num_labels: int, names: Sequence[str] | None = None) -> list[int]:
    """Check integer class labels are in ``0 .. num_labels-1``."""
    out = []
    for i, y in enumerate(labels):
        if isinstance(y, bool) or not isinstance(y, int):
            try:
                as_int = int(y)
            except (TypeError, ValueError):
                as_int = None
            if as_int is None or as_int != y:
                raise TypeError(
                    f"labels[{i}] is {y!r}; labels must be integers 0..{num_labels - 1}"
                    + (f" ({', '.join(names)})" if names else "")
                    + ". Map label names to indices first."
                )
            y = as_int
        if not 0 <= y < num_labels:
            hint = " (-1 marks 'no gold label' in SNLI/MNLI: drop those rows)" if y == -1 else ""
            raise ValueError(
                f"labels[{i}] = {y} is out of range 0..{num_labels - 1}{hint}. "
                "Fix or remove that row."
            )
        out.append(y)
    return out


def check_choice(value: str, choices, what: str) -> str:
    """Check ``value`` is one of ``choices`` and say which ones exist if not."""
    if value not in choices:
        raise ValueError(
            f"Unknown {what} {value!r}. Choose one of: {', '.join(sorted(map(str, choices)))}."
        )
    return value


class TruncationWarning(UserWarning):
    """Some inputs were longer than ``max_length`` tokens and were cut."""


def count_truncated(tokenizer, texts, lengths, max_length: int) -> int:
    """How many of ``texts`` were cut to ``max_length`` tokens.

    ``lengths`` are their tokenised lengths *after* truncation: only texts that
    reached ``max_length`` can have been cut, so only those are tokenised again.
    """
    at_limit = [t for t, n in zip(texts, lengths) if n >= max_length]
    if not at_limit:
        return 0
    full = tokenizer(at_limit, truncation=False, verbose=False)["input_ids"]
    return sum(len(ids) > max_length for ids in full)


def warn_truncated(n: int, total: int, max_length: int, what: str = "texts", stacklevel: int = 3) -> None:
    """Warn once about ``n`` truncated texts; ``stacklevel`` points the warning at the user's call."""
    if n:
        import warnings

        warnings.warn(
            f"{n} of {total} {what} are longer than max_length={max_length} tokens; only their first "
            f"{max_length} tokens were used. Raise max_length (up to the model's limit, 512 for BERT) "
            "or split long texts into passages.",
            TruncationWarning, stacklevel=stacklevel,
        )
