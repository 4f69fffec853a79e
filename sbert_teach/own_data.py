"""Your own data from a file: what ``python -m sbert_teach train --data FILE``, ``mine`` and
``evaluate-retrieval`` read.

A file is CSV (``.csv``), JSON Lines (``.jsonl``, or ``.json`` holding one object per line or a
list of objects) or Parquet (``.parquet``), with one row per example and the columns an objective
reads, in chapter 8's shapes: ``anchor``, ``positive`` (and optionally ``negative``) for MNR;
``sentence1``, ``sentence2`` and ``score`` (0 to 1) for regression; ``sentence1``, ``sentence2``
and an integer ``label`` for softmax; ``sentence`` for distillation (the teacher adds the vectors).
Other columns are ignored. A file without the columns the objective needs is refused with chapter
8's error: the columns it lacks, the columns it has, and what to do.

A retrieval task comes from three files: queries (``id``, ``text``), the corpus (``id``, ``text``)
and the relevant documents (``query_id``, ``corpus_id``, one row per relevant pair), the shape of
BEIR's files and of sentence-transformers' ``InformationRetrievalEvaluator``.

Example:
    >>> import pandas as pd, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"anchor": ["a cat"], "positive": ["a kitten"]}).to_csv(folder / "pairs.csv", index=False)
    >>> read_table(folder / "pairs.csv").column_names
    ['anchor', 'positive']
"""

from __future__ import annotations

from pathlib import Path

from .validation import check_labels

#: The file types read and written, by file name ending.
FORMATS = {".csv": "CSV", ".jsonl": "JSON Lines", ".json": "JSON Lines", ".parquet": "Parquet"}


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path.name}: unknown file type {suffix or '(none)'!r}. Save your data as CSV (.csv), "
                         "JSON Lines (.jsonl) or Parquet (.parquet).")
    return suffix


def _read_frame(path, text_only: bool = False):
    """A ``pandas.DataFrame`` of the file; ``text_only`` reads every column as text (ids such as ``007``)."""
    import pandas as pd

    path = Path(path)
    suffix = _format(path)
    if not path.is_file():
        raise FileNotFoundError(f"No file at {path}. Check the path (it is read from {Path.cwd()}).")
    try:
        if suffix == ".csv":
            # keep_default_na=False: an empty cell stays "" (refused below by name), and a sentence "NA" stays text
            frame = pd.read_csv(path, keep_default_na=False, dtype=str if text_only else None)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            with open(path, encoding="utf-8") as file:
                one_list = file.read(4096).lstrip().startswith("[")  # a .json file holding one list of objects
            frame = pd.read_json(path, lines=not one_list, dtype=False)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except ValueError as error:
        raise ValueError(f"{path.name} could not be read as {FORMATS[suffix]}: {error}. Check the file, or save "
                         "it again from pandas (DataFrame.to_csv, to_json(lines=True, orient='records'), "
                         "to_parquet).") from error
    if text_only:
        frame = frame.astype(str)
    if frame.empty:
        raise ValueError(f"{path.name} has no rows. Give at least one example under a header row of column names.")
    return frame


def read_table(path):
    """The rows of a CSV, JSON Lines or Parquet file as a :class:`datasets.Dataset`, columns as in the file."""
    from datasets import Dataset

    return Dataset.from_pandas(_read_frame(path), preserve_index=False)


def write_table(dataset, path) -> Path:
    """Write ``dataset`` (a :class:`datasets.Dataset`) to ``path``, as its ending says; return the path."""
    path = Path(path)
    suffix = _format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = dataset.to_pandas()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def check_columns(found, needed, source: str, user: str) -> None:
    """Chapter 8's error when the data lacks a column ``user`` (e.g. "the mnr objective") needs."""
    found, needed = list(found), list(needed)
    missing = [c for c in needed if c not in found]
    if missing:
        raise ValueError(f"{source} lacks column(s) {missing} that {user} needs (it reads {needed}); it has "
                         f"{found}. Rename the columns that hold these (the first row of a CSV file), or choose "
                         "the objective that fits your data: chapter 8, and `python -m sbert_teach train --help`.")


