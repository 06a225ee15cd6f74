# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of ViT22BBlock against an independent numpy reference."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils
from praxis.layers import base_ops

from vit22b_pax.layers import parallel_block as pb

D, N, F, B, T = 16, 4, 32, 2, 5
H = D // N


def np_norm(x, scale, norm_type, eps=1e-6, bias=None):
  x = x.astype(np.float64)
  if norm_type == 'layernorm':
    x = x - x.mean(-1, keepdims=True)
  y = x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * scale
  return y if bias is None else y + bias


def np_gelu(x, approximate=True):
  if approximate:
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
  from scipy import special  # pylint: disable=g-import-not-at-top
  return 0.5 * x * (1 + special.erf(x / np.sqrt(2)))


def np_softmax(z):
  z = z - z.max(-1, keepdims=True)
  e = np.exp(z)
  return e / e.sum(-1, keepdims=True)


def np_block(x, p, parallel, qk_norm, norm_type, approximate=True,
             norm_types=None):
  """Reference on the unfused parameter tree; returns (y, logits).

  norm_types: optional (block norm type, QK-norm type); default norm_type
  for both.
  """
  norm_type, qk_type = norm_types or (norm_type, norm_type)
  g = lambda k: np.asarray(p[k], np.float64) if k in p else 0.0
  nb = lambda k: p[k].get('bias')
  h = np_norm(x, np.asarray(p['norm']['scale']), norm_type,
              bias=nb('norm'))
  q = np.einsum('btd,dnh->btnh', h, g('w_q')) + g('b_q')
  k = np.einsum('btd,dnh->btnh', h, g('w_k')) + g('b_k')
  v = np.einsum('btd,dnh->btnh', h, g('w_v')) + g('b_v')
  if qk_norm:
    q = np_norm(q, np.asarray(p['q_norm']['scale']), qk_type)
    k = np_norm(k, np.asarray(p['k_norm']['scale']), qk_type)
  logits = np.einsum('btnh,bsnh->bnts', q, k) / np.sqrt(H)
  ctx = np.einsum('bnts,bsnh->btnh', np_softmax(logits), v)
  attn = np.einsum('btnh,nhd->btd', ctx, g('w_attn_out')) + g('b_attn_out')
  if parallel:
    hm, res = h, x + attn
  else:
    res = x + attn
    hm = np_norm(res, np.asarray(p['mlp_norm']['scale']), norm_type,
                 bias=nb('mlp_norm'))
  m = np_gelu(hm @ g('w_mlp_in') + g('b_mlp_in'), approximate)
  return res + m @ g('w_mlp_out') + g('b_mlp_out'), logits


def randomize(tree, seed):
  """Random values for every leaf (norm scales around 1)."""
  rng = np.random.default_rng(seed)
  leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
  out = []
  for path, leaf in leaves:
    v = rng.normal(0, 0.3, leaf.shape).astype(np.float32)
    if 'scale' in jax.tree_util.keystr(path):
      v = 1 + v
    out.append(v)
  return jax.tree_util.tree_unflatten(treedef, out)


def make_block(**kwargs):
  p = pax_fiddle.Config(pb.ViT22BBlock, name='block', model_dims=D,
                        num_heads=N, hidden_dims=F, **kwargs)
  return base_layer.instantiate(p)


def init_random(layer, x, seed=1):
  with base_layer.JaxContext.new_context():
    variables = layer.init(jax.random.PRNGKey(0), x)
  return {'params': randomize(variables['params'], seed)}


def apply(layer, variables, x, summaries=False):
  with base_layer.JaxContext.new_context():
    if summaries:
      return layer.apply(variables, x, mutable=['summaries'])
    return layer.apply(variables, x)


_CALLS = []


class CountingEinsum(base_ops.EinsumOp):
  """EinsumOp that records (layer name, equation) (to test injection)."""

  def __call__(self, eqn, *args):
    _CALLS.append((self.name, eqn))
    return super().__call__(eqn, *args)


class ParallelBlockTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    self.x = np.random.default_rng(0).normal(size=(B, T, D)).astype(
        np.float32)

  @parameterized.named_parameters(
      ('fused_default', True, True, True, ('mlp', 'out'), 'rmsnorm'),
      ('fused_ln_allbias', True, True, True, ('qkv', 'mlp', 'out'),
       'layernorm'),
      ('fused_noqk_nobias', True, True, False, (), 'rmsnorm'),
      ('fused_outonly', True, True, True, ('out',), 'layernorm'),
      ('unfused_parallel', False, True, True, ('qkv', 'out'), 'rmsnorm'),
      ('unfused_parallel_ln', False, True, False, ('mlp',), 'layernorm'),
      ('sequential_standard', False, False, False, ('qkv', 'mlp', 'out'),
       'layernorm'),
      ('sequential_qknorm', False, False, True, ('mlp', 'out'), 'rmsnorm'),
  )
  def test_matches_numpy(self, fused, parallel, qk_norm, use_bias, norm_type):
    layer = make_block(fused=fused, parallel=parallel, qk_norm=qk_norm,
                       use_bias=use_bias, norm_type=norm_type)
    variables = init_random(layer, self.x)
    y = apply(layer, variables, self.x)
    p = variables['params']
    if fused:
      p = pb.fused_to_unfused(p, use_bias)
    ref, _ = np_block(self.x, p, parallel, qk_norm, norm_type)
    self.assertEqual(y.shape, (B, T, D))
    self.assertAllClose(ref, y, rtol=2e-5, atol=2e-5, check_dtypes=False)

  @parameterized.parameters(True, False)
  def test_norm_bias(self, parallel):
    # Standard ViT LayerNorms (with bias) on the block norms, not QK-norms.
    layer = make_block(fused=False, parallel=parallel, norm_type='layernorm',
                       norm_bias=True)
    variables = init_random(layer, self.x)
    p = variables['params']
    names = ('norm',) if parallel else ('norm', 'mlp_norm')
    for name in names:
      self.assertEqual(p[name]['bias'].shape, (D,))
    self.assertNotIn('bias', p['q_norm'])
    y = apply(layer, variables, self.x)
    ref, _ = np_block(self.x, p, parallel, True, 'layernorm')
    self.assertAllClose(ref, y, rtol=2e-5, atol=2e-5, check_dtypes=False)
    # The bias does act: zeroing it changes the output.
    zeroed = jax.tree_util.tree_map(lambda a: a, p)
    zeroed['norm'] = dict(p['norm'], bias=np.zeros((D,), np.float32))
    self.assertNotAllClose(y, apply(layer, {'params': zeroed}, self.x))

  def test_exact_gelu_and_qk_norm_type(self):
    tpl = pax_fiddle.Config(pb.activations.GELU, approximate=False)
    layer = make_block(activation_tpl=tpl, qk_norm_type='layernorm',
                       norm_type='layernorm')
    variables = init_random(layer, self.x)
    y = apply(layer, variables, self.x)
    p = pb.fused_to_unfused(variables['params'])
    ref, _ = np_block(self.x, p, True, True, 'layernorm', approximate=False)
    self.assertAllClose(ref, y, rtol=2e-5, atol=2e-5, check_dtypes=False)

  @parameterized.parameters((('mlp', 'out'),), (('qkv', 'mlp'),), ((),))
  def test_fused_equals_unfused(self, use_bias):
    unfused = make_block(fused=False, use_bias=use_bias)
    fused = make_block(fused=True, use_bias=use_bias)
    variables = init_random(unfused, self.x)
    y_unfused = apply(unfused, variables, self.x)
    fused_params = pb.unfused_to_fused(variables['params'])
    with base_layer.JaxContext.new_context():
      shapes = fused.abstract_init_with_metadata(self.x)
    self.assertEqual(jax.tree_util.tree_structure(fused_params),
                     jax.tree_util.tree_structure(shapes['params']))
    y_fused = apply(fused, {'params': fused_params}, self.x)
    self.assertAllClose(y_unfused, y_fused, rtol=1e-5, atol=1e-5)
    back = pb.fused_to_unfused(fused_params, use_bias)
    y_back = apply(unfused, {'params': back}, self.x)
    self.assertAllClose(y_unfused, y_back, rtol=1e-5, atol=1e-5)

  @parameterized.parameters('rmsnorm', 'layernorm')
  def test_qk_norm_scale_invariance(self, norm_type):
    layer = make_block(norm_type=norm_type, use_bias=('mlp',))
    variables = init_random(layer, self.x)
    y = apply(layer, variables, self.x)
    w_in = np.array(variables['params']['w_in'])
    w_in[..., :H] *= 7.0     # W_q
    w_in[..., H:2 * H] *= 0.5  # W_k
    scaled = {'params': dict(variables['params'], w_in=w_in)}
    self.assertAllClose(y, apply(layer, scaled, self.x), rtol=1e-4, atol=1e-4)
    # Without QK-norm the same rescaling changes the output.
    plain = make_block(norm_type=norm_type, use_bias=('mlp',), qk_norm=False)
    pv = {'params': {k: v for k, v in variables['params'].items()
                     if k not in ('q_norm', 'k_norm')}}
    ps = {'params': dict(pv['params'], w_in=w_in)}
    self.assertNotAllClose(apply(plain, pv, self.x), apply(plain, ps, self.x))

  def test_summaries(self):
    layer = make_block(fused=False, norm_type='layernorm')
    variables = init_random(layer, self.x)
    _, state = apply(layer, variables, self.x, summaries=True)
    s = state['summaries']
    _, logits = np_block(self.x, variables['params'], True, True, 'layernorm')
    probs = np_softmax(logits)
    entropy = -(probs * np.log(probs)).sum(-1).mean()
    self.assertAllClose(logits.max(), s['max_attention_logit_scalar'],
                        check_dtypes=False)
    self.assertAllClose(entropy, s['attention_entropy_scalar'],
                        check_dtypes=False)
    off = make_block(fused=False, norm_type='layernorm',
                     attention_summaries=False)
    _, state = apply(off, variables, self.x, summaries=True)
    self.assertEmpty(state.get('summaries', {}))

  @parameterized.parameters(True, False)
  def test_einsum_injection(self, fused):
    layer = make_block(fused=fused,
                       in_einsum_tpl=pax_fiddle.Config(CountingEinsum),
                       out_einsum_tpl=pax_fiddle.Config(CountingEinsum))
    variables = init_random(layer, self.x)
    _CALLS.clear()
    apply(layer, variables, self.x)
    i, o = ('in_einsum', 'md,dk->mk'), ('out_einsum', 'mk,kd->md')
    # Fused: four matmuls on the segments of w_in (q, k, v, MLP), two on
    # those of w_out (attention, MLP), see core.block.split_segments.
    expected = [i, i, i, i, o, o] if fused else [i, i, i, o, i, o]
    self.assertEqual(_CALLS, expected)

  @parameterized.named_parameters(
      ('heads', dict(num_heads=3), 'num_heads=3 must divide model_dims=16'),
      ('fused_seq', dict(parallel=False), 'fused=True needs parallel=True'),
      ('mlp_heads', dict(hidden_dims=30, num_heads=4),
       'num_heads=4 to divide hidden_dims=30'),
      ('bias', dict(use_bias=('qkv', 'ffn')), "Unknown use_bias entries"),
      ('norm', dict(norm_type='batchnorm'), "Unknown norm_type 'batchnorm'"),
      ('norm_bias', dict(norm_bias=True), "norm_bias=True needs norm_type"),
  )
  def test_bad_config(self, overrides, message):
    kwargs = dict(model_dims=D, num_heads=N, hidden_dims=F)
    kwargs.update(overrides)
    p = pax_fiddle.Config(pb.ViT22BBlock, name='block', **kwargs)
    layer = base_layer.instantiate(p)
    with self.assertRaisesRegex(ValueError, message):
      with base_layer.JaxContext.new_context():
        layer.init(jax.random.PRNGKey(0), self.x)


if __name__ == '__main__':
  absltest.main()
