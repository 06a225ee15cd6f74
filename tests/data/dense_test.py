# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the procedural dense scenes."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from vit22b_pax.data import dense


class DenseSceneGeneratorTest(parameterized.TestCase):

  @parameterized.named_parameters(('square16', 16, 'grey'),
                                  ('wide', (24, 40), 'outdoor'),
                                  ('tall', (48, 32), 'grey'))
  def test_shapes_dtypes_ranges(self, size, style):
    gen = dense.DenseSceneGenerator(num_kinds=5, image_size=size, style=style)
    out = gen.generate(range(6))
    h, w = dense.image_hw(size)
    self.assertEqual(out['image'].shape, (6, h, w, 3))
    self.assertEqual(out['image'].dtype, np.float32)
    self.assertEqual(out['label'].shape, (6, h, w))
    self.assertEqual(out['label'].dtype, np.int32)
    self.assertEqual(out['depth'].dtype, np.float32)
    self.assertEqual(out['depth_valid'].dtype, bool)
    self.assertTrue(0 <= out['image'].min() and out['image'].max() <= 1)
    self.assertTrue(0 <= out['label'].min() and out['label'].max() <= 5)
    valid, depth = out['depth_valid'], out['depth']
    self.assertTrue(np.all(depth[~valid] == 0))
    self.assertTrue(np.all((depth[valid] > 0.5)
                           & (depth[valid] <= dense.MAX_DEPTH)))
    # Shapes always have depth; the sky never does.
    self.assertTrue(np.all(valid[out['label'] > 0]))
    self.assertGreater((~valid).sum(), 0)

  def test_deterministic_per_seed_split_index(self):
    gen = dense.DenseSceneGenerator(image_size=32, seed=3)
    a = gen.generate([5, 9, 2])
    b = gen.generate([2, 7, 9, 5])  # Other batch, other order.
    for key in ('image', 'label', 'depth', 'depth_valid'):
      np.testing.assert_array_equal(a[key][0], b[key][3])
      np.testing.assert_array_equal(a[key][1], b[key][2])
    test = gen.generate([5], 'test')
    other_seed = dense.DenseSceneGenerator(image_size=32, seed=4).generate([5])
    self.assertFalse(np.array_equal(a['image'][0], test['image'][0]))
    self.assertFalse(np.array_equal(a['image'][0], other_seed['image'][0]))

  def test_labels_and_depth_follow_nearest_covering_shape(self):
    """Occlusion: each pixel shows the nearest shape covering it."""
    gen = dense.DenseSceneGenerator(num_kinds=8, image_size=(40, 56),
                                    min_shapes=4, max_shapes=6, seed=1,
                                    shape_scale=1.0)
    attrs = gen.generate(range(8))
    h, w = gen.hw
    v = (np.arange(h) + 0.5) * (2.0 / h) - 1.0
    u = (np.arange(w) + 0.5) * (2.0 / h) - w / h
    for j in range(attrs['kind'].shape[1]):
      s = {k: attrs[k][:, j] for k in dense._SHAPE_KEYS}
      alpha, _ = gen._shape_layer(s, u.astype(np.float32),
                                  v.astype(np.float32), 2.0 / h)
      covers = (alpha >= 0.5) & s['active'][:, None, None]
      if j == 0:
        nearest = np.where(covers, s['shape_depth'][:, None, None], np.inf)
        kind = np.where(covers, s['kind'][:, None, None] + 1, 0)
        count = covers.astype(int)
      else:
        closer = covers & (s['shape_depth'][:, None, None] < nearest)
        nearest = np.where(closer, s['shape_depth'][:, None, None], nearest)
        kind = np.where(closer, s['kind'][:, None, None] + 1, kind)
        count += covers
    num_occluded = int((count > 1).sum())
    self.assertGreater(num_occluded, 50)  # The test sees real overlaps.
    shape_px = np.isfinite(nearest)
    np.testing.assert_array_equal(attrs['label'], kind)
    np.testing.assert_allclose(attrs['depth'][shape_px], nearest[shape_px])

  def test_nearer_shapes_are_larger_and_lower(self):
    gen = dense.DenseSceneGenerator(image_size=32, shape_scale=1.3,
                                    shape_depth=(2.0, 5.0))
    attrs = gen.sample_attributes(range(200))
    act = attrs['active']
    self.assertTrue(np.all((attrs['shape_depth'][act] >= 2.0)
                           & (attrs['shape_depth'][act] <= 5.0)))
    size_times_depth = (attrs['radius'] * attrs['shape_depth'])[act]
    self.assertTrue(np.all(size_times_depth >= 0.8 * 1.3 - 1e-5))
    self.assertTrue(np.all(size_times_depth <= 1.2 * 1.3 + 1e-5))
    # Slots are painted far to near, unused ones first.
    for row, a in zip(attrs['shape_depth'], act):
      np.testing.assert_array_equal(np.sort(row[a])[::-1], row[a])
      self.assertFalse(np.any(a[:np.argmax(a)]) if a.any() else False)
      self.assertTrue(np.all(a[np.argmax(a):]))
    # The foot (centre + radius) of a nearer shape is lower in the image.
    foot = attrs['center_y'] + 0.9 * attrs['radius']
    flat = (attrs['horizon'][:, None] + attrs['tilt'][:, None] *
            attrs['center_x'] + attrs['k'][:, None] / attrs['shape_depth'])
    np.testing.assert_allclose(foot[act], flat[act], rtol=1e-5, atol=1e-5)

  @parameterized.named_parameters(('grey', 'grey'), ('outdoor', 'outdoor'))
  def test_ground_depth_decreases_down_the_image(self, style):
    out = dense.DenseSceneGenerator(image_size=48, min_shapes=0,
                                    max_shapes=1, style=style).generate(
                                        range(10))
    for depth, valid, label in zip(out['depth'], out['depth_valid'],
                                   out['label']):
      ground = valid & (label == 0)
      for col in range(0, 48, 7):
        d = depth[ground[:, col], col]
        self.assertTrue(np.all(np.diff(d) < 0), msg=str(d))

  @parameterized.named_parameters(
      ('small', dict(image_size=15), 'must be an int or \\(height, width\\) '
       'with every side >= 16'),
      ('small_width', dict(image_size=(32, 8)), r'image_size=\(32, 8\)'),
      ('kinds', dict(num_kinds=11), r'num_kinds=11 must be in \[1, 10\]'),
      ('shapes', dict(min_shapes=3, max_shapes=2), 'min_shapes=3, '
       'max_shapes=2'),
      ('seed', dict(seed=-1), 'seed=-1 must be >= 0'),
      ('style', dict(style='night'), "Unknown style='night'"),
      ('depth', dict(shape_depth=(3.0, 2.0)), r'shape_depth=\(3.0, 2.0\)'),
      ('scale', dict(shape_scale=0.0), 'shape_scale=0.0'),
  )
  def test_bad_config(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      dense.DenseSceneGenerator(**kwargs)

  def test_bad_split_and_index(self):
    gen = dense.DenseSceneGenerator(image_size=16)
    with self.assertRaisesRegex(ValueError, "Unknown split='val'"):
      gen.generate([0], 'val')
    with self.assertRaisesRegex(ValueError, 'indices must be >= 0, got min '
                                '-2'):
      gen.generate([-2])

  def test_grey_style_backgrounds(self):
    """Plain tones: the sky one grey, the ground 0.15 off it, dark or light
    as the classification backgrounds."""
    out = dense.DenseSceneGenerator(image_size=(24, 32), min_shapes=0,
                                    max_shapes=1, seed=2).generate(range(24))
    v = (np.arange(24) + 0.5) / 12 - 1.0
    u = (np.arange(32) + 0.5) / 12 - 32 / 24
    tones = set()
    for i in np.flatnonzero(out['num_shapes'] == 0):
      ground = v[:, None] > out['horizon'][i] + out['tilt'][i] * u[None]
      img = out['image'][i]
      sky_tone = img[~ground]
      self.assertLess(np.ptp(sky_tone), 1e-6)
      self.assertLess(np.ptp(img[ground]), 1e-6)
      self.assertAlmostEqual(abs(sky_tone[0, 0] - img[ground][0, 0]), 0.15,
                             places=5)
      tones.add(bool(sky_tone[0, 0] < 0.5))
    self.assertEqual(tones, {True, False})

  def test_class_names(self):
    self.assertEqual(dense.class_names(3),
                     ('background', 'circle', 'square', 'triangle'))


if __name__ == '__main__':
  absltest.main()
