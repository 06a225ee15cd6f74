# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of ClassifierHead."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from vit22b_pax.layers import heads


def make(**kwargs):
  kwargs = dict(dict(input_dims=8, num_classes=5), **kwargs)
  return base_layer.instantiate(pax_fiddle.Config(
      heads.ClassifierHead, name='head', **kwargs))


class ClassifierHeadTest(test_utils.TestCase):

  @parameterized.parameters((True, -10.0), (False, 0.0))
  def test_init_and_numpy(self, zero_init, bias_init):
    layer = make(zero_init=zero_init, bias_init=bias_init)
    x = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    with base_layer.JaxContext.new_context():
      variables = layer.init(jax.random.PRNGKey(0), x)
      p = variables['params']
      self.assertArraysEqual(p['b'], np.full((5,), bias_init, np.float32))
      self.assertEqual(bool(np.all(np.asarray(p['w']) == 0)), zero_init)
      w = np.random.default_rng(1).normal(size=(8, 5)).astype(np.float32)
      y = layer.apply({'params': {'w': w, 'b': p['b']}}, x)
    self.assertAllClose(x.astype(np.float64) @ w + bias_init, y,
                        check_dtypes=False)

  def test_bad_inputs(self):
    layer = make()
    with self.assertRaisesRegex(ValueError, 'expects 8 input dims, got 6'):
      with base_layer.JaxContext.new_context():
        layer.init(jax.random.PRNGKey(0), np.zeros((2, 6), np.float32))
    with self.assertRaisesRegex(ValueError, 'got 8 and 0'):
      with base_layer.JaxContext.new_context():
        make(num_classes=0).init(jax.random.PRNGKey(0),
                                 np.zeros((2, 8), np.float32))


if __name__ == '__main__':
  absltest.main()
