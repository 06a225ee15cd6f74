# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""FLOPs counting, MFU and the peak FLOP/s table."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from praxis import test_utils

from vit22b_pax.perf import flops
from vit22b_pax.perf import peaks


class FlopsTest(test_utils.TestCase):

  def test_paper_mfu(self):
    # ViT-22B/14, 224 px (256 tokens), 21.743B parameters, 1.15k tokens/s
    # per TPU v4 chip -> 54.9% MFU (paper, PaLM appendix B count).
    per_token = flops.flops_per_token(21.743e9, 48, 6144, 256)
    mfu = flops.mfu_from_tokens(1150, per_token, peaks.PEAK_BF16_FLOPS[
        'tpu-v4'])
    self.assertAlmostEqual(100 * mfu, 54.9, delta=0.1)
    # Same through the variant path with the paper's parameter count.
    count = flops.vit_flops('22B/14', 224, num_classes=0, num_params=21.743e9)
    self.assertEqual(count.tokens, 256)
    self.assertAlmostEqual(count.per_token, per_token)

  def test_counted_params_and_flops_against_numpy(self):
    # Independent count for B/16 at 224 px, 1000 classes.
    d, f, l, n, p, t, k = 768, 3072, 12, 12, 16, 196, 1000
    block = (3 * d * d + d * d + d) + (d * f + f + f * d + d) + d + 2 * (
        d // n)
    stem = p * p * 3 * d + d
    head = d * k + k
    want_n = l * block + stem + head
    count = flops.vit_flops('B/16', 224, num_classes=k)
    self.assertEqual(count.num_params, want_n)
    n_tok = want_n - head
    want = t * (6 * n_tok + 12 * l * d * t) + 6 * head
    np.testing.assert_allclose(count.per_image, want, rtol=1e-12)
    np.testing.assert_allclose(count.forward_per_image,
                        t * (2 * n_tok + 4 * l * d * t) + 2 * head,
                        rtol=1e-12)
    self.assertAlmostEqual(count.num_params / 1e6, 86.4, delta=0.3)

  def test_matmul_flops_match_xla_cost_analysis(self):
    # 6N per token of a single dense layer = 3 matmuls of 2*in*out per row.
    x = jnp.ones((64, 128))
    w = jnp.ones((128, 256))
    loss = lambda w, x: jnp.sum(jnp.tanh(x @ w))
    grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
    cost = grad.lower(w, x).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    np.testing.assert_allclose(cost['flops'], 6 * 64 * 128 * 256, rtol=0.05)

  @parameterized.parameters(('B/16', 100, 'multiple of the patch'),
                            ('X/16', 224, 'Unknown ViT variant'))
  def test_bad_variant_or_size(self, variant, size, message):
    with self.assertRaisesRegex(ValueError, message):
      flops.vit_flops(variant, size)

  def test_bad_values(self):
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
