# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The one tf.data stream: 2-host evaluation, input seed and resume, for the
image, dense and video TFDS inputs and the tf.data ImageFolder."""

import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import test_utils
import tensorflow_datasets as tfds

from tests.data import input_util
from tests.data import resume_util
from vit22b_pax.data import dense_real
from vit22b_pax.data import tfdata
from vit22b_pax.data import tfds_input
from vit22b_pax.data import tfds_stream
from vit22b_pax.data import video_real

instantiate = base_hyperparams.instantiate
# 9 examples on 2 hosts: 5 and 4, so with batches of 2 host 0 reads 3
# batches (the last half padding) and host 1 two, then one all padding.
_N, _B = 9, 2


def _frame(i, h=6, w=8):
  """Example i's image: constant 20 i (so it is identifiable)."""
  return np.full((h, w, 3), 20 * i, np.uint8)


class TfdsStreamTest(test_utils.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls._tmp = tempfile.TemporaryDirectory()
    d = cls.data_dir = cls._tmp.name
    image = tfds.features.Image(shape=(6, 8, 3))
    label = tfds.features.ClassLabel(num_classes=_N)
    splits = lambda make: {s: [make(i) for i in range(_N)]
                           for s in ('test', 'train')}
    input_util.write_tfds(d, 'stream_img', {'image': image, 'label': label},
                          splits(lambda i: {'image': _frame(i), 'label': i}))
    input_util.write_tfds(
        d, 'stream_seg', {'image': image, 'annotation': image},
        splits(lambda i: {'image': _frame(i),
                          'annotation': np.full((6, 8, 3), i, np.uint8)}))
    input_util.write_tfds(
        d, 'stream_vid', {'video': tfds.features.Video(shape=(None, 6, 8, 3)),
                          'label': label},
        splits(lambda i: {'video': np.stack([_frame(i)] * (2 + i % 3)),
                          'label': i}))
    cls.folder = os.path.join(d, 'folder')
    for i in range(_N):
      os.makedirs(os.path.join(cls.folder, 'test', f'c{i}'))
      Image.fromarray(_frame(i)).save(
          os.path.join(cls.folder, 'test', f'c{i}', 'a.png'))

  @classmethod
  def tearDownClass(cls):
    cls._tmp.cleanup()
    super().tearDownClass()

  def _input(self, kind, **kw):
    kw.setdefault('batch_size', _B)
    kw.setdefault('split', 'test')
    if kind == 'folder':
      kw.update(root=self.folder, class_split='test', image_size=4,
                crop_fraction=1.0)
      return instantiate(pax_fiddle.Config(tfdata.TfDataImageFolderInput,
                                           **kw))
    kw['data_dir'] = self.data_dir
    if kind == 'image':
      return instantiate(pax_fiddle.Config(
          tfds_input.TfdsInput, dataset_name='stream_img', num_classes=_N,
          image_size=4, crop_fraction=1.0, **kw))
    if kind == 'dense':
      return instantiate(pax_fiddle.Config(
          dense_real.DenseTfdsInput, dataset_name='stream_seg',
          num_classes=_N, image_size=4, **kw))
    return instantiate(pax_fiddle.Config(
        video_real.TfdsVideoInput, dataset_name='stream_vid', num_classes=_N,
        num_frames=2, image_size=4, **kw))

  @staticmethod
  def _ids(kind, batch):
    """Each row's example id (from its label)."""
    if kind == 'dense':
      return batch.label[:, 0, 0]
    return batch.label

  def test_two_hosts_count_every_eval_example_once(self):
    for kind in ('image', 'dense', 'video', 'folder'):
      with self.subTest(kind):
        seen, num_batches = [], set()
        for host in (0, 1):
          inp = self._input(kind, reset_for_eval=True, num_infeed_hosts=2,
                            infeed_host_index=host)
          batches = input_util.read_all(inp)
          num_batches.add(len(batches))
          for b in batches:
            w = b.eval_sample_weights
            self.assertTrue(np.all((w == 0) | (w == 1)), w)
            seen += list(self._ids(kind, b)[w == 1])
            key = 'video' if kind == 'video' else 'image'
            # A real row shows its own example (image value 20 id).
            for row, i in zip(b[key][w == 1], self._ids(kind, b)[w == 1]):
              np.testing.assert_allclose(row, 20 * i / 255 * 2 - 1,
                                         atol=1e-5)
        self.assertEqual(num_batches, {3})  # Both hosts stop together.
        self.assertEqual(sorted(seen), list(range(_N)))

  def test_host_sizes_keep_the_remainder_in_eval_only(self):
    sizes = lambda **kw: [self._input('dense', num_infeed_hosts=2,
                                      infeed_host_index=h, **kw).host_sizes
                          for h in (0, 1)]
    self.assertEqual(sizes(reset_for_eval=True), [(5, 4)] * 2)
    self.assertEqual(sizes(is_training=True), [(4, 4)] * 2)

  def test_shuffle_follows_the_input_seed(self):
    for kind in ('image', 'dense', 'video'):
      with self.subTest(kind):
        order = lambda **kw: np.concatenate([
            self._ids(kind, b) for b in (lambda inp: [
                inp.get_next() for _ in range(3)])(self._input(
                    kind, split='train', is_training=True, shuffle_buffer=_N,
                    **kw))])
        self.assertArraysEqual(order(input_random_seed=4),
                               order(input_random_seed=4))
        self.assertFalse(np.array_equal(order(input_random_seed=4),
                                        order(input_random_seed=5)))
        self.assertFalse(np.array_equal(order(), order(
            num_infeed_hosts=2, infeed_host_index=1)))

  def test_resumes_bit_identically(self):
    resume_util.assert_resumes(
        self, lambda: self._input('video', split='train', is_training=True,
                                  shuffle_buffer=4, input_random_seed=2),
        n=3, m=4, differ_key='video')
    # Evaluation on the short host, across its all-padding batch.
    resume_util.assert_resumes(
        self, lambda: self._input('dense', reset_for_eval=True,
                                  num_infeed_hosts=2, infeed_host_index=1),
        n=1, m=2)
    with self.assertRaisesRegex(ValueError, 'not a TfdsVideoInput state'):
      self._input('video').set_state(
          self._input('dense').get_state())

  def test_seed_base(self):
    self.assertEqual(tfds_stream.seed_base(2, None), 2 * 1_000_003)
    self.assertEqual(tfds_stream.seed_base(2, 5, host=1),
                     (2 * 1_000_003 + 5) * 1_000_003 + 1)


if __name__ == '__main__':
  absltest.main()
