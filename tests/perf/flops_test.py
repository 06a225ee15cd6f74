# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Parameter / FLOP counts from encoder configs, MFU and the peak table."""

import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from praxis import base_layer
from praxis import test_utils

from vit22b_pax.layers import variants
from vit22b_pax.perf import flops
from vit22b_pax.perf import peaks


def _tiny(**overrides):
  kw = dict(model_dims=32, num_layers=2, hidden_dims=64, num_heads=4)
  return variants.encoder_config('Ti/8', 32, **(kw | overrides))


def _abstract_params(cfg, image_size=32):
  layer = base_layer.instantiate(cfg)
  images = jax.ShapeDtypeStruct((1, image_size, image_size, 3), jnp.float32)

  def init(key, x):
    with base_layer.JaxContext.new_context():
      return layer.init(key, x)

  return jax.eval_shape(init, jax.random.PRNGKey(0), images)['params']


def _size(tree):
  return sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(tree))


class ParamCountTest(test_utils.TestCase):

  @parameterized.named_parameters(
      ('default', {}),
      ('unfused', dict(fused=False)),
      ('sequential', dict(parallel=False)),
      ('sequential_ln_bias', dict(parallel=False, norm_type='layernorm',
                                  norm_bias=True)),
      ('no_bias_no_qk', dict(use_bias=(), qk_norm=False)),
      ('all_bias_unfused', dict(use_bias=('qkv', 'mlp', 'out'), fused=False)),
      ('qk_layernorm', dict(qk_norm_type='layernorm')),
      ('gap', dict(pooling='gap')),
      ('cls', dict(pooling='cls', cls_token=True)),
      ('map_cls_unrolled', dict(cls_token=True, scan=False)),
      ('final_ln_bias_only', dict(norm_type='layernorm', norm_bias=False)),
  )
  def test_equals_abstract_init(self, overrides):
    cfg = _tiny(**overrides)
    if overrides == dict(norm_type='layernorm', norm_bias=False):
      cfg.norm_bias = True  # the encoder's own switch
    counts = flops.encoder_param_counts(cfg)
    params = _abstract_params(cfg)
    self.assertEqual(counts['total'], _size(params))
    self.assertEqual(counts['map_head'], _size(params.get('map_head', {})))
    blocks = (params['blocks'] if 'blocks' in params else
              {k: v for k, v in params.items() if k.startswith('blocks_')})
    self.assertEqual(counts['blocks'], _size(blocks))
    self.assertEqual(counts['encoder_norm'], _size(params['encoder_norm']))
    self.assertEqual(counts['encoder'], counts['total'] - counts['map_head'])

  def test_map_head_hidden_dims(self):
    cfg = _tiny()
    cfg.map_head_tpl.hidden_dims = 48
    cfg.map_head_tpl.use_bias = False
    self.assertEqual(flops.encoder_param_counts(cfg)['map_head'],
                     _size(_abstract_params(cfg)['map_head']))

  def test_22b_matches_paper(self):
    counts = flops.encoder_param_counts(variants.encoder_config('22B/14'))
    self.assertLess(abs(counts['encoder'] / 21_743e6 - 1), 0.005)


