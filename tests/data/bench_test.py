# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Smoke test of the input benchmark (tiny sizes; no speed assertions)."""

import json
import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image

from vit22b_pax.data import bench


class BenchTest(absltest.TestCase):

  def test_writes_photos_and_json(self):
    with tempfile.TemporaryDirectory() as tmp:
      out = os.path.join(tmp, 'bench.json')
      photos = os.path.join(tmp, 'photos')
      self.assertEqual(bench.main([
          '--out', out, '--seconds', '0.05', '--repeats', '1',
          '--image_size', '16', '--batch_size', '4', '--num_images', '8',
          '--dir', photos]), 0)
      with open(out) as f:
        result = json.load(f)
      with Image.open(os.path.join(photos, 'train', 'class1',
                                   '00001.jpg')) as img:
        self.assertEqual(img.size, bench.PHOTO_SIZE)
        self.assertGreater(np.asarray(img).std(), 10)  # Not a flat image.
    self.assertLen(result['runs'], len(bench.VARIANTS))
    for run in result['runs']:
      self.assertGreater(run['images_per_s'], 0)
    self.assertLen(result['summary']['ratio_tfdata_over_numpy/train'][
        'per_repeat'], 1)
    self.assertEqual(result['machine']['cpu_count'], os.cpu_count())

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, '--repeats=0'):
      bench.main(['--repeats', '0'])
    with self.assertRaisesRegex(ValueError, '--num_images=2'):
      bench.main(['--num_images', '2'])


if __name__ == '__main__':
  absltest.main()
