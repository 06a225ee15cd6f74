# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the dense praxis inputs."""

from absl.testing import absltest
import jax
import numpy as np
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import test_utils

from vit22b_pax.data import dense
from vit22b_pax.data import dense_inputs

instantiate = base_hyperparams.instantiate


def procedural(**kw):
  kw.setdefault('batch_size', 4)
  kw.setdefault('image_size', 16)
  return instantiate(pax_fiddle.Config(dense_inputs.DenseProceduralInput,
                                       name='dense', **kw))


class DenseProceduralInputTest(test_utils.TestCase):

  def test_batch_keys_and_values(self):
    inp = procedural(image_size=24, image_width=40, num_classes=6, seed=2)
    b = inp.get_next()
    self.assertEqual(set(b), {'image', 'label', 'depth', 'depth_valid',
                              'eval_sample_weights'})
    self.assertEqual(b.image.shape, (4, 24, 40, 3))
    self.assertEqual(b.label.shape, (4, 24, 40))
    self.assertEqual(b.label.dtype, np.int32)
    self.assertEqual(b.depth_valid.dtype, np.float32)
    self.assertTrue(-1 <= b.image.min() and b.image.max() <= 1)
    gen = dense.DenseSceneGenerator(num_kinds=5, image_size=(24, 40), seed=2)
    want = gen.generate(range(4))
    np.testing.assert_allclose(b.image, want['image'] * 2 - 1, atol=1e-6)
    np.testing.assert_array_equal(b.label, want['label'])
    np.testing.assert_array_equal(b.depth, want['depth'])
    self.assertEqual(inp.class_names, dense.class_names(5))
    # The specs provider describes exactly these arrays.
    specs = instantiate(pax_fiddle.Config(
        dense_inputs.DenseInputSpecsProvider, image_size=24, image_width=40,
        batch_size=4)).get_input_specs()
    self.assertEqual(set(specs), set(b))
    for k in specs:
      self.assertEqual((specs[k].shape, specs[k].dtype),
                       (b[k].shape, b[k].dtype), msg=k)

  def test_eval_pass_padding_and_stop(self):
    inp = procedural(split='test', num_examples=10, reset_for_eval=True)
    batches = []
    while True:
      try:
        batches.append(inp.get_next())
      except StopIteration:
        break
    self.assertLen(batches, 3)
    np.testing.assert_array_equal(batches[-1].eval_sample_weights,
                                  [1, 1, 0, 0])
    inp.reset()
    np.testing.assert_array_equal(inp.get_next().image, batches[0].image)

  def test_resumes_from_state(self):
    inp = procedural(is_training=True, flip=True)
    inp.get_next()
    inp.get_next()
    state = inp.get_state()
    want = inp.get_next()
    other = procedural(is_training=True, flip=True)
    other.set_state(state)
    got = other.get_next()
    for k in want:
      np.testing.assert_array_equal(want[k], got[k])

  def test_flip_moves_image_and_maps_together(self):
    plain = procedural(image_size=16, image_width=24, batch_size=8).get_next()
    flipped = procedural(image_size=16, image_width=24, batch_size=8,
                         is_training=True, flip=True).get_next()
    num_flipped = 0
    for i in range(8):
      same = np.array_equal(plain.image[i], flipped.image[i])
      ref = plain if same else jax.tree_util.tree_map(
          lambda a, i=i: a[:, :, ::-1] if a.ndim >= 3 else a, plain)
      num_flipped += not same
      for k in ('image', 'label', 'depth', 'depth_valid'):
        np.testing.assert_array_equal(ref[k][i], flipped[k][i])
    self.assertTrue(0 < num_flipped < 8)

  def test_bad_config(self):
    with self.assertRaisesRegex(ValueError, "Unknown split='val'"):
      procedural(split='val')
    with self.assertRaisesRegex(ValueError, 'num_classes=1 must be >= 2'):
      procedural(num_classes=1)
    with self.assertRaisesRegex(ValueError, 'only flip; got '
                                'inception_crop=True'):
      procedural(inception_crop=True)
    with self.assertRaisesRegex(ValueError, 'reset_for_eval=True needs a '
                                'finite num_examples'):
      procedural(reset_for_eval=True)
    with self.assertRaisesRegex(ValueError,
                                r'image_size=\(8, 8\) must be an int'):
      procedural(image_size=8)


if __name__ == '__main__':
  absltest.main()
