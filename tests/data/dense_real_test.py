# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the real-data dense inputs on small data written here."""

import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import test_utils

from tests.data import input_util
from tests.data import resume_util
from vit22b_pax.data import dense_real

instantiate = base_hyperparams.instantiate
IGN = dense_real.IGNORE



def _save_png(path, array, mode=None):
  Image.fromarray(array, mode).save(path)


class SegmentationFolderTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.root = tmp.name
    self.images = os.path.join(self.root, 'images', 'training')
    self.masks = os.path.join(self.root, 'annotations', 'training')
    os.makedirs(self.images)
    os.makedirs(self.masks)
    self.classes = os.path.join(self.root, 'classes.txt')
    with open(self.classes, 'w') as f:
      f.write('wall\nfloor\nsky\n')
    # ADE-style: 0 = other (ignored), 1..3 = classes 0..2. 8x12 images.
    self.raw = []
    for i in range(3):
      img = np.zeros((8, 12, 3), np.uint8)
      img[:, :, i] = 200
      mask = np.zeros((8, 12), np.uint8)
      mask[:, 4:8] = 1 + i
      mask[:, 8:] = 3
      mask[0, 0] = 0
      _save_png(os.path.join(self.images, f'ade_{i}.png'), img)
      _save_png(os.path.join(self.masks, f'ade_{i}.png'), mask)
      self.raw.append(mask)

  def _input(self, **kw):
    kw.setdefault('batch_size', 2)
    kw.setdefault('image_size', 8)
    kw.setdefault('image_width', 12)
    return instantiate(pax_fiddle.Config(
        dense_real.SegmentationFolderInput, name='seg',
        image_dir=self.images, mask_dir=self.masks, class_list=self.classes,
        reduce_zero_label=True, **kw))

  def test_ade_layout_eval_pass(self):
    inp = self._input(reset_for_eval=True)
    self.assertEqual(inp.class_names, ('wall', 'floor', 'sky'))
    self.assertEqual(inp.num_classes, 3)
    batches = input_util.read_all(inp)
    self.assertLen(batches, 2)
    np.testing.assert_array_equal(batches[1].eval_sample_weights, [1, 0])
    labels = np.concatenate([b.label for b in batches])[:3]
    want = np.stack([np.where(m == 0, IGN, m.astype(np.int32) - 1)
                     for m in self.raw])
    np.testing.assert_array_equal(labels, want)
    self.assertEqual(batches[0].image.shape, (2, 8, 12, 3))
    self.assertAllClose(batches[0].image[1, 0, 0], [-1, 200 / 127.5 - 1, -1])

  def test_resize_keeps_classes_aligned(self):
    inp = self._input(reset_for_eval=True, image_size=4, image_width=4)
    b = inp.get_next()
    self.assertEqual(b.label.shape, (2, 4, 4))
    # Covering 4x4 from 8x12: nearest to 4x6 keeps source columns 1, 3, 5,
    # 7, 9, 11 (other, other, i, i, 2, 2), the crop columns 1..4 of those.
    for i in range(2):
      np.testing.assert_array_equal(b.label[i], [[IGN, i, i, 2]] * 4)

  def test_pascal_layout_palette_and_split_file(self):
    jpeg = os.path.join(self.root, 'JPEGImages')
    seg = os.path.join(self.root, 'SegmentationClass')
    os.makedirs(jpeg)
    os.makedirs(seg)
    for stem in ('2007_000032', '2007_000039', 'unused'):
      _save_png(os.path.join(jpeg, stem + '.png'),
                np.full((6, 6, 3), 90, np.uint8))
      mask = Image.fromarray(np.array([[0, 1, 255, 2, 2, 0]] * 6, np.uint8),
                             'P')
      mask.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * 759)
      mask.save(os.path.join(seg, stem + '.png'))
    split = os.path.join(self.root, 'train.txt')
    with open(split, 'w') as f:
      f.write('2007_000032\n2007_000039\n')
    inp = instantiate(pax_fiddle.Config(
        dense_real.SegmentationFolderInput, name='voc', image_dir=jpeg,
        mask_dir=seg, class_list=self.classes, split_file=split,
        batch_size=2, image_size=6, reset_for_eval=True))
    batches = input_util.read_all(inp)
    self.assertLen(batches, 1)
    np.testing.assert_array_equal(batches[0].label[0, 0],
                                  [0, 1, IGN, 2, 2, 0])

  def test_resumes_from_state(self):
    inp = self._input(is_training=True, flip=True)
    inp.get_next()
    state = inp.get_state()
    want = inp.get_next()
    other = self._input(is_training=True, flip=True)
    other.set_state(state)
    got = other.get_next()
    for k in want:
      np.testing.assert_array_equal(want[k], got[k])

  def test_size_mismatch(self):
    _save_png(os.path.join(self.masks, 'ade_1.png'),
              np.zeros((8, 10), np.uint8))
    with self.assertRaisesRegex(ValueError, r'Size mismatch: image .*ade_1'
                                r'.png.* is 8x12 \(HxW\) but .*ade_1.png.* '
                                'is 8x10'):
      self._input()

  def test_missing_mask(self):
    os.remove(os.path.join(self.masks, 'ade_2.png'))
    with self.assertRaisesRegex(ValueError, r'ade_2.png.* has no .png '
                                'partner'):
      self._input()

  def test_value_outside_class_list(self):
    mask = self.raw[1].copy()
    mask[3, 3] = 7
    _save_png(os.path.join(self.masks, 'ade_1.png'), mask)
    inp = self._input(reset_for_eval=True, batch_size=3)
    with self.assertRaisesRegex(ValueError, r'ade_1.png: mask value 7 is '
                                r'outside the 3 classes of the class list '
                                r'\(values 1..3\) and not in '
                                r'ignore_values=\(255,\)'):
      inp.get_next()

  def test_rgb_mask(self):
    _save_png(os.path.join(self.masks, 'ade_0.png'),
              np.zeros((8, 12, 3), np.uint8))
    inp = self._input(reset_for_eval=True)
    with self.assertRaisesRegex(ValueError, "mask mode 'RGB'; expected a "
                                'single-channel or palette PNG'):
      inp.get_next()

  def test_bad_class_list(self):
    with open(self.classes, 'w') as f:
      f.write('wall\n\nsky\n')
    with self.assertRaisesRegex(ValueError, 'one class per line, without '
                                'blank lines'):
      self._input()


class DepthFolderTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.images = os.path.join(tmp.name, 'rgb')
    self.depths = os.path.join(tmp.name, 'depth')
    os.makedirs(self.images)
    os.makedirs(self.depths)
    for i in range(2):
      _save_png(os.path.join(self.images, f'{i}.jpg'.replace('.jpg', '.png')),
                np.full((6, 8, 3), 50 * i, np.uint8))
    self.png = np.arange(48, dtype=np.uint16).reshape(6, 8) * 250
    self.png[0, 0] = 0  # Hole.
    Image.fromarray(self.png).save(os.path.join(self.depths, '0.png'))
    npy = np.linspace(0.5, 9.0, 48).reshape(6, 8).astype(np.float32)
    npy[1, 1] = np.nan
    npy[2, 2] = np.inf
    npy[3, 3] = 0.0
    np.save(os.path.join(self.depths, '1.npy'), npy)
    self.npy = npy

  def _input(self, **kw):
    kw.setdefault('batch_size', 2)
    kw.setdefault('image_size', 6)
    kw.setdefault('image_width', 8)
    return instantiate(pax_fiddle.Config(
        dense_real.DepthFolderInput, name='depth', image_dir=self.images,
        depth_dir=self.depths, reset_for_eval=True, **kw))

  def test_png_and_npy_with_invalid_pixels_masked(self):
    b = self._input().get_next()
    self.assertEqual(set(b), {'image', 'depth', 'depth_valid',
                              'eval_sample_weights'})
    want0 = self.png.astype(np.float32) / 1000.0
    np.testing.assert_allclose(b.depth[0], want0, rtol=1e-6)
    self.assertEqual(b.depth_valid[0, 0, 0], 0.0)
    self.assertEqual(b.depth_valid[0].sum(), 47)
    ok = np.isfinite(self.npy) & (self.npy > 0)
    np.testing.assert_array_equal(b.depth_valid[1], ok.astype(np.float32))
    np.testing.assert_allclose(b.depth[1], np.where(ok, self.npy, 0.0))

  def test_negative_depth(self):
    np.save(os.path.join(self.depths, '1.npy'),
            -np.ones((6, 8), np.float32))
    with self.assertRaisesRegex(ValueError, r'1.npy: negative depth -1.0'):
      self._input().get_next()

  def test_size_mismatch_npy(self):
    np.save(os.path.join(self.depths, '1.npy'), np.ones((6, 9), np.float32))
    with self.assertRaisesRegex(ValueError, r'is 6x8 \(HxW\) but .*1.npy.* '
                                'is 6x9'):
      self._input()

  def test_pickled_npy_is_refused(self):
    np.save(os.path.join(self.depths, '1.npy'),
            np.array([{'a': 1}], dtype=object), allow_pickle=True)
    with self.assertRaisesRegex(ValueError, '1.npy: not a plain numeric .npy '
                                'array \\(pickled objects are refused\\)'):
      self._input()


