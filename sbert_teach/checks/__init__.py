"""Exercise checkers: test a learner's answer on edge cases, give hints, never the answer.

Every exercise in the book ends with a call such as::

    from sbert_teach import checks
    checks.mean_pooling(my_mean_pooling)

A checker runs a handful of cases against the package's tested version and
returns a :class:`CheckResult`. It prints ``✔`` lines for passed cases and, for
failed ones, a *hint* about what is wrong (the case's name and what was
expected in words), never the solution code or the expected tensor.

An unwritten exercise (a function that raises ``NotImplementedError``, which
is what the student copy of the course contains) is reported as "not written
yet" rather than as a crash. Pass ``strict=True`` to raise
:class:`ExerciseNotPassed` instead of returning a failed result.

The checkers live one module per chapter:

================  ============================================================
``chapter01``     tokens and hidden states
``chapter02``     pooling with masks
``chapter03``     cross- vs bi-encoder cost
``chapter04``     softmax head input
``chapter05``     regression (cosine + MSE)
``chapter06``     triplet loss, in-batch negatives
``chapter07``     Spearman evaluation, search
``chapter08``     choosing a loss for a data shape
``chapter09``     SimCSE pairs, Dense layer
``chapter10``     NDCG@k by hand, recall@k from a score matrix (search)
``chapter11``     relative margin, negatives per anchor (hard negatives)
``chapter12``     Matryoshka: cut and re-normalise, choose a width
``chapter13``     static mean with a mask, model under a latency budget
================  ============================================================
"""

from __future__ import annotations

import importlib
import pkgutil

from .core import CheckResult, ExerciseNotPassed, Checker, run_checks

__all__ = ["CheckResult", "ExerciseNotPassed", "Checker", "run_checks", "ALL_CHECKERS"]

#: name -> checker function, collected from the chapter modules.
ALL_CHECKERS: dict = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("chapter"):
        _module = importlib.import_module(f"{__name__}.{_info.name}")
        for _name in getattr(_module, "__all__", []):
            _fn = getattr(_module, _name)
            if _name in ALL_CHECKERS:
                raise RuntimeError(f"Two chapters define a checker named {_name!r}.")
            ALL_CHECKERS[_name] = _fn
            globals()[_name] = _fn
            __all__.append(_name)
