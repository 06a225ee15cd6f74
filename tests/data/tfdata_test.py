# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Tests for the tf.data ImageFolder input and its TF image ops."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from PIL import Image
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import test_utils
import tensorflow as tf

from tests.data import input_util
from tests.data import resume_util
from vit22b_pax.data import folders
from vit22b_pax.data import real
from vit22b_pax.data import tfdata
from vit22b_pax.data import tfimage

instantiate = base_hyperparams.instantiate


def _smooth_image(rng, h, w):
  """A smooth colour image (so resamplers agree to a small error)."""
  y, x = np.mgrid[0:h, 0:w] / max(h, w)
  a, b, c = rng.uniform(0.5, 3.0, 3)
  img = np.stack([np.sin(a * x + b * y), np.cos(b * x - c * y),
                  np.sin(c * (x + y))], -1)
  return ((img + 1) * 127.5).astype(np.uint8)



class TfImageTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.dir = tmp.name
    self.rgb = (np.random.default_rng(1).random((7, 6, 3)) * 255).astype(
        np.uint8)

  @parameterized.parameters(
      ('L', 'png'), ('LA', 'png'), ('P', 'png'), ('RGBA', 'png'),
      ('RGB', 'png'), ('RGB', 'bmp'), ('P', 'gif'), ('I;16', 'png'),
      ('RGB', 'jpg'), ('L', 'jpg'), ('CMYK', 'jpg'))
  def test_decode_matches_pil_conversion(self, mode, ext):
    path = os.path.join(self.dir, f'x.{ext}')
    if mode == 'I;16':
      Image.fromarray((self.rgb[..., 0].astype(np.uint16) * 251)).save(path)
    else:
      Image.fromarray(self.rgb).convert(mode).save(path)
    got = tfimage.decode(tf.io.read_file(path)).numpy()
    with Image.open(path) as img:
      want = folders.to_float_rgb(img)
    # JPEG decoders (libjpeg-turbo in TF and in PIL) agree to a grey level.
    atol = 1.5 / 255 if ext == 'jpg' else 1e-6
    np.testing.assert_allclose(got, want, atol=atol)

  def test_inception_crop_is_seeded_and_sees_the_whole_image(self):
    img = np.zeros((60, 90, 3), np.uint8)
    img[:, 45:] = 255  # Left half black, right half white.
    path = os.path.join(self.dir, 'halves.jpg')
    Image.fromarray(img).save(path, quality=100)
    raw = tf.io.read_file(path)
    crops = [tfimage.decode_inception_crop(raw, 8, tf.constant([3, s],
                                                               tf.int64))
             for s in range(40)]
    again = tfimage.decode_inception_crop(raw, 8, tf.constant([3, 5],
                                                              tf.int64))
    np.testing.assert_array_equal(again.numpy(), crops[5].numpy())
    means = np.array([c.numpy().mean() for c in crops])
    # Crops are taken on the full 90-px-wide image: some fall entirely in
    # the black or the white half, which a centre-cropped image would mix.
    self.assertLess(means.min(), 0.05)
    self.assertGreater(means.max(), 0.95)
    self.assertEqual(crops[0].shape, (8, 8, 3))

  def test_central_crop(self):
    img = np.zeros((40, 80, 3), np.float32)
    img[:, 26:54] = 1.0  # A central white band.
    out = tfimage.decode_central_crop(tf.constant(img), 10, 0.5).numpy()
    # The centre square of side 0.5 x 40 covers columns 30..50, inside the
    # band, and is resized 20 -> 10.
    np.testing.assert_allclose(out, 1.0, atol=1e-6)
    img = np.roll(img, 26, axis=1)  # Band at 52..80: outside the crop.
    out = tfimage.decode_central_crop(tf.constant(img), 10, 0.5).numpy()
    np.testing.assert_allclose(out, 0.0, atol=1e-6)
    # A JPEG takes the decode_and_crop_jpeg branch: same window.
    path = os.path.join(self.dir, 'band.jpg')
    Image.fromarray((np.roll(img, -26, axis=1) * 255).astype(np.uint8)).save(
        path, quality=100)
    out = tfimage.decode_central_crop(tf.io.read_file(path), 10, 0.5).numpy()
    np.testing.assert_allclose(out, 1.0, atol=0.03)


class TfDataImageFolderInputTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.root = tmp.name
    rng = np.random.default_rng(0)
    for split, n in (('train', 6), ('test', 5)):
      for c in ('cat', 'dog'):
        os.makedirs(os.path.join(self.root, split, c))
        for i in range(n):
          ext = 'jpg' if i % 2 else 'png'
          Image.fromarray(_smooth_image(rng, 30 + 2 * i, 40)).save(
              os.path.join(self.root, split, c, f'{i}.{ext}'), quality=95)
    self.bad = os.path.join(self.root, 'test', 'dog', 'zz.jpg')
    with open(self.bad, 'wb') as f:
      f.write(b'\xff\xd8 truncated jpeg')

  def _input(self, cls=tfdata.TfDataImageFolderInput, **kw):
    kw.setdefault('batch_size', 4)
    kw.setdefault('image_size', 16)
    return instantiate(pax_fiddle.Config(cls, root=self.root, **kw))

  def test_eval_matches_numpy_path(self):
    kw = dict(split='test', reset_for_eval=True)
    with self.assertLogs(level='WARNING') as logs:
      fast = input_util.read_all(self._input(**kw))
    self.assertIn(self.bad, '\n'.join(logs.output))
    with self.assertLogs(level='WARNING'):
      ref = input_util.read_all(self._input(cls=real.ImageFolderInput, **kw))
    self.assertLen(fast, 3)  # 11 files, batch 4: 1 padding row.
    self.assertLen(ref, 3)
    for f, r in zip(fast, ref):
      self.assertEqual(sorted(f.keys()), sorted(r.keys()))
      for key in ('label', 'label_probs', 'eval_sample_weights',
                  'texture_label', 'subgroup'):
        self.assertArraysEqual(f[key], r[key])
      self.assertEqual(f.image.dtype, np.float32)
      # Same crop geometry; PIL and TF resamplers differ by a few levels.
      self.assertLess(np.abs(f.image - r.image).mean(), 0.03)
    weights = np.concatenate([b.eval_sample_weights for b in fast])
    self.assertArraysEqual(weights, np.float32([1] * 10 + [0, 0]))

  def test_training_is_seeded_and_resumes_exactly(self):
    kw = dict(is_training=True, inception_crop=True, flip=True,
              mixup_alpha=0.3, seed=3)
    a = self._input(**kw).get_next()
    b = self._input(**kw).get_next()
    c = self._input(**dict(kw, seed=4)).get_next()
    self.assertArraysEqual(a.image, b.image)
    self.assertFalse(np.array_equal(a.image, c.image))
    self.assertGreaterEqual(a.image.min(), -1.0)
    self.assertLessEqual(a.image.max(), 1.0)
    resume_util.assert_resumes(self, lambda: self._input(**kw), n=3, m=2)

  def test_hosts_are_disjoint_and_cover_the_eval_split(self):
    seen, hosts = [], []
    with self.assertLogs(level='WARNING'):  # The unreadable file.
      for h in range(2):
        hosts.append(input_util.read_all(self._input(
            split='test', reset_for_eval=True, batch_size=2,
            num_infeed_hosts=2, infeed_host_index=h)))
    for batches in hosts:
      self.assertLen(batches, 3)  # ceil(11 / 4) global batches.
      for b in batches:
        seen += [tuple(img.ravel()[:6]) for img, w in
                 zip(b.image, b.eval_sample_weights) if w > 0]
    self.assertLen(seen, 10)  # 11 files, one unreadable.
    self.assertLen(set(seen), 10)

  def test_training_replaces_unreadable_images(self):
    with self.assertLogs(level='WARNING'):
      batch = self._input(split='test', is_training=True,
                          batch_size=11).get_next()
    self.assertArraysEqual(batch.eval_sample_weights, np.ones(11, np.float32))
    self.assertGreater(np.abs(batch.image).reshape(11, -1).max(1).min(), 0)

  def test_multi_label_csv(self):
    with open(os.path.join(self.root, 'test', 'labels.csv'), 'w') as f:
      f.write('path,labels\ncat/0.png,cat;bird\ndog/1.jpg,dog\n'
              'dog/zz.jpg,bird\n')
    inp = self._input(split='test', labels_csv='labels.csv',
                      class_names=['bird', 'cat', 'dog'],
                      reset_for_eval=True)
    with self.assertLogs(level='WARNING'):
      b = inp.get_next()
    self.assertArraysEqual(b.label_probs, np.float32(
        [[1, 1, 0], [0, 0, 1], [1, 0, 0], [1, 1, 0]]))
    self.assertArraysEqual(b.eval_sample_weights, np.float32([1, 1, 0, 0]))

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, 'num_parallel_calls=-2'):
      self._input(num_parallel_calls=-2)
    with self.assertRaisesRegex(ValueError, 'prefetch_batches=-1'):
      self._input(prefetch_batches=-1)


if __name__ == '__main__':
  absltest.main()
