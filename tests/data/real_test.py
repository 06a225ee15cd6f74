# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Tests for the PIL/NumPy real-data inputs (ImageFolder, Fashion-MNIST)."""

import gzip
import os
import struct
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import test_utils

from tests.data import input_util
from tests.data import resume_util
from vit22b_pax.data import real

instantiate = base_hyperparams.instantiate
_COLORS = {'cat': (255, 0, 0), 'dog': (0, 0, 255)}



class ImageFolderInputTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.root = tmp.name
    for name, rgb in _COLORS.items():
      os.makedirs(os.path.join(self.root, 'train', name))
      for i, (h, w, ext) in enumerate([(20, 30, 'png'), (30, 20, 'jpg'),
                                       (16, 16, 'PNG')]):
        img = Image.fromarray(np.full((h, w, 3), rgb, np.uint8))
        img.save(os.path.join(self.root, 'train', name, f'{i}.{ext}'))
    self.bad = os.path.join(self.root, 'train', 'dog', 'zz_bad.png')
    with open(self.bad, 'wb') as f:
      f.write(b'\x89PNG not really')
    with open(os.path.join(self.root, 'train', 'cat', 'notes.txt'), 'w') as f:
      f.write('ignored')

  def _input(self, **kw):
    kw.setdefault('batch_size', 4)
    kw.setdefault('image_size', 8)
    return instantiate(pax_fiddle.Config(real.ImageFolderInput,
                                         root=self.root, **kw))

  def test_eval_pass_skips_corrupt_file(self):
    inp = self._input(reset_for_eval=True)
    self.assertEqual(inp.class_names, ('cat', 'dog'))
    self.assertEqual(inp.num_classes, 2)
    with self.assertLogs(level='WARNING') as logs:
      batches = input_util.read_all(inp)
    self.assertLen(batches, 2)  # 7 files, batch 4.
    self.assertIn('1 unreadable image', logs.output[0])
    self.assertIn(self.bad, logs.output[0])
    self.assertEqual(inp.num_bad_files, 1)
    labels = np.concatenate([b.label for b in batches])
    weights = np.concatenate([b.eval_sample_weights for b in batches])
    self.assertArraysEqual(labels[:7], np.int32([0, 0, 0, 1, 1, 1, 1]))
    self.assertArraysEqual(weights, np.float32([1, 1, 1, 1, 1, 1, 0, 0]))
    images = np.concatenate([b.image for b in batches])
    for i, name in enumerate(['cat'] * 3 + ['dog'] * 3):
      expected = np.array(_COLORS[name], np.float32) / 255 * 2 - 1
      self.assertAllClose(images[i], np.broadcast_to(expected, (8, 8, 3)),
                          atol=0.05)  # JPEG colour error.
    b = batches[0]
    self.assertArraysEqual(b.texture_label, np.full(4, -1, np.int32))
    self.assertArraysEqual(b.subgroup, np.zeros(4, np.int32))
    self.assertArraysEqual(b.label_probs, np.eye(2, dtype=np.float32)[
        b.label])

  def test_training_replaces_corrupt_file(self):
    inp = self._input(is_training=True, batch_size=7, flip=True,
                      inception_crop=True)
    with self.assertLogs(level='WARNING'):
      batch = inp.get_next()
    self.assertArraysEqual(batch.eval_sample_weights, np.ones(7, np.float32))
    self.assertGreater(np.abs(batch.image).min(), 0.5)  # No blank images.
    self.assertEqual(batch.image.shape, (7, 8, 8, 3))

  def test_missing_and_empty_directories(self):
    with self.assertRaisesRegex(ValueError, 'does not exist.*<class>'):
      self._input(split='validation')
    os.makedirs(os.path.join(self.root, 'empty', 'cat'))
    with self.assertRaisesRegex(ValueError, 'empty.*no class folders'):
      self._input(split='empty')
    with self.assertRaisesRegex(ValueError, 'num_classes=1'):
      self._input(num_classes=1)
    with self.assertRaisesRegex(ValueError, 'crop_fraction=0'):
      self._input(crop_fraction=0.0)

  def test_eval_split_uses_train_class_ids(self):
    os.makedirs(os.path.join(self.root, 'test', 'dog'))
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(
        os.path.join(self.root, 'test', 'dog', 'a.png'))
    inp = self._input(split='test', reset_for_eval=True)
    self.assertEqual(inp.class_names, ('cat', 'dog'))
    self.assertEqual(inp.get_next().label.tolist(), [1, 1, 1, 1])
    os.makedirs(os.path.join(self.root, 'test', 'zebra'))
    with self.assertRaisesRegex(ValueError, "zebra"):
      self._input(split='test')

  def test_exact_resume(self):
    resume_util.assert_resumes(
        self, lambda: self._input(is_training=True, batch_size=3,
                                  inception_crop=True, flip=True,
                                  mixup_alpha=0.4, num_infeed_hosts=2,
                                  infeed_host_index=1), n=3, m=4)

  def test_all_unreadable_is_an_error(self):
    os.makedirs(os.path.join(self.root, 'broken', 'cat'))
    for i in range(5):
      with open(os.path.join(self.root, 'broken', 'cat', f'{i}.jpg'),
                'wb') as f:
        f.write(b'not a jpeg')
    with self.assertLogs(level='WARNING'):
      with self.assertRaisesRegex(ValueError, r'5 of the 5 images .*broken.*'
                                  'max_unreadable_fraction=0.5'):
        input_util.read_all(self._input(split='broken', reset_for_eval=True))
    with self.assertLogs(level='WARNING'):
      with self.assertRaisesRegex(ValueError, '5 of the 5'):
        self._input(split='broken', is_training=True).get_next()
    # The threshold is configurable: 1.0 never fails (weights stay 0).
    with self.assertLogs(level='WARNING'):
      batches = input_util.read_all(self._input(
          split='broken', reset_for_eval=True, max_unreadable_fraction=1.0))
    self.assertEqual(sum(b.eval_sample_weights.sum() for b in batches), 0)

  def test_16_bit_png(self):
    os.makedirs(os.path.join(self.root, 'deep', 'cat'))
    Image.fromarray(np.full((12, 10), 65535, np.uint16)).save(
        os.path.join(self.root, 'deep', 'cat', 'white.png'))
    Image.fromarray(np.full((12, 10), 13107, np.uint16)).save(
        os.path.join(self.root, 'deep', 'cat', 'grey.png'))
    batch = self._input(split='deep', reset_for_eval=True,
                        batch_size=2).get_next()
    self.assertAllClose(batch.image[0], np.full((8, 8, 3), 0.2 * 2 - 1),
                        atol=1e-5)  # grey.png: 13107 / 65535 = 0.2.
    self.assertAllClose(batch.image[1], np.ones((8, 8, 3)), atol=1e-5)

  def test_multi_label_csv(self):
    with open(os.path.join(self.root, 'train', 'labels.csv'), 'w') as f:
      f.write('path,labels\ncat/0.png,cat;dog\ndog/1.jpg,dog\n'
              'dog/2.PNG,\n')
    inp = self._input(labels_csv='labels.csv', reset_for_eval=True,
                      batch_size=4, num_classes=3)
    self.assertTrue(inp.multi_label)
    self.assertEqual(inp.class_names, ('cat', 'dog'))
    b = inp.get_next()
    self.assertArraysEqual(b.label_probs, np.float32(
        [[1, 1, 0], [0, 1, 0], [0, 0, 0], [1, 1, 0]]))
    self.assertArraysEqual(b.label, np.int32([0, 1, -1, 0]))
    self.assertArraysEqual(b.eval_sample_weights, np.float32([1, 1, 1, 0]))


class FashionMnistInputTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    if not os.path.isdir(real.FASHION_MNIST_DIR):
      self.skipTest(f'{real.FASHION_MNIST_DIR} is absent: apt-get install '
                    'dataset-fashion-mnist')

  def test_test_split(self):
    inp = instantiate(pax_fiddle.Config(
        real.FashionMnistInput, split='test', batch_size=5, image_size=32,
        num_examples=10, reset_for_eval=True))
    self.assertEqual(inp.epoch_size(), 10)
    batch = inp.get_next()
    # First labels of the official t10k file.
    self.assertArraysEqual(batch.label, np.int32([9, 2, 1, 1, 6]))
    self.assertEqual(batch.image.shape, (5, 32, 32, 3))
    self.assertArraysEqual(batch.image[..., 0], batch.image[..., 2])
    raw = real.read_idx(os.path.join(real.FASHION_MNIST_DIR,
                                     't10k-images-idx3-ubyte.gz'))
    self.assertEqual(raw.shape, (10000, 28, 28))
    pad = instantiate(pax_fiddle.Config(
        real.FashionMnistInput, split='test', batch_size=2, image_size=32,
        fit='pad')).get_next()
    self.assertAllClose(pad.image[0, 2:30, 2:30, 0],
                        raw[0].astype(np.float32) / 255 * 2 - 1)
    self.assertTrue(np.all(pad.image[:, :2] == -1.0))


  def test_exact_resume(self):
    make = lambda: instantiate(pax_fiddle.Config(
        real.FashionMnistInput, split='train', batch_size=4, image_size=16,
        is_training=True, flip=True, mixup_alpha=0.2))
    resume_util.assert_resumes(self, make, n=2, m=3)


class FashionMnistErrorsTest(test_utils.TestCase):

  def test_missing_files_and_bad_idx(self):
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    with self.assertRaisesRegex(ValueError, 'Fashion-MNIST files missing'):
      real.FashionMnistInput(data_dir=tmp.name, batch_size=2)
    with self.assertRaisesRegex(ValueError, "split='val'"):
      real.FashionMnistInput(data_dir=tmp.name, batch_size=2, split='val')
    bad = os.path.join(tmp.name, 'bad.gz')
    with gzip.open(bad, 'wb') as f:
      f.write(struct.pack('>II', 1234, 0))
    with self.assertRaisesRegex(ValueError, 'magic 1234'):
      real.read_idx(bad)


if __name__ == '__main__':
  absltest.main()