class DenseTfdsTest(test_utils.TestCase):

  def _write(self, name, features, examples, split='validation'):
    """Prepares TFDS data set `name` holding `examples` in `split`."""
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    input_util.write_tfds(tmp.name, name, features, {split: examples})
    return tmp.name

  def _ade(self, examples, split='validation'):
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    return self._write('tiny_ade', {
        'image': tfds.features.Image(shape=(None, None, 3)),
        'annotation': tfds.features.Image(shape=(None, None, 3))},
                       examples, split)

  def _seg(self, data_dir, **kw):
    kw.setdefault('split', 'validation')
    return instantiate(pax_fiddle.Config(
        dense_real.DenseTfdsInput, name='ade', dataset_name='tiny_ade',
        data_dir=data_dir, num_classes=150, reduce_zero_label=True, **kw))

  def test_scene_parse150_features(self):
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    rng = np.random.default_rng(0)
    examples = []
    for _ in range(3):
      ann = rng.integers(0, 151, (10, 14), dtype=np.uint8)
      examples.append({'image': rng.integers(0, 255, (10, 14, 3),
                                             dtype=np.uint8),
                       'annotation': np.repeat(ann[..., None], 3, -1)})
    data_dir = self._ade(examples)
    inp = self._seg(data_dir, batch_size=2, image_size=10, image_width=14,
                    reset_for_eval=True)
    batches = input_util.read_all(inp)
    self.assertLen(batches, 2)
    np.testing.assert_array_equal(batches[1].eval_sample_weights, [1, 0])
    np.testing.assert_array_equal(batches[1].label[1], IGN)  # Padding.
    stored = list(tfds.as_numpy(tfds.load('tiny_ade', split='validation',
                                          data_dir=data_dir)))
    labels = np.concatenate([b.label for b in batches])[:3]
    images = np.concatenate([b.image for b in batches])[:3]
    for ex, label, image in zip(stored, labels, images):
      ann = ex['annotation'][..., 0].astype(np.int32)
      np.testing.assert_array_equal(label, np.where(ann == 0, IGN, ann - 1))
      np.testing.assert_allclose(image, ex['image'] / 255 * 2 - 1, atol=1e-6)

  def test_training_resumes_from_state(self):
    rng = np.random.default_rng(1)
    examples = [{'image': rng.integers(0, 255, (6, 6, 3), dtype=np.uint8),
                 'annotation': np.full((6, 6, 3), i % 5, np.uint8)}
                for i in range(7)]
    data_dir = self._ade(examples, split='train')
    make = lambda: self._seg(data_dir, split='train', batch_size=2,
                             image_size=6, is_training=True, shuffle_buffer=4,
                             seed=3)
    resume_util.assert_resumes(self, make, n=2, m=5)
    with self.assertRaisesRegex(ValueError, 'is not a DenseTfdsInput state'):
      make().set_state(b'nonsense')

  def test_scene_parse150_value_outside(self):
    ex = {'image': np.zeros((4, 4, 3), np.uint8),
          'annotation': np.full((4, 4, 3), 151, np.uint8)}
    inp = self._seg(self._ade([ex]), batch_size=1, image_size=4,
                    reset_for_eval=True)
    with self.assertRaisesRegex(ValueError, r'tiny_ade\[validation\] '
                                'example 0: mask value 151 is outside the '
                                '150 classes'):
      inp.get_next()

  def test_bad_masks_and_sizes(self):
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[0, 0] = (1, 2, 3)
    inp = self._seg(self._ade([{'image': np.zeros((4, 4, 3), np.uint8),
                                'annotation': colour}]),
                    batch_size=1, image_size=4, reset_for_eval=True)
    with self.assertRaisesRegex(ValueError, 'example 0: colour-coded'):
      inp.get_next()
    inp = self._seg(self._ade([{'image': np.zeros((4, 4, 3), np.uint8),
                                'annotation': np.ones((4, 5, 3), np.uint8)}]),
                    batch_size=1, image_size=4, reset_for_eval=True)
    with self.assertRaisesRegex(ValueError, "example 0: 'annotation' is 4x5 "
                                r'but the image is 4x4 \(HxW\)'):
      inp.get_next()

  def test_nyu_depth_v2_features(self):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    depth = np.linspace(0.0, 12.0, 480 * 640).reshape(480, 640)
    depth[:10, :10] = 0.0  # A hole, sampled by output pixel (0, 0).
    depth = depth.astype(np.float16)
    ex = {'image': np.zeros((480, 640, 3), np.uint8), 'depth': depth}
    features = {'image': tfds.features.Image(shape=(480, 640, 3)),
                'depth': tfds.features.Tensor(shape=(480, 640),
                                              dtype=tf.float16)}
    inp = instantiate(pax_fiddle.Config(
        dense_real.DenseTfdsInput, name='nyu', dataset_name='tiny_nyu',
        data_dir=self._write('tiny_nyu', features, [ex]),
        split='validation', task='depth', batch_size=1, image_size=48,
        image_width=64, reset_for_eval=True))
    b = inp.get_next()
    self.assertEqual(b.depth.shape, (1, 48, 64))
    self.assertEqual(b.depth_valid[0, 0, 0], 0.0)  # Depth 0 = hole.
    self.assertEqual(b.depth_valid.sum(), 48 * 64 - 1)
    self.assertAllClose(b.depth[0, -1, -1], depth[-5, -5].astype(np.float32),
                        atol=0.01)
    neg = dict(ex, depth=np.full((480, 640), -2.0, np.float16))
    inp = instantiate(pax_fiddle.Config(
        dense_real.DenseTfdsInput, name='nyu', dataset_name='tiny_nyu',
        data_dir=self._write('tiny_nyu', features, [neg]),
        split='validation', task='depth', batch_size=1, image_size=48,
        reset_for_eval=True))
    with self.assertRaisesRegex(ValueError, 'example 0: negative depth -2.0'):
      inp.get_next()


if __name__ == '__main__':
  absltest.main()
