# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Named few-shot data sets: inputs, names, errors."""

import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image
from praxis import base_hyperparams

from vit22b_pax.eval import fewshot_data

instantiate = base_hyperparams.instantiate


def _read_labels(input_p):
  inp = instantiate(input_p)
  labels = []
  while True:
    try:
      b = inp.get_next()
    except StopIteration:
      return np.concatenate(labels)
    labels.append(b.label[b.eval_sample_weights > 0])


class FewshotDataTest(absltest.TestCase):

  def test_procedural_pool_and_test_are_fixed_disjoint_passes(self):
    d = fewshot_data.fewshot_data('procedural', 16, 32, 50, 40)
    self.assertEqual((d.name, d.num_classes), ('procedural', 10))
    self.assertEqual(d.pool.name, 'fewshot_procedural_pool')
    self.assertEqual(d.test.name, 'fewshot_procedural')
    pool = _read_labels(d.pool)
    self.assertLen(pool, 50)
    np.testing.assert_array_equal(pool, _read_labels(d.pool))
    pool_img = instantiate(d.pool).get_next().image
    test_img = instantiate(d.test).get_next().image
    self.assertFalse(np.array_equal(pool_img, test_img))
    self.assertLen(_read_labels(d.test), 40)

  def test_folder(self):
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    root = os.path.join(tmp.name, 'my pets')
    for split in ('train', 'test'):
      for c in ('cat', 'dog'):
        os.makedirs(os.path.join(root, split, c))
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(
            os.path.join(root, split, c, '0.png'))
    d = fewshot_data.fewshot_data(f'folder:{root}', 8, 4, 0, 0)
    self.assertEqual((d.name, d.num_classes), ('my_pets', 2))
    np.testing.assert_array_equal(_read_labels(d.pool), [0, 1])
    os.makedirs(os.path.join(root, 'test', 'eel'))
    with self.assertRaisesRegex(ValueError, r"\['eel'\] .* not in the class"):
      fewshot_data.fewshot_data(f'folder:{root}', 8, 4)

  def test_errors(self):
    with self.assertRaisesRegex(ValueError, "Unknown few-shot data set 'x'"):
      fewshot_data.fewshot_data('x', 16, 4)
    with self.assertRaisesRegex(ValueError, 'infinite'):
      fewshot_data.fewshot_data('procedural', 16, 4, 0, 10)
    with self.assertRaisesRegex(ValueError, 'Fashion-MNIST file.*missing'):
      fewshot_data.fewshot_data('fashion_mnist', 28, 4,
                                fashion_mnist_dir='/nonexistent')
    with self.assertRaisesRegex(ValueError, 'does not exist'):
      fewshot_data.fewshot_data('folder:/nonexistent', 16, 4)
    self.assertEqual(fewshot_data.parse_names(' procedural, fashion_mnist'),
                     ('procedural', 'fashion_mnist'))
    with self.assertRaisesRegex(ValueError, 'duplicates'):
      fewshot_data.parse_names('procedural,procedural')
    with self.assertRaisesRegex(ValueError, 'No few-shot data set'):
      fewshot_data.parse_names('')


if __name__ == '__main__':
  absltest.main()
