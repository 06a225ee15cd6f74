# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Running a predict_fn over cue-conflict stimuli; the 1000 -> 16 mapping."""

import os
from pathlib import Path
import shutil
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image

from vit22b_pax.eval import decision_mapping as dm
from vit22b_pax.eval import model_vs_human as mvh
from vit22b_pax.eval import stimuli

DATA = Path(__file__).parents[2] / '..' / 'shared' / 'data'
CATS = dm.CATEGORIES


def texture_coded_stimuli(root):
  """Per category 2 images: one conflict, one same-category; red = texture."""
  names = []
  for i, shape in enumerate(CATS):
    os.makedirs(f'{root}/{shape}')
    for texture in (CATS[(i + 3) % 16], shape):
      name = f'{shape}1-{texture}{len(names)}.png'
      img = np.zeros((40, 40, 3), np.uint8)
      img[..., 0] = 10 * CATS.index(texture) + 5
      img[..., 1] = 255
      Image.fromarray(img).save(f'{root}/{shape}/{name}')
      names.append(name)
  with open(f'{root}/LICENSE', 'w') as f:
    f.write('not an image folder\n')
  return names


def texture_reader_16(images):
  """A 'texture model': reads the texture index from the red channel."""
  assert images.dtype == np.float32 and images.shape[1:] == (16, 16, 3)
  assert images.min() >= -1 and images.max() <= 1
  red = (images[..., 0].mean(axis=(1, 2)) + 1) * 127.5
  idx = np.round((red - 5) / 10).astype(int)
  return np.eye(16)[idx] * 0.9 + 0.1 / 16


def texture_reader_1000(images):
  idx16 = texture_reader_16(images).argmax(-1)
  probs = np.full((len(images), 1000), 1e-6)
  for b, k in enumerate(idx16):
    probs[b, list(dm.imagenet_indices()[CATS[k]])] = 1e-3
  return probs / probs.sum(-1, keepdims=True)


class DecisionMappingTest(absltest.TestCase):

  def test_indices_match_wnids_in_tfds_labels(self):
    wnids = dm.imagenet2012_wnids()
    seen = set()
    for c in CATS:
      idx = dm.imagenet_indices()[c]
      listed = set(dm.imagenet_wnids_by_category()[c])
      self.assertEqual(list(idx), [i for i, w in enumerate(wnids)
                                   if w in listed], c)
      self.assertTrue(seen.isdisjoint(idx))
      seen |= set(idx)
    self.assertLen(seen, 207)

  def test_mean_aggregation(self):
    p = np.zeros((1, 1000))
    p[0, 404] = 0.3          # airplane: 1 class, mean 0.3
    p[0, 152:160] = 0.7 / 8  # dog: 109 classes, mean 0.7 / 109
    agg = dm.imagenet_to_16(p)
    self.assertAlmostEqual(agg[0, CATS.index('airplane')], 0.3)
    self.assertAlmostEqual(agg[0, CATS.index('dog')], 0.7 / 109)
    self.assertEqual(dm.decide(p), ['airplane'])
    self.assertEqual(dm.decide(np.eye(16)[[3, 15]]), ['bird', 'truck'])
    with self.assertRaisesRegex(ValueError, r'\[B, 16\].*\(2, 10\)'):
      dm.decide(np.zeros((2, 10)))


class RunStimuliTest(absltest.TestCase):

  def test_texture_model_16_and_1000_way(self):
    root = tempfile.mkdtemp()
    names = texture_coded_stimuli(root)
    for fn in (texture_reader_16, texture_reader_1000):
      out = stimuli.run_stimuli(fn, root, f'{root}_out/{fn.__name__}.csv',
                                model_name=fn.__name__, resolution=16,
                                batch_size=5)
      obs = mvh.read_responses(out)[fn.__name__]
      self.assertCountEqual(obs.stimulus, names)
      self.assertEqual(obs.response, obs.texture)
      self.assertEqual(mvh.shape_bias(obs), 0.0)
      self.assertAlmostEqual(mvh.accuracy(obs), 0.5)  # the same-cue half

  def test_real_subset_against_humans(self):
    src = DATA / 'cue-conflict'
    if not src.is_dir():
      self.skipTest(f'{src} not available')
    root = tempfile.mkdtemp()
    for c in CATS:
      os.makedirs(f'{root}/{c}')
      for f in sorted(os.listdir(src / c))[:2]:
        shutil.copy(src / c / f, f'{root}/{c}/{f}')
    always_cat = lambda x: np.tile(np.eye(16)[CATS.index('cat')], (len(x), 1))
    out = stimuli.run_stimuli(always_cat, root, f'{root}/r.csv', 'always-cat',
                              resolution=32)
    humans = mvh.read_responses(str(DATA / 'human-responses'))
    res = mvh.analyse(mvh.read_responses(out), humans)
    m = res['observers']['always-cat']
    self.assertEqual(m['n_trials'], 32)
    self.assertAlmostEqual(m['accuracy'], 2 / 32)
    self.assertEqual(m['vs_humans']['n_humans'], 10)

  def test_bad_layout(self):
    root = tempfile.mkdtemp()
    os.makedirs(f'{root}/lion')
    with self.assertRaisesRegex(ValueError, "'lion'"):
      stimuli.list_stimuli(root)
    root = tempfile.mkdtemp()
    os.makedirs(f'{root}/cat')
    Image.new('RGB', (4, 4)).save(f'{root}/cat/dog1-cat1.png')
    with self.assertRaisesRegex(ValueError, 'dog1-cat1.png.*folder'):
      stimuli.list_stimuli(root)
    with self.assertRaisesRegex(ValueError, 'no .*stimuli'):
      stimuli.list_stimuli(tempfile.mkdtemp())


if __name__ == '__main__':
  absltest.main()
