# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Tests for the procedural shape x texture generator."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from praxis import test_utils

from vit22b_pax.data import procedural as P


def _gen(**kw):
  return P.ShapeTextureGenerator(**kw)


class ProceduralTest(test_utils.TestCase):

  def test_vocabularies(self):
    self.assertGreaterEqual(len(P.SHAPES), 8)
    self.assertGreaterEqual(len(P.TEXTURES), len(P.SHAPES))
    self.assertLen(P.TEXTURE_ADJECTIVES, len(P.TEXTURES))
    self.assertLen(set(P.SHAPES), len(P.SHAPES))
    self.assertLen(set(P.TEXTURES), len(P.TEXTURES))

  @parameterized.parameters(16, 32, 224)
  def test_render_shapes_and_range(self, size):
    out = _gen(image_size=size).generate(np.arange(6))
    self.assertEqual(out['image'].shape, (6, size, size, 3))
    self.assertEqual(out['image'].dtype, np.float32)
    self.assertGreaterEqual(out['image'].min(), 0.0)
    self.assertLessEqual(out['image'].max(), 1.0)
    for key in ('label', 'texture', 'texture_label', 'subgroup', 'color'):
      self.assertEqual(out[key].shape, (6,))
      self.assertEqual(out[key].dtype, np.int32)

  def test_same_index_same_image_in_any_batch(self):
    g = _gen(image_size=16, seed=3)
    a = g.generate([5, 6, 7, 100])
    b = g.generate([100, 7])
    self.assertArraysEqual(a['image'][3], b['image'][0])
    self.assertArraysEqual(a['image'][2], b['image'][1])
    self.assertEqual(a['label'][3], b['label'][0])

  def test_seeds_and_splits_are_disjoint_streams(self):
    idx = np.arange(32)
    train = _gen(image_size=16).generate(idx, 'train')['image']
    test = _gen(image_size=16).generate(idx, 'test')['image']
    other_seed = _gen(image_size=16, seed=1).generate(idx, 'train')['image']
    for other in (test, other_seed):
      same = [np.array_equal(a, b) for a, b in zip(train, other)]
      self.assertFalse(any(same))

  def test_texture_prob(self):
    idx = np.arange(4000)
    for prob in (0.0, 1.0):
      a = _gen(texture_prob=prob).sample_attributes(idx)
      self.assertEqual(np.mean(a['texture'] == a['label']), prob)
    a = _gen(texture_prob=0.7).sample_attributes(idx)
    self.assertNear(np.mean(a['texture'] == a['label']), 0.7, 0.03)
    self.assertArraysEqual(a['texture'], a['texture_label'])
    # Labels roughly balanced over the K classes.
    counts = np.bincount(a['label'], minlength=10)
    self.assertGreater(counts.min(), 300)

  def test_conflict_split_never_uses_own_texture(self):
    a = _gen(num_classes=4, texture_prob=1.0).sample_attributes(
        np.arange(2000), 'conflict')
    self.assertFalse(np.any(a['texture_label'] == a['label']))
    self.assertTrue(np.all((a['texture_label'] >= 0)
                           & (a['texture_label'] < 4)))
    # Every other class's texture shows up.
    self.assertLen(np.unique(a['texture_label'][a['label'] == 0]), 3)

  def test_subgroup_corr(self):
    idx = np.arange(4000)
    a = _gen(subgroup_corr=1.0).sample_attributes(idx)
    self.assertArraysEqual(a['subgroup'], a['label'] % 2)
    a = _gen(subgroup_corr=0.0).sample_attributes(idx)
    self.assertNear(np.mean(a['subgroup'] == a['label'] % 2), 0.5, 0.03)
    a = _gen(subgroup_corr=0.6).sample_attributes(idx)
    # P(agree) = corr + (1 - corr) / 2.
    self.assertNear(np.mean(a['subgroup'] == a['label'] % 2), 0.8, 0.03)

  def test_background_tone_follows_subgroup(self):
    out = _gen(image_size=24).generate(np.arange(40))
    corner = out['image'][:, 0, 0, :]  # Never covered by the shape.
    self.assertAllClose(corner, np.repeat(out['tone'][:, None], 3, 1))
    dark = out['subgroup'] == 0
    self.assertTrue(np.all(corner[dark] < 0.3))
    self.assertTrue(np.all(corner[~dark] > 0.7))

  def test_circle_against_numpy_reference(self):
    s = 32
    g = _gen(image_size=s)
    a = g.sample_attributes(np.arange(200))
    i = int(np.where(a['label'] == 0)[0][0])  # A circle.
    img = g.render({k: v[i:i + 1] for k, v in a.items()})[0]
    # Reference: disc of radius 0.9 * r around the centre, in [-1, 1] units.
    c = (np.arange(s) + 0.5) * 2 / s - 1
    dist = np.hypot(c[None, :] - a['center_x'][i],
                    c[:, None] - a['center_y'][i])
    edge = 0.9 * a['radius'][i]
    px = 2 / s
    is_bg = np.all(np.isclose(img, a['tone'][i], atol=1e-6), axis=-1)
    self.assertTrue(np.all(is_bg[dist > edge + px]))
    self.assertFalse(np.any(is_bg[dist < edge - px]))

  def test_shapes_render_differently(self):
    g = _gen(image_size=32)
    a = g.sample_attributes(np.zeros(10, np.int64))
    a['label'] = np.arange(10, dtype=np.int32)
    img = g.render(a)
    masks = np.abs(img - a['tone'][:, None, None, None]).sum(-1) > 1e-3
    areas = masks.mean(axis=(1, 2))
    self.assertTrue(np.all(areas > 0.05), areas)
    for i in range(10):
      for j in range(i):
        self.assertGreater(np.mean(masks[i] != masks[j]), 0.01, (i, j))

  def test_names(self):
    g = _gen(image_size=16)
    a = g.sample_attributes([0, 1])
    names = g.names(a)
    self.assertEqual(names[0]['shape'], P.SHAPES[a['label'][0]])
    self.assertEqual(names[1]['texture'], P.TEXTURES[a['texture'][1]])
    self.assertIn(names[0]['color'], P.COLORS)
    self.assertNotEqual(names[0]['color'], names[0]['texture_color'])

  def test_host_indices_disjoint_and_complete(self):
    seen = np.concatenate([P.host_indices(step, 4, h, 3)
                           for step in range(5) for h in range(3)])
    self.assertArraysEqual(np.sort(seen), np.arange(60))

  @parameterized.named_parameters(
      ('zero_classes', dict(num_classes=0), 'num_classes=0'),
      ('too_many_classes', dict(num_classes=11), 'num_classes=11'),
      ('too_small', dict(image_size=15), 'minimum is 16'),
      ('texture_prob', dict(texture_prob=1.5), 'texture_prob=1.5'),
      ('subgroup_corr', dict(subgroup_corr=-0.1), 'subgroup_corr=-0.1'),
      ('seed', dict(seed=-1), 'seed=-1'),
  )
  def test_bad_arguments(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      _gen(**kwargs)

  def test_bad_split(self):
    with self.assertRaisesRegex(ValueError, "split='val'"):
      _gen().sample_attributes([0], 'val')
    with self.assertRaisesRegex(ValueError, 'num_classes >= 2'):
      _gen(num_classes=1).sample_attributes([0], 'conflict')
    with self.assertRaisesRegex(ValueError, 'host_index=3'):
      P.host_indices(0, 4, 3, 3)


if __name__ == '__main__':
  absltest.main()
