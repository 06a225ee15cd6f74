# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Tests for the tf.data TFDS input on a small data set prepared on disk."""

import io
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import test_utils
import tensorflow as tf
import tensorflow_datasets as tfds

from tests.data import input_util
from tests.data import resume_util
from vit22b_pax.data import real
from vit22b_pax.data import tfds_input

instantiate = base_hyperparams.instantiate
_N_TRAIN, _N_TEST, _K = 40, 13, 5


def _png(img):
  buf = io.BytesIO()
  Image.fromarray(img).save(buf, format='PNG')
  return buf.getvalue()


def _prepare(data_dir):
  """Writes 'tiny' (TFRecords): image, label, labels (multi), raw bytes
  (PNG, or undecodable for every 4th example)."""
  rng = np.random.default_rng(0)
  n = _N_TRAIN
  images = (rng.random((n, 20, 24, 3)) * 255).astype(np.uint8)
  raw = [_png(im) if i % 4 else b'not an image' for i, im in
         enumerate(images)]
  ds = tf.data.Dataset.from_tensor_slices({
      'image': images, 'label': np.arange(n) % _K,
      'labels': tf.ragged.constant([[i % _K, (i + 2) % _K][:i % 3]
                                    for i in range(n)]),
      'raw': raw})
  features = tfds.features.FeaturesDict({
      'image': tfds.features.Image(shape=(20, 24, 3)),
      'label': tfds.features.ClassLabel(num_classes=_K),
      'labels': tfds.features.Sequence(
          tfds.features.ClassLabel(num_classes=_K)),
      'raw': tfds.features.Tensor(shape=(), dtype=tf.string)})
  tfds.dataset_builders.TfDataBuilder(
      name='tiny', version='1.0.0', data_dir=data_dir, features=features,
      split_datasets={'train': ds, 'test': ds.take(_N_TEST)},
      config='c').download_and_prepare()



class TfdsInputTest(test_utils.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls._tmp = tempfile.TemporaryDirectory()
    cls.data_dir = cls._tmp.name
    _prepare(cls.data_dir)

  @classmethod
  def tearDownClass(cls):
    cls._tmp.cleanup()
    super().tearDownClass()

  def _input(self, **kw):
    kw.setdefault('batch_size', 4)
    kw.setdefault('image_size', 8)
    kw.setdefault('num_classes', _K)
    return instantiate(pax_fiddle.Config(
        tfds_input.TfdsInput, dataset_name='tiny/c:1.0.0',
        data_dir=self.data_dir, **kw))

  def _stored(self, split):
    """The split's examples in stored order (TFDS shuffles when writing)."""
    return list(tfds.as_numpy(tfds.load('tiny/c:1.0.0', split=split,
                                        data_dir=self.data_dir)))

  def test_eval_pass_pads_last_batch(self):
    batches = input_util.read_all(
        self._input(split='test', reset_for_eval=True))
    self.assertLen(batches, 4)
    weights = np.concatenate([b.eval_sample_weights for b in batches])
    self.assertArraysEqual(weights, np.float32([1] * _N_TEST + [0] * 3))
    labels = np.concatenate([b.label for b in batches])[:_N_TEST]
    order = [int(ex['label']) for ex in self._stored('test')]
    self.assertArraysEqual(labels, np.int32(order))
    self.assertArraysEqual(batches[0].label_probs,
                           np.eye(_K, dtype=np.float32)[batches[0].label])
    self.assertEqual(batches[0].image.shape, (4, 8, 8, 3))
    self.assertArraysEqual(batches[0].texture_label, np.full(4, -1))

  def test_hosts_are_disjoint_and_stop_together(self):
    hosts = [input_util.read_all(self._input(split='test', reset_for_eval=True,
                                   batch_size=2, num_infeed_hosts=3,
                                   infeed_host_index=h)) for h in range(3)]
    self.assertEqual({len(b) for b in hosts}, {3})  # ceil(5 / 2) each.
    self.assertEqual(sum(b.eval_sample_weights.sum() for bs in hosts
                         for b in bs), _N_TEST)
    labels = sorted(int(l) for bs in hosts for b in bs
                    for l, w in zip(b.label, b.eval_sample_weights) if w)
    self.assertEqual(labels, sorted(np.arange(_N_TEST) % _K))

  def test_training_resumes_exactly(self):
    make = lambda: self._input(split='train', is_training=True,
                               inception_crop=True, flip=True,
                               mixup_alpha=0.2, shuffle_buffer=16, seed=5)
    a, b = make().get_next(), make().get_next()
    self.assertArraysEqual(a.image, b.image)
    # 12 batches of 4 cross the 40-example epoch boundary.
    resume_util.assert_resumes(self, make, n=7, m=5)
    with self.assertRaisesRegex(ValueError, 'not a TfdsInput state'):
      make().set_state(b'{"step": 3}')

  def test_multi_label_sequence_feature(self):
    inp = self._input(split='test', label_key='labels', reset_for_eval=True)
    self.assertTrue(inp.multi_label)
    b = inp.get_next()
    khot = np.zeros((4, _K), np.float32)
    for i, ex in enumerate(self._stored('test')[:4]):
      khot[i, ex['labels']] = 1
    self.assertArraysEqual(b.label_probs, khot)
    self.assertArraysEqual(b.label, np.where(
        khot.any(1), khot.argmax(1), -1).astype(np.int32))
    self.assertGreater(khot.sum(1).max(), 1)  # Some row has 2 labels.
    self.assertEqual(khot.sum(1).min(), 0)  # Some row has none.

  def test_undecodable_images(self):
    inp = self._input(split='test', image_key='raw', reset_for_eval=True)
    with self.assertLogs(level='WARNING') as logs:
      batches = input_util.read_all(inp)
    self.assertIn('unreadable', logs.output[0])
    weights = np.concatenate([b.eval_sample_weights for b in batches])
    expected = np.float32([ex['raw'] != b'not an image'
                           for ex in self._stored('test')] + [0] * 3)
    self.assertArraysEqual(weights, expected)
    with self.assertLogs(level='WARNING'):
      with self.assertRaisesRegex(ValueError, '4 of the 13 .*'
                                  'max_unreadable_fraction=0.2'):
        input_util.read_all(self._input(split='test', image_key='raw',
                              reset_for_eval=True,
                              max_unreadable_fraction=0.2))

  def test_errors(self):
    with self.assertRaisesRegex(ValueError, "'tiny/c:1.0.0' has no feature "
                                "'img'"):
      self._input(image_key='img')
    with self.assertRaisesRegex(ValueError, 'has 5 classes .* num_classes=3'):
      self._input(num_classes=3)
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    with self.assertRaisesRegex(ValueError, "'mnist'.*not found"):
      real.TfdsInput(dataset_name='mnist', data_dir=tmp.name, batch_size=2)
    with self.assertRaisesRegex(ValueError, 'dataset_name'):
      real.TfdsInput(batch_size=2)


if __name__ == '__main__':
  absltest.main()
