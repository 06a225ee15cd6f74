# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of MAPHead against a numpy reference."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from tests.layers import parallel_block_test as pbt
from vit22b_pax.layers import map_head


def np_map_head(x, p, num_heads, norm_type='layernorm'):
  """big_vision MAPHead: probe attends to x, then LN + MLP residual."""
  g = lambda k: np.asarray(p[k], np.float64) if k in p else 0.0
  d = x.shape[-1]
  h = d // num_heads
  probe = g('probe')[0, 0]
  q = np.einsum('d,dnh->nh', probe, g('w_q')) + g('b_q')
  k = np.einsum('bsd,dnh->bsnh', x, g('w_k')) + g('b_k')
  v = np.einsum('bsd,dnh->bsnh', x, g('w_v')) + g('b_v')
  probs = pbt.np_softmax(np.einsum('nh,bsnh->bns', q, k) / np.sqrt(h))
  o = np.einsum('bns,bsnh,nhd->bd', probs, v, g('w_out')) + g('b_out')
  y = pbt.np_norm(o, np.asarray(p['norm']['scale']), norm_type)
  y = y + (np.asarray(p['norm']['bias']) if 'bias' in p['norm'] else 0.0)
  m = pbt.np_gelu(y @ g('w_mlp_in') + g('b_mlp_in'))
  return o + m @ g('w_mlp_out') + g('b_mlp_out')


class MAPHeadTest(test_utils.TestCase):

  @parameterized.named_parameters(
      ('big_vision', True, 'layernorm', True, 0),
      ('no_bias_rms', False, 'rmsnorm', False, 24),
  )
  def test_matches_numpy(self, use_bias, norm_type, norm_bias, hidden):
    d, n = 16, 4
    p = pax_fiddle.Config(map_head.MAPHead, name='map', model_dims=d,
                          num_heads=n, hidden_dims=hidden, use_bias=use_bias,
                          norm_type=norm_type, norm_bias=norm_bias)
    layer = base_layer.instantiate(p)
    x = np.random.default_rng(3).normal(size=(3, 7, d)).astype(np.float32)
    variables = pbt.init_random(layer, x)
    params = variables['params']
    self.assertEqual(params['w_mlp_in'].shape, (d, hidden or 4 * d))
    self.assertEqual('b_q' in params, use_bias)
    self.assertEqual('bias' in params['norm'], norm_bias)
    with base_layer.JaxContext.new_context():
      y = layer.apply(variables, x)
    self.assertEqual(y.shape, (3, d))
    self.assertAllClose(np_map_head(x, params, n, norm_type), y, rtol=2e-5,
                        atol=2e-5, check_dtypes=False)

  def test_bad_heads(self):
    p = pax_fiddle.Config(map_head.MAPHead, name='map', model_dims=16,
                          num_heads=5)
    with self.assertRaisesRegex(ValueError, 'num_heads=5 must divide '
                                'model_dims=16'):
      with base_layer.JaxContext.new_context():
        base_layer.instantiate(p).init(jax.random.PRNGKey(0),
                                       np.zeros((1, 2, 16), np.float32))


if __name__ == '__main__':
  absltest.main()
