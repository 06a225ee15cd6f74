# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Input-normalisation folding and the tensor source's checks."""

from absl.testing import absltest
import numpy as np

from tests.weights import reference as ref
from vit22b_pax.weights import layout


class LayoutTest(absltest.TestCase):

  def test_folded_patch_embedding_equals_normalising_the_input(self):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 4, 3, 8)).astype(np.float32)
    b = rng.standard_normal((8,)).astype(np.float32)
    x = rng.uniform(-1, 1, (2, 8, 8, 3))
    for name in ('imagenet', '0.3,0.4,0.5/0.2,0.25,0.3', 'inception'):
      mean, std = layout.parse_normalization(name)
      want = ref.patches(((x + 1) / 2 - mean) / std, 4) @ w.reshape(
          -1, 8) + b
      wf, bf = layout.fold_normalization(w, b, mean, std)
      got = ref.patches(x, 4) @ wf.reshape(-1, 8) + bf
      np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

  def test_tensor_source_checks_and_accounts(self):
    src = layout.TensorSource({'a': np.zeros((2, 3)), 'b': np.ones(4)},
                              'ckpt X', 'ViT-test')
    self.assertEqual(src.take('a', (2, None)).dtype, np.float32)
    with self.assertRaisesRegex(ValueError, r"ckpt X: tensor 'b' has shape "
                                r'\(4,\) but ViT-test needs \(5,\)'):
      src.take('b', (5,))
    with self.assertRaisesRegex(ValueError, r"ckpt X has no tensor 'c' "
                                r'\(expected shape \(1, \*\)'):
      src.take('c', (1, None))
    with self.assertRaisesRegex(ValueError, r"no place for: 'b' \(4,\)"):
      src.finish()
    with self.assertRaisesRegex(ValueError, 'floating-point'):
      layout.as_float32(np.arange(3))

  def test_dims_and_grid_checks(self):
    with self.assertRaisesRegex(ValueError, 'num_heads=5 does not divide'):
      layout.Dims(32, 2, 64, 5, 8)
    with self.assertRaisesRegex(ValueError, '10 position embeddings are not '
                                'a square grid'):
      layout.square_grid(10, 'x')


if __name__ == '__main__':
  absltest.main()
