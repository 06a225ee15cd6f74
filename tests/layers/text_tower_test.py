# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests for vit22b_pax.layers.text_tower."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from vit22b_pax.layers import text_tower

PARAMS = base_layer.PARAMS

# Right-padded byte tokens (0 = pad, 1 = EOS), as captions.tokenize makes.
IDS = np.array([[100, 101, 35, 1, 0, 0],
                [67, 1, 0, 0, 0, 0],
                [40, 41, 42, 43, 44, 1]], np.int32)


def _tower(**kw):
  cfg = dict(name='text', max_len=10, model_dims=16, num_layers=2,
             num_heads=2, hidden_dims=32, embed_dim=6)
  cfg.update(kw)
  return base_layer.instantiate(
      pax_fiddle.Config(text_tower.TextTower, **cfg))


def _np_layer_norm(x, scale, bias, eps=1e-6):
  mean = x.mean(-1, keepdims=True)
  var = ((x - mean)**2).mean(-1, keepdims=True)
  return (x - mean) / np.sqrt(var + eps) * (1.0 + scale) + bias


class TextTowerTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    np.random.seed(123456)

  @parameterized.named_parameters(('mean', 'mean'), ('last', 'last'))
  def test_pooling_matches_numpy_and_ignores_padding(self, pooling):
    layer = _tower(pooling=pooling)
    ids = jnp.asarray(IDS)
    with base_layer.JaxContext.new_context():
      variables = layer.init(jax.random.PRNGKey(0), ids)
      out, state = layer.apply(variables, ids, capture_intermediates=True,
                               mutable=['intermediates'])
      padded = layer.apply(variables, jnp.pad(ids, ((0, 0), (0, 4))))
      cut = layer.apply(variables, ids[:1, :4])
    self.assertEqual(out.shape, (3, 6))
    # Appending / removing pad tokens leaves every embedding unchanged.
    self.assertAllClose(padded, out, atol=1e-5)
    self.assertAllClose(cut, out[:1], atol=1e-5)

    # Pooling, final LN and projection against numpy, from the transformer
    # output (captured by flax).
    h = np.asarray(state['intermediates']['transformer']['__call__'][0])
    p = jax.tree_util.tree_map(np.asarray, variables[PARAMS])
    h = _np_layer_norm(h, p['final_ln']['scale'], p['final_ln']['bias'])
    valid = IDS != 0
    if pooling == 'mean':
      pooled = (h * valid[..., None]).sum(1) / valid.sum(1, keepdims=True)
    else:
      last = np.array([np.nonzero(v)[0].max() for v in valid])
      pooled = h[np.arange(3), last]
    want = pooled @ p['proj']['linear']['w'] + p['proj']['bias']['b']
    self.assertAllClose(out, want, atol=1e-5)

  def test_variables(self):
    layer = _tower()
    with base_layer.JaxContext.new_context():
      variables = layer.init(jax.random.PRNGKey(0), jnp.asarray(IDS))
    p = variables[PARAMS]
    self.assertEqual(set(p), {'token_emb', 'pos_emb', 'transformer',
                              'final_ln', 'proj'})
    self.assertEqual(p['token_emb']['emb_var'].shape,
                     (text_tower.BYTE_VOCAB_SIZE, 16))
    self.assertEqual(p['pos_emb']['emb_var'].shape, (10, 16))
    self.assertEqual(p['proj']['linear']['w'].shape, (16, 6))
    self.assertLen(p['transformer'], 2)

  @parameterized.named_parameters(
      ('pooling', dict(pooling='cls'), "pooling must be one of .* got 'cls'"),
      ('heads', dict(num_heads=3), 'model_dims=16 must be divisible by '
       'num_heads=3'),
      ('embed_dim', dict(embed_dim=0), 'embed_dim must be > 0, got 0'))
  def test_bad_config_raises(self, kw, regex):
    with self.assertRaisesRegex(ValueError, regex):
      with base_layer.JaxContext.new_context():
        _tower(**kw).init(jax.random.PRNGKey(0), jnp.asarray(IDS))

  def test_too_long_raises(self):
    layer = _tower(max_len=4)
    with self.assertRaisesRegex(ValueError, 'length 6 exceeds max_len=4'):
      with base_layer.JaxContext.new_context():
        layer.init(jax.random.PRNGKey(0), jnp.asarray(IDS))


if __name__ == '__main__':
  absltest.main()
