# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests for vit22b_pax.models.losses against small numpy references."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from praxis import test_utils

from vit22b_pax.models import losses


def _np_log_softmax(x, axis=-1):
  x = x - x.max(axis=axis, keepdims=True)
  return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def _np_kl(teacher, student, t):
  p = np.exp(_np_log_softmax(teacher / t))
  return t**2 * np.sum(
      p * (np.log(p) - _np_log_softmax(student / t)), axis=-1)


def _np_contrastive(logits):
  b = logits.shape[0]
  rows = -_np_log_softmax(logits, axis=1)[np.arange(b), np.arange(b)]
  cols = -_np_log_softmax(logits, axis=0)[np.arange(b), np.arange(b)]
  return 0.5 * (rows + cols)


class LossesTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    np.random.seed(123456)

  @parameterized.named_parameters(('t1', 1.0), ('t2', 2.0), ('t_half', 0.5))
  def test_kl_matches_numpy(self, t):
    teacher = np.random.randn(4, 7).astype(np.float32) * 3
    student = np.random.randn(4, 7).astype(np.float32) * 3
    got = losses.kl_distillation(teacher, student, temperature=t)
    self.assertAllClose(got, _np_kl(teacher, student, t), atol=1e-5)
    self.assertAllClose(losses.kl_distillation(teacher, teacher, t),
                        np.zeros(4), atol=1e-6)

  def test_kl_bad_input(self):
    x = np.zeros((2, 3), np.float32)
    with self.assertRaisesRegex(ValueError, 'temperature must be > 0, got 0'):
      losses.kl_distillation(x, x, temperature=0.0)
    with self.assertRaisesRegex(ValueError, r'\(2, 3\).*\(2, 4\)'):
      losses.kl_distillation(x, np.zeros((2, 4), np.float32))

  def test_contrastive_matches_numpy(self):
    logits = np.random.randn(5, 5).astype(np.float32) * 4
    loss, i2t, t2i = losses.contrastive_loss(logits)
    self.assertAllClose(loss, _np_contrastive(logits), atol=1e-5)
    idx = np.arange(5)
    self.assertArraysEqual(i2t, (logits.argmax(1) == idx).astype(np.float32))
    self.assertArraysEqual(t2i, (logits.argmax(0) == idx).astype(np.float32))

  def test_contrastive_padding_is_not_a_negative(self):
    logits = np.random.randn(4, 4).astype(np.float32)
    weights = np.array([1, 1, 1, 0], np.float32)
    loss, _, _ = losses.contrastive_loss(logits, weights)
    # Valid entries equal the loss over the 3x3 valid sub-matrix.
    self.assertAllClose(loss[:3], _np_contrastive(logits[:3, :3]), atol=1e-5)
    self.assertTrue(np.all(np.isfinite(loss)))

  def test_contrastive_bad_shape(self):
    with self.assertRaisesRegex(ValueError, r'square \[B, B\], got \(2, 3\)'):
      losses.contrastive_loss(np.zeros((2, 3), np.float32))

  def test_weighted_mean(self):
    value, weight = losses.weighted_mean(
        np.array([1.0, 3.0, 5.0]), np.array([1.0, 1.0, 0.0]))
    self.assertAllClose(value, 2.0)
    self.assertAllClose(weight, 2.0)


if __name__ == '__main__':
  absltest.main()
