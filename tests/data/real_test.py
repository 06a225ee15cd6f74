# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Tests for the real-data inputs (ImageFolder, Fashion-MNIST, TFDS)."""

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

from vit22b_pax.data import real

instantiate = base_hyperparams.instantiate
_COLORS = {'cat': (255, 0, 0), 'dog': (0, 0, 255)}


def _read_all(inp):
  batches = []
  while True:
    try:
      batches.append(inp.get_next())
    except StopIteration:
      return batches


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
      batches = _read_all(inp)
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


class TfdsInputTest(test_utils.TestCase):

  def test_mock_mnist_eval_pass(self):
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    with tfds.testing.mock_data(num_examples=6,
                                policy=tfds.testing.MockPolicy.USE_CODE):
      inp = instantiate(pax_fiddle.Config(
          real.TfdsInput, dataset_name='mnist', split='test', batch_size=4,
          image_size=12, num_classes=10, reset_for_eval=True))
      batches = _read_all(inp)
    self.assertLen(batches, 2)
    self.assertArraysEqual(batches[1].eval_sample_weights,
                           np.float32([1, 1, 0, 0]))
    self.assertEqual(batches[0].image.shape, (4, 12, 12, 3))
    self.assertGreaterEqual(batches[0].image.min(), -1.0)
    self.assertLessEqual(batches[0].image.max(), 1.0)
    self.assertTrue(np.all((batches[0].label >= 0)
                           & (batches[0].label < 10)))

  def test_missing_dataset(self):
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    with self.assertRaisesRegex(ValueError, "'mnist'.*not found"):
      real.TfdsInput(dataset_name='mnist', data_dir=tmp.name, batch_size=2)
    with self.assertRaisesRegex(ValueError, 'dataset_name'):
      real.TfdsInput(batch_size=2)


if __name__ == '__main__':
  absltest.main()
