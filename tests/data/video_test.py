# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Procedural moving-shape clips and their praxis input."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import test_utils

from vit22b_pax.data import video

instantiate = base_hyperparams.instantiate


def _centroid(frames):
  """[T, 2] (x, y) centroid of the pixels that differ from the corner."""
  bg = frames[:, :1, :1, :]
  mask = np.abs(frames - bg).max(-1) > 0.02
  s = frames.shape[1]
  grid = np.arange(s) + 0.5
  w = mask.sum((1, 2))
  return np.stack([(mask * grid[None, None, :]).sum((1, 2)) / w,
                   (mask * grid[None, :, None]).sum((1, 2)) / w], -1)


class MovingShapeGeneratorTest(test_utils.TestCase):

  @parameterized.parameters((2, 16), (8, 32), (17, 24))
  def test_any_length_and_size(self, t, s):
    gen = video.MovingShapeGenerator(num_frames=t, image_size=s)
    out = gen.generate(np.arange(5))
    self.assertEqual(out['video'].shape, (5, t, s, s, 3))
    self.assertEqual(out['video'].dtype, np.float32)
    self.assertBetween(float(out['video'].min()), 0.0, 1.0)
    self.assertBetween(float(out['video'].max()), 0.0, 1.0)
    # The shape never leaves the frame: every frame has shape pixels and
    # none touch the border by more than anti-aliasing.
    c = _centroid(out['video'].reshape(5 * t, s, s, 3))
    self.assertTrue(np.all(np.isfinite(c)))

  def test_labels_combine_shape_and_motion(self):
    gen = video.MovingShapeGenerator(shapes=('triangle', 'star'),
                                     motions=('left', 'clockwise', 'up'))
    self.assertEqual(gen.num_classes, 6)
    self.assertEqual(gen.class_names[0], 'triangle moving left')
    self.assertEqual(gen.class_names[4], 'star rotating clockwise')
    c = gen.sample_clips(np.arange(600))
    np.testing.assert_array_equal(c['label'], c['shape'] * 3 + c['motion'])
    self.assertEqual(set(c['label'].tolist()), set(range(6)))

  def test_motion_geometry(self):
    gen = video.MovingShapeGenerator(num_frames=6)
    c = gen.sample_clips(np.arange(400))
    dx = np.diff(c['center_x'], axis=1)
    dy = np.diff(c['center_y'], axis=1)
    da = np.diff(c['angle'], axis=1)
    names = np.asarray(video.MOTIONS)[c['motion']]
    for m, sx, sy, sa in (('left', -1, 0, 0), ('right', 1, 0, 0),
                          ('up', 0, -1, 0), ('down', 0, 1, 0),
                          ('clockwise', 0, 0, 1),
                          ('counterclockwise', 0, 0, -1)):
      sel = names == m
      self.assertGreater(sel.sum(), 20)
      for d, sign in ((dx, sx), (dy, sy), (da, sa)):
        if sign:
          self.assertTrue(np.all(np.sign(d[sel]) == sign), m)
          # Constant speed within a clip.
          np.testing.assert_allclose(
              d[sel], np.broadcast_to(d[sel][:, :1], d[sel].shape),
              atol=1e-5)
        else:
          np.testing.assert_array_equal(d[sel], 0.0)
    self.assertLessEqual(np.rad2deg(np.abs(da)).max(),
                         video.ROTATION_MAX + 1e-3)
    limit = 0.97 - c['radius'][:, None]
    self.assertTrue(np.all(np.abs(c['center_x']) <= limit + 1e-6))
    self.assertTrue(np.all(np.abs(c['center_y']) <= limit + 1e-6))

  def test_pixels_move_the_labelled_way(self):
    gen = video.MovingShapeGenerator(num_frames=5, image_size=48)
    out = gen.generate(np.arange(60))
    names = np.asarray(video.MOTIONS)[out['motion']]
    for i, m in enumerate(names):
      c = _centroid(out['video'][i])
      shift = c[-1] - c[0]
      if m in ('clockwise', 'counterclockwise'):
        self.assertLess(np.abs(shift).max(), 3.0, (i, m))
        self.assertGreater(np.abs(np.diff(out['video'][i], axis=0)).max(),
                           0.1)
      else:
        axis = 0 if m in ('left', 'right') else 1
        sign = 1 if m in ('right', 'down') else -1
        self.assertGreater(sign * shift[axis], 4.0, (i, m, shift))

  @parameterized.parameters(8, 5)
  def test_single_frame_does_not_reveal_the_motion(self, t):
    # At the middle frame T // 2 (what the single-frame baseline sees) the
    # position, relative to the allowed range, and the angle have the same
    # distribution for every motion, rotations included.
    gen = video.MovingShapeGenerator(num_frames=t)
    self.assertEqual(gen.middle_frame, t // 2)
    c = gen.sample_clips(np.arange(12000))
    names = np.asarray(video.MOTIONS)[c['motion']]
    limit = 0.97 - c['radius']
    qs = np.linspace(0.1, 0.9, 9)
    for key in ('center_x', 'center_y'):
      pos = c[key][:, t // 2] / limit
      pooled = np.quantile(pos, qs)
      np.testing.assert_allclose(pooled, -pooled[::-1], atol=0.04)
      for m in video.MOTIONS:
        np.testing.assert_allclose(np.quantile(pos[names == m], qs), pooled,
                                   atol=0.08, err_msg=f'{key} {m}')
    angle = np.mod(c['angle'][:, t // 2], 2 * np.pi)
    for m in video.MOTIONS:
      hist = np.histogram(angle[names == m], 4, (0, 2 * np.pi))[0]
      self.assertLess(hist.max() / hist.min(), 1.3, m)

  def test_deterministic_per_index_and_disjoint_splits(self):
    gen = video.MovingShapeGenerator(num_frames=3, image_size=16, seed=2)
    a = gen.generate([4, 9, 11])['video']
    b = gen.generate([11, 4])['video']
    np.testing.assert_array_equal(a[0], b[1])
    np.testing.assert_array_equal(a[2], b[0])
    test = gen.generate([4, 9, 11], 'test')['video']
    self.assertFalse(any(np.array_equal(x, y) for x, y in zip(a, test)))

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, 'num_frames=1'):
      video.MovingShapeGenerator(num_frames=1)
    with self.assertRaisesRegex(ValueError, 'image_size=8'):
      video.MovingShapeGenerator(image_size=8)
    with self.assertRaisesRegex(ValueError, r"Unknown motions \['sideways'\]"):
      video.MovingShapeGenerator(motions=('left', 'sideways'))
    with self.assertRaisesRegex(ValueError, r"Unknown shapes \['blob'\]"):
      video.MovingShapeGenerator(shapes=('blob',))
    with self.assertRaisesRegex(ValueError, 'duplicates'):
      video.MovingShapeGenerator(motions=('left', 'left'))
    with self.assertRaisesRegex(ValueError, "split='val'"):
      video.MovingShapeGenerator().sample_clips([0], 'val')


class VideoInputTest(test_utils.TestCase):

  def _input(self, **kw):
    kw.setdefault('batch_size', 4)
    kw.setdefault('num_frames', 3)
    kw.setdefault('image_size', 16)
    return instantiate(pax_fiddle.Config(video.VideoInput, **kw))

  def test_batch_keys_and_values(self):
    inp = self._input(shapes=('square', 'heart'), motions=('up', 'down'))
    b = inp.get_next()
    self.assertEqual(inp.num_classes, 4)
    self.assertEqual(b.video.shape, (4, 3, 16, 16, 3))
    self.assertBetween(float(b.video.min()), -1.0, 1.0)
    self.assertEqual(b.label.dtype, np.int32)
    np.testing.assert_array_equal(b.label_probs.argmax(1), b.label)
    np.testing.assert_array_equal(b.eval_sample_weights, np.ones(4))
    gen = video.MovingShapeGenerator(num_frames=3, image_size=16,
                                     shapes=('square', 'heart'),
                                     motions=('up', 'down'))
    np.testing.assert_allclose(b.video, gen.generate(np.arange(4))['video']
                               * 2 - 1, atol=1e-6)

  def test_resumes_from_state(self):
    inp = self._input()
    inp.get_next()
    state = inp.get_state()
    want = inp.get_next()
    other = self._input()
    other.set_state(state)
    got = other.get_next()
    np.testing.assert_array_equal(got.video, want.video)
    np.testing.assert_array_equal(got.label, want.label)

  def test_eval_pass_pads_and_stops(self):
    inp = self._input(split='test', num_examples=6, reset_for_eval=True)
    batches = [inp.get_next(), inp.get_next()]
    with self.assertRaises(StopIteration):
      inp.get_next()
    np.testing.assert_array_equal(
        np.concatenate([b.eval_sample_weights for b in batches]),
        [1, 1, 1, 1, 1, 1, 0, 0])

  def test_bad_config(self):
    with self.assertRaisesRegex(ValueError, '2 shapes x 6 motions make 12'):
      self._input(shapes=('square', 'heart'), num_classes=10)
    with self.assertRaisesRegex(ValueError, 'flip'):
      self._input(flip=True)
    with self.assertRaisesRegex(ValueError, 'reset_for_eval'):
      self._input(reset_for_eval=True)

  def test_specs_match_batches(self):
    specs = instantiate(pax_fiddle.Config(
        video.VideoInputSpecsProvider, num_frames=3, image_size=16,
        num_classes=24, batch_size=4)).get_input_specs()
    b = self._input().get_next()
    for k, spec in specs.items():
      self.assertEqual((spec.shape, spec.dtype), (b[k].shape, b[k].dtype), k)


if __name__ == '__main__':
  absltest.main()
