# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Per-example losses shared by the distillation and LiT models.

* `kl_distillation`: knowledge distillation as in big_vision's
  `evaluators/proj/distill/distance.py::dist(kind='kl')` (used by "Knowledge
  distillation: A good teacher is patient and consistent", Beyer et al. 2022,
  arXiv 2106.05237): T² · KL(softmax(teacher / T) ‖ softmax(student / T)). The
  T² factor (Hinton et al. 2015) keeps gradient magnitudes comparable across
  temperatures; at the recipe's T = 1 it is the plain KL.
* `contrastive_loss`: the symmetric softmax (InfoNCE) loss of CLIP / LiT
  (big_vision `trainers/proj/image_text/contrastive.py`): the mean of the
  image→text (rows) and text→image (columns) cross-entropies whose targets are
  the diagonal of the [B, B] similarity matrix.

Shapes: B batch, K classes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

JTensor = jax.Array

# Added to the logits of excluded (weight 0) batch entries so they are never
# chosen as negatives; finite, so fully excluded rows stay NaN-free.
_EXCLUDED_LOGIT = -1e9


def kl_distillation(teacher_logits: JTensor, student_logits: JTensor,
                    temperature: float = 1.0) -> JTensor:
  """Per-example T² · KL(softmax(teacher / T) ‖ softmax(student / T)).

  Args:
    teacher_logits: [B, K] teacher logits (treated as constants by callers).
    student_logits: [B, K] student logits.
    temperature: softmax temperature T > 0.

  Returns:
    [B] float32 KL divergences (>= 0).
  """
  if temperature <= 0:
    raise ValueError(f'temperature must be > 0, got {temperature}.')
  if teacher_logits.shape != student_logits.shape:
    raise ValueError(
        f'teacher logits {teacher_logits.shape} and student logits '
        f'{student_logits.shape} must have the same shape [B, K].')
  log_p = jax.nn.log_softmax(
      teacher_logits.astype(jnp.float32) / temperature, axis=-1)
  log_q = jax.nn.log_softmax(
      student_logits.astype(jnp.float32) / temperature, axis=-1)
  kl = jnp.sum(jnp.exp(log_p) * (log_p - log_q), axis=-1)
  return temperature**2 * kl


def contrastive_loss(
    logits: JTensor, weights: JTensor | None = None
) -> tuple[JTensor, JTensor, JTensor]:
  """Symmetric contrastive softmax loss on a [B, B] similarity matrix.

  Row i holds the (temperature-scaled) similarities of image i to every text;
  the positive pair is the diagonal. Entries with weight 0 (padding) are
  removed from the negatives of every other row and column.

  Args:
    logits: [B, B] image-text logits, logits[i, j] = t · <img_i, txt_j>.
    weights: optional [B] example weights (0 = padding); default all ones.

  Returns:
    (loss, i2t_correct, t2i_correct), each [B] float32: per-example
    0.5 · (xent_i2t + xent_t2i), and 1.0 where the row (resp. column) argmax
    is the matching pair.
  """
  if logits.ndim != 2 or logits.shape[0] != logits.shape[1]:
    raise ValueError(f'logits must be square [B, B], got {logits.shape}.')
  b = logits.shape[0]
  logits = logits.astype(jnp.float32)
  if weights is not None:
    pad = weights <= 0
    off_diagonal = ~jnp.eye(b, dtype=bool)
    excluded = off_diagonal & (pad[jnp.newaxis, :] | pad[:, jnp.newaxis])
    logits = jnp.where(excluded, _EXCLUDED_LOGIT, logits)
  diag = jnp.diagonal(logits)
  xent_i2t = jax.nn.logsumexp(logits, axis=1) - diag
  xent_t2i = jax.nn.logsumexp(logits, axis=0) - diag
  loss = 0.5 * (xent_i2t + xent_t2i)
  idx = jnp.arange(b)
  i2t_correct = (jnp.argmax(logits, axis=1) == idx).astype(jnp.float32)
  t2i_correct = (jnp.argmax(logits, axis=0) == idx).astype(jnp.float32)
  return loss, i2t_correct, t2i_correct


def weighted_mean(values: JTensor, weights: JTensor) -> tuple[JTensor, JTensor]:
  """Returns (sum(w · v) / sum(w), sum(w)): one paxml WeightedScalar."""
  total = jnp.sum(weights.astype(jnp.float32))
  value = jnp.sum(values.astype(jnp.float32) * weights) / jnp.maximum(
      total, 1e-9)
  return value, total