class FlopsTest(test_utils.TestCase):

  def test_paper_mfu(self):
    # ViT-22B/14, 224 px (256 tokens), 21.743B parameters, 1.15k tokens/s
    # per TPU v4 chip -> 54.9% MFU (paper, PaLM appendix B count).
    per_token = flops.flops_per_token(21.743e9, 48, 6144, 256)
    mfu = flops.mfu_from_tokens(1150, per_token, peaks.PEAK_BF16_FLOPS[
        'tpu-v4'])
    self.assertAlmostEqual(100 * mfu, 54.9, delta=0.1)
    # The counted 22B/14 encoder lands on the same MFU.
    count = flops.encoder_flops(variants.encoder_config('22B/14'), 224, 0)
    self.assertEqual(count.tokens, 256)
    mfu = flops.mfu_from_tokens(1150, count.per_token,
                                peaks.PEAK_BF16_FLOPS['tpu-v4'])
    self.assertAlmostEqual(100 * mfu, 54.9, delta=0.2)

  def test_against_numpy_count(self):
    # Independent count for B/16 at 224 px, MAP head, 1000 classes.
    d, f, l, n, p, t, k = 768, 3072, 12, 12, 16, 196, 1000
    h, g = d // n, f // n
    block = (d * n * (3 * h + g) + n * (h + g) * d   # fused w_in, w_out
             + n * g + d                             # b_mlp_in, b_out
             + d + 2 * h)                            # norm, QK-norms
    n_tok = l * block + (p * p * 3 * d + d) + d      # + stem + final norm
    map_tok = 2 * (d * d + d)                        # k, v projections
    # Once per image: q and out projections, LayerNorm with bias, MLP (the
    # probe itself is an input, not a matmul).
    map_once = 2 * (d * d + d) + 2 * d + 2 * d * f + f + d
    head = 6 * (map_tok * t + map_once) + 12 * d * t + 6 * (d * k + k)
    count = flops.encoder_flops(variants.encoder_config('B/16'), 224, k)
    self.assertEqual(count.tokens, t)
    np.testing.assert_allclose(count.per_token,
                               6 * n_tok + 12 * l * d * t, rtol=1e-12)
    np.testing.assert_allclose(count.per_image, t * count.per_token + head,
                               rtol=1e-12)
    np.testing.assert_allclose(count.forward_per_image, count.per_image / 3)
    posemb, probe = t * d, d
    self.assertEqual(count.num_params,
                     n_tok + posemb + map_tok + map_once + probe + d * k + k)

  def test_cls_token_and_gap(self):
    gap = flops.encoder_flops(_tiny(pooling='gap'), 32, 10)
    cls = flops.encoder_flops(_tiny(pooling='cls', cls_token=True), 32, 10)
    self.assertEqual((gap.tokens, cls.tokens), (16, 17))
    self.assertEqual(gap.head_per_image, 6 * (32 * 10 + 10))
    self.assertGreater(cls.per_token, gap.per_token)  # longer sequence

  def test_matmul_flops_match_xla_cost_analysis(self):
    # 6N per token of a single dense layer = 3 matmuls of 2*in*out per row.
    x = jnp.ones((64, 128))
    w = jnp.ones((128, 256))
    loss = lambda w, x: jnp.sum(jnp.tanh(x @ w))
    grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
    cost = grad.lower(w, x).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    np.testing.assert_allclose(cost['flops'], 6 * 64 * 128 * 256, rtol=0.05)

  def test_bad_values(self):
    with self.assertRaisesRegex(ValueError, 'multiple of the patch size 8'):
      flops.encoder_flops(_tiny(), 36, 10)
    with self.assertRaisesRegex(ValueError, 'num_classes must be >= 0'):
      flops.encoder_flops(_tiny(), 32, -1)
    with self.assertRaisesRegex(ValueError, 'num_params'):
      flops.flops_per_token(0, 1, 1, 1)
    with self.assertRaisesRegex(ValueError, 'peak_flops'):
      flops.mfu(1.0, 0.0)


class PeaksTest(test_utils.TestCase):

  @parameterized.parameters(
      ('TPU v4', 'tpu-v4', 275e12), ('TPU v5 lite', 'tpu-v5e', 197e12),
      ('TPU v5p', 'tpu-v5p', 459e12), ('NVIDIA A100-SXM4-80GB', 'a100',
                                       312e12),
      ('NVIDIA H100 80GB HBM3', 'h100', 989e12), ('NVIDIA H200', 'h200',
                                                  989e12))
  def test_device_kind_table(self, kind, key, peak):
    self.assertEqual(peaks.chip_from_device_kind(kind), key)
    self.assertEqual(peaks.peak_flops_per_chip(device_kind=kind)[0], peak)

  def test_override_and_unknown(self):
    self.assertEqual(peaks.peak_flops_per_chip(5e12)[0], 5e12)
    with self.assertRaisesRegex(ValueError, 'override'):
      peaks.peak_flops_per_chip(-1.0)
    with self.assertRaisesRegex(ValueError, 'No peak FLOP/s known'):
      peaks.peak_flops_per_chip(device_kind='Some GPU 9000')
    with self.assertRaisesRegex(ValueError, 'Unknown chip'):
      peaks.get_chip('tpu-v9')

  def test_measured_cpu_peak_is_cached_and_plausible(self):
    peak = peaks.measured_matmul_peak(sizes=(256,), repeats=2)
    self.assertGreater(peak, 1e8)
    self.assertIs(peaks.measured_matmul_peak(sizes=(256,), repeats=2), peak)
    # Backend default on this CPU host: the measured float32 peak.
    self.assertEqual(jax.devices()[0].platform, 'cpu')
    self.assertTrue(np.isfinite(peak))


if __name__ == '__main__':
  absltest.main()
