"""sbert_teach: the working code behind the *sbert-teach* book.

Where things live (one job per module):

====================  ==========================================================
``resources``         hub vs packaged models/data, scales, ``fetch_resources``
``data``              NLI, STS, triplets, collators with dynamic padding
``pooling``           CLS / mean / max pooling with masks
``encoder``           :class:`SentenceEncoder` and its smart-batching ``encode``
``models``            ``get_model("reference" | "untuned" | path)``
``objectives``        softmax, regression, triplet, MNR, batch-hard, cached MNR, Matryoshka, MSE distillation
``training``          **the training loop**: :func:`train` (checkpoints, resume, torchrun)
``checkpoint``        atomic checkpoints: weights, optimizer, data position, RNG
``distributed``       ``torchrun`` / DistributedDataParallel helpers
``speed``             padding-free and length-sorted passes used by ``train``
``evaluation``        STS Spearman, similarity matrix, semantic search
``retrieval``         retrieval tasks built from NLI, recall / MRR / NDCG, ``evaluate_retrieval``
``mining``            hard-negative mining with false-negative filters and a report
``lora``              LoRA adapters through peft: add, count, merge, save, load
``static``            static embeddings: a word-piece table and a mean (``StaticEncoder``)
``persistence``       save/load in the sentence-transformers format
``recipes``           one-call runs used by the CLI and the chapters (cached); each recipe declared once in
                      ``recipe_registry`` (objective, data, chapter, settings)
``unsupervised``      SimCSE-style training data from plain sentences
``cost``              timing a cross-encoder against a bi-encoder (chapter 3)
``book``              what every chapter calls first: scale, resources, seed
``shipped_records``   the measurements shipped in ``records/`` (seed spread, precision shift), as tables
``own_data``          your own training and retrieval files (CSV, JSON Lines, Parquet), read and checked
``checks``            exercise checkers, one module per chapter
``course``            student / instructor notebooks, slides, zips
====================  ==========================================================
"""

import os as _os

# Idle OpenMP threads sleep instead of spinning while they wait: on a busy machine, spinning threads burned
# 2-3x the CPU for the same work (benchmarks/busy_machine.py). OpenMP reads this once, when torch loads it,
# so it helps where sbert_teach is imported before torch (the CLI, scripts); `make` sets it for every kernel.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

from .data import NLI_LABELS, TextColumnsCollator, load_nli, load_sts, nli_triplets, pairs_dataset
from .encoder import SentenceEncoder
from .evaluation import cosine_similarity_matrix, evaluate_sts, nli_accuracy, search, semantic_search, similarity_matrix
from .mining import mine_hard_negatives
from .models import build_untuned_encoder, get_model
from .objectives import OBJECTIVES, make_objective
from .persistence import load_encoder, save_encoder
from .pooling import cls_pooling, max_pooling, mean_pooling, pool
from .resources import fetch_resources, get_profile, get_scale
from .retrieval import RetrievalTask, evaluate_retrieval, nli_retrieval_task
from .static import StaticEncoder
from .training import TrainConfig, TrainResult, train

__all__ = [
    "NLI_LABELS", "TextColumnsCollator", "load_nli", "load_sts", "nli_triplets", "pairs_dataset",
    "SentenceEncoder", "cosine_similarity_matrix", "evaluate_sts", "nli_accuracy", "search", "semantic_search",
    "similarity_matrix", "build_untuned_encoder", "get_model", "OBJECTIVES", "make_objective", "load_encoder",
    "save_encoder", "cls_pooling", "max_pooling", "mean_pooling", "pool", "fetch_resources", "get_profile",
    "get_scale", "TrainConfig", "TrainResult", "train", "mine_hard_negatives", "RetrievalTask", "evaluate_retrieval",
    "nli_retrieval_task", "StaticEncoder",
]
