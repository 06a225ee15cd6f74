# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The pure-JAX block: numpy reference, praxis-layer equality, no praxis."""

import os
import subprocess
import sys

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax import numpy as jnp
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import test_utils

from tests.layers import parallel_block_test as pbt
from vit22b_pax.core import block as core_block
from vit22b_pax.core import segments
from vit22b_pax.layers import parallel_block as pb

D, N, F = pbt.D, pbt.N, pbt.F

VARIANTS = (
    ('fused_default', dict()),
    ('fused_ln_allbias', dict(norm_type='layernorm',
                              use_bias=('qkv', 'mlp', 'out'))),
    ('fused_noqk', dict(qk_norm=False, use_bias=())),
    ('unfused_parallel', dict(fused=False, use_bias=('qkv', 'out'))),
    ('sequential_ln_bias', dict(fused=False, parallel=False,
                                norm_type='layernorm', norm_bias=True,
                                qk_norm_type='rmsnorm')),
    ('sequential_exact_gelu', dict(fused=False, parallel=False,
                                   gelu_approximate=False)),
)


def _layer_kwargs(kw):
  kw = dict(kw)
  if 'gelu_approximate' in kw:
    kw['activation_tpl'] = pax_fiddle.Config(
        pb.activations.GELU, approximate=kw.pop('gelu_approximate'))
  return kw


class CoreBlockTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    self.x = np.random.default_rng(0).normal(size=(2, 5, D)).astype(
        np.float32)

  @parameterized.named_parameters(*VARIANTS)
  def test_equals_praxis_layer_and_numpy(self, kw):
    layer = pbt.make_block(**_layer_kwargs(kw))
    variables = pbt.init_random(layer, self.x)
    cfg = core_block.BlockConfig(D, N, F, **kw)
    # Same parameter tree as the praxis layer.
    self.assertEqual(
        jax.tree_util.tree_map(np.shape, variables['params']),
        jax.tree_util.tree_map(tuple, core_block.param_shapes(cfg),
                               is_leaf=lambda s: isinstance(s, tuple)))
    y_layer = pbt.apply(layer, variables, self.x)
    y_core = jax.jit(lambda p, x: core_block.apply(p, x, cfg))(
        variables['params'], self.x)
    self.assertAllClose(y_layer, y_core, rtol=1e-6, atol=1e-6)
    p = variables['params']
    if cfg.fused:
      p = pb.fused_to_unfused(p, cfg.use_bias)
    ref, _ = pbt.np_block(self.x, p, cfg.parallel, cfg.qk_norm, None,
                          approximate=cfg.gelu_approximate,
                          norm_types=(cfg.norm_type,
                                      cfg.qk_norm_type or cfg.norm_type))
    self.assertAllClose(ref, y_core, rtol=2e-5, atol=2e-5,
                        check_dtypes=False)

  def test_split_segments(self):
    a = np.random.default_rng(2).normal(size=(3, 4, 10)).astype(np.float32)
    sizes = (2, 2, 2, 4)
    parts = segments.split_segments(jnp.asarray(a), sizes, 2)
    for got, want in zip(parts, np.split(a, [2, 4, 6], axis=-1)):
      self.assertArraysEqual(got, want)
    # The VJP concatenates the cotangents, exactly what slicing's VJP gives.
    cts = tuple(np.random.default_rng(3).normal(size=p.shape).astype(
        np.float32) for p in parts)
    _, vjp = jax.vjp(lambda a: segments.split_segments(a, sizes, 2), a)
    self.assertArraysEqual(vjp(cts)[0], np.concatenate(cts, axis=-1))
    # ... as one concatenation, not padded copies, in the compiled gradient.
    text = jax.jit(jax.grad(lambda a, cts: sum(
        jnp.sum(p * c) for p, c in zip(
            segments.split_segments(a, sizes, 2), cts)))).lower(
                a, cts).compile().as_text()
    self.assertIn('concatenate(', text)
    self.assertNotIn(' pad(', text)
    for bad in ((2, 2, 2), (2, 2, 2, 4, 0), ()):
      with self.assertRaisesRegex(ValueError, 'must be positive and add up'):
        segments.split_segments(jnp.asarray(a), bad, 2)

  @parameterized.parameters(True, False)
  def test_fused_gradients_equal_unfused(self, split_weights):
    # Backward pass of both splits: the fused block is the unfused parallel
    # one on the segments of its weights, so its gradients are the unfused
    # gradients concatenated (b_out is b_mlp_out: no attention-out bias).
    use_bias = ('qkv', 'mlp')
    cfg_u = core_block.BlockConfig(D, N, F, fused=False, use_bias=use_bias)
    cfg_f = core_block.BlockConfig(D, N, F, use_bias=use_bias)
    rng = np.random.default_rng(4)
    p_u = jax.tree_util.tree_map(
        lambda a: a + 0.1 * rng.normal(size=a.shape).astype(np.float32),
        core_block.init_params(jax.random.PRNGKey(5), cfg_u))
    p_f = pb.unfused_to_fused(p_u)
    ops = core_block.Ops(split_weights=split_weights)

    def grads(cfg, params, ops=None):
      return jax.jit(jax.grad(lambda p, x: jnp.sum(jnp.sin(
          core_block.apply(p, x, cfg, ops))), argnums=(0, 1)))(params,
                                                              self.x)

    (g_u, gx_u), (g_f, gx_f) = grads(cfg_u, p_u), grads(cfg_f, p_f, ops)
    self.assertAllClose(gx_u, gx_f, rtol=1e-5, atol=1e-5)
    want = pb.unfused_to_fused(g_u)
    self.assertEqual(jax.tree_util.tree_structure(want),
                     jax.tree_util.tree_structure(g_f))
    for a, b in zip(jax.tree_util.tree_leaves(want),
                    jax.tree_util.tree_leaves(g_f)):
      self.assertAllClose(a, b, rtol=1e-5, atol=1e-5)

  def test_init_params_and_count(self):
    cfg = core_block.BlockConfig(D, N, F, use_bias=('qkv', 'mlp', 'out'))
    params = core_block.init_params(jax.random.PRNGKey(0), cfg)
    self.assertEqual(sum(a.size for a in jax.tree_util.tree_leaves(params)),
                     core_block.param_count(cfg))
    # Independent count: fused weights, q/k/v/mlp-in/out biases, norms.
    h, g = D // N, F // N
    want = (D * N * (3 * h + g) + N * (h + g) * D + 3 * N * h + N * g + D
            + D + 2 * h)
    self.assertEqual(core_block.param_count(cfg), want)
    self.assertAllClose(params['norm']['scale'], np.ones(D))
    std = float(np.std(np.asarray(params['w_out'])))
    self.assertBetween(std, 0.7 * (D + F)**-0.5, 1.3 * (D + F)**-0.5)

  def test_bfloat16(self):
    cfg = core_block.BlockConfig(D, N, F)
    params = core_block.init_params(jax.random.PRNGKey(0), cfg)
    y32 = core_block.apply(params, self.x, cfg)
    y16 = core_block.apply(params, jnp.asarray(self.x, jnp.bfloat16), cfg)
    self.assertEqual(y16.dtype, jnp.bfloat16)
    self.assertAllClose(y32, np.asarray(y16, np.float32), rtol=0, atol=0.1)

  def test_train_flops(self):
    cfg = core_block.BlockConfig(6144, 48, 24576)
    n = core_block.param_count(cfg)
    self.assertEqual(core_block.block_train_flops(cfg, 2, 256),
                     2 * 256 * (6 * n + 12 * 6144 * 256))
    with self.assertRaisesRegex(ValueError, 'seq_len must be > 0'):
      core_block.train_flops_per_token(1, 1, 1, 0)

  @parameterized.named_parameters(
      ('heads', dict(num_heads=3), 'num_heads=3 must divide model_dims=16'),
      ('fused_seq', dict(parallel=False), 'fused=True needs parallel=True'),
      ('bias', dict(use_bias=('ffn',)), 'Unknown use_bias entries'),
      ('qk_norm_type', dict(qk_norm_type='batch'),
       "Unknown qk_norm_type 'batch'"),
      ('norm_bias', dict(norm_bias=True), 'norm_bias=True needs'),
  )
  def test_bad_config(self, overrides, message):
    kw = dict(model_dims=D, num_heads=N, hidden_dims=F) | overrides
    with self.assertRaisesRegex(ValueError, message):
      core_block.BlockConfig(**kw)
    with self.assertRaisesRegex(ValueError, r'Expected x \[B, T, 16\]'):
      core_block.apply({}, jnp.ones((2, 3)), core_block.BlockConfig(D, N, F))

  def test_flat_weight_split(self):
    self.assertEqual(core_block.flat_weight_split('w_in', ('data', 'mdl', None)),
                     ('data', 'mdl'))
    self.assertEqual(core_block.flat_weight_split('w_out',
                                                  ('mdl', None, 'data')),
                     ('mdl', 'data'))
    self.assertEqual(core_block.flat_weight_split('w_mlp_out',
                                                  ('mdl', 'data')),
                     ('mdl', 'data'))
    self.assertIsNone(core_block.flat_weight_split('w_q', None))
    with self.assertRaisesRegex(ValueError, "minor dim 'mdl'"):
      core_block.flat_weight_split('w_in', ('data', None, 'mdl'))

  def test_pure_modules_import_without_praxis(self):
    code = ('import sys\n'
            'import vit22b_pax.core.block, vit22b_pax.core.tensor_parallel\n'
            'import vit22b_pax.core.hlo, vit22b_pax.core.collective_matmul\n'
            'import vit22b_pax.tools.bench_gpu\n'
            'bad = [m for m in ("praxis", "paxml", "flax", "fiddle") '
            'if m in sys.modules]\n'
            'assert not bad, bad\n')
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.run([sys.executable, '-c', code], env=env,
                          capture_output=True, text=True, check=False)
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])


if __name__ == '__main__':
  absltest.main()
