"""Knowledge distillation with MSE: a student learns to output a teacher's vectors.

A trained teacher embeds the sentences once, ahead of training; the student is trained so that
its vector for each sentence equals the teacher's, by mean squared error over every number.
The paper uses it to make a model multilingual: the teacher embeds an English sentence, and the
student learns to give that vector both to the English sentence and to its translation (pass
``text_columns=("english", "translation")``; both columns are matched to the one teacher
vector of the row, as in sentence-transformers' ``MSELoss``). It also shrinks a model: a small
student learns a large teacher's space.

Student and teacher vectors must have the same width. If they do not, give the student a Dense
layer to the teacher's width (``SentenceEncoder(..., dense_dim=teacher_width)``), or bring the
teacher's vectors down to the student's width first (e.g. with PCA, as the paper does for
smaller students).

Reference: Reimers & Gurevych (2020), *Making Monolingual Sentence Embeddings Multilingual using
Knowledge Distillation*, EMNLP, arXiv:2004.09813.

Inputs: ``(sentence)`` and a ``teacher_embedding`` label column: one float vector per row.

Example:
    >>> import torch
    >>> student = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    >>> teacher = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> mse_loss_from_embeddings(student, teacher)   # (0 + 4 + 0 + 4) / 4
    tensor(2.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Objective, computed_in_float32, require_labels


def check_same_width(student_width: int, teacher_width: int) -> None:
    """Refuse a student and a teacher of different widths before any training, naming the fixes."""
    if student_width != teacher_width:
        raise ValueError(f"The student's vectors have {student_width} dimensions but the teacher's have "
                         f"{teacher_width}: MSE needs the same width. Give the student a projection to the "
                         f"teacher's width (SentenceEncoder(..., dense_dim={teacher_width})), or reduce the "
                         f"teacher's vectors to {student_width} dimensions (e.g. PCA) before training.")


@computed_in_float32
def mse_loss_from_embeddings(student, teacher):
    """Mean of ``(student - teacher) ** 2`` over every row and dimension."""
    if teacher.dim() != 2 or student.dim() != 2:
        raise ValueError(f"Expected one vector per row on both sides, got student {tuple(student.shape)} and "
                         f"teacher {tuple(teacher.shape)}.")
    check_same_width(student.shape[1], teacher.shape[1])
    if teacher.shape[0] != student.shape[0]:
        raise ValueError(f"Expected {student.shape[0]} teacher vectors, one per sentence, got {teacher.shape[0]}.")
    return F.mse_loss(student, teacher.to(student.dtype))


class DistillationMSEObjective(Objective):
    """The student's vector for each text column against the row's teacher vector, by MSE."""

    text_columns = ("sentence",)
    label_column = "teacher_embedding"
    label_dtype = torch.float32

    def __init__(self, encoder, text_columns=("sentence",)):
        super().__init__(encoder)
        self.text_columns = tuple(text_columns)
        if not self.text_columns:
            raise ValueError("Give at least one text column for the student to embed, e.g. text_columns=('sentence',).")

    def loss_from_embeddings(self, embeddings, labels):
        teacher = require_labels(labels, "distillation (MSE)")
        # Every column is matched to the same teacher vector: one MSE over all of them, as sentence-transformers does
        return mse_loss_from_embeddings(torch.cat(list(embeddings)), torch.cat([teacher] * len(embeddings)))