def check_text(values, source: str, column: str) -> None:
    """Every entry of a text column is a non-empty string; else name the row (counted from 1, after the header)."""
    for row, value in enumerate(values, start=1):
        if not isinstance(value, str):
            raise TypeError(f"{source}, row {row}, column {column!r}: {value!r} is not text. Put text in the "
                            f"{column!r} column, or remove the row.")
        if not value.strip():
            raise ValueError(f"{source}, row {row}, column {column!r} is empty. Fill it in, or remove the row: an "
                             "empty text has no meaning to learn from.")


def training_dataset(table, objective, source: str, name: str, label_given: bool = False):
    """``table``'s columns that ``objective`` reads, checked: text columns hold non-empty text, labels fit.

    ``name`` is the objective's registry name (for the messages); ``label_given``: the label column is
    added afterwards (a teacher's vectors), so the file need not have it.
    """
    needed = [*objective.text_columns, *([] if label_given or not objective.label_column else
                                          [objective.label_column])]
    check_columns(table.column_names, needed, source, f"the {name} objective")
    for column in objective.text_columns:
        check_text(list(table[column]), source, column)
    label = objective.label_column
    if label and not label_given:
        values = list(table[label])
        num_labels = getattr(objective, "num_labels", None)
        if num_labels:  # classes, e.g. softmax's 0, 1, 2
            check_labels(values, num_labels)
        elif not objective.label_dtype.is_floating_point:  # classes without a fixed number (batch_hard)
            bad = [(i, v) for i, v in enumerate(values, start=1) if isinstance(v, bool) or not isinstance(v, int)]
            if bad:
                row, v = bad[0]
                raise TypeError(f"{source}, row {row}, column {label!r}: {v!r} is not a whole number. Number the "
                                f"classes 0, 1, 2, ... ({len(bad)} such rows), e.g. with pandas' factorize.")
        elif objective.label_dtype.is_floating_point and values and not isinstance(values[0], list):
            bad = [(i, v) for i, v in enumerate(values)
                   if isinstance(v, str) or v is None or not -1.0 <= float(v) <= 1.0]
            if bad:
                i, v = bad[0]
                raise ValueError(f"{source}, column {label!r}, row {i}: {v!r} is not a similarity between -1 and "
                                 f"1 ({len(bad)} such rows). Scores are compared with cosine similarities: divide "
                                 "0-5 ratings by 5.")
    return table.select_columns(needed)


def add_teacher_vectors(dataset, objective, teacher, batch_size: int = 64):
    """``dataset`` with the label column of a distillation ``objective``: ``teacher``'s vector of each row's
    first text column, after checking that the student (``objective.encoder``) has the teacher's width."""
    from .objectives.distillation import check_same_width

    column = objective.text_columns[0]
    check_same_width(objective.encoder.embedding_dim, teacher.encode(list(dataset[column][:1])).shape[1])
    vectors = teacher.encode(list(dataset[column]), batch_size=batch_size)
    return dataset.add_column(objective.label_column, vectors.tolist())


def read_retrieval_task(queries, corpus, relevant, name: str | None = None):
    """A :class:`~sbert_teach.retrieval.RetrievalTask` from three files (see the module docstring), checked:
    every id once, every query with a relevant document that is in the corpus."""
    from .retrieval import RetrievalTask

    texts = {}
    for role, path in (("queries", queries), ("corpus", corpus)):
        frame = _read_frame(path, text_only=True)
        check_columns(frame.columns, ["id", "text"], Path(path).name, f"the {role} file")
        seen = frame["id"].duplicated(keep=False)
        if seen.any():
            twice = sorted(set(frame["id"][seen]))
            raise ValueError(f"{Path(path).name}: id(s) {twice[:5]} appear more than once ({int(seen.sum())} rows). "
                             "Give every entry its own id, or remove the repeated rows.")
        texts[role] = dict(zip(frame["id"], frame["text"]))
    pairs = _read_frame(relevant, text_only=True)
    check_columns(pairs.columns, ["query_id", "corpus_id"], Path(relevant).name, "the relevance file")
    wanted = {}
    for qid, cid in zip(pairs["query_id"], pairs["corpus_id"]):
        wanted.setdefault(qid, set()).add(cid)
    return RetrievalTask(texts["queries"], texts["corpus"], wanted, name=name or Path(queries).stem)
