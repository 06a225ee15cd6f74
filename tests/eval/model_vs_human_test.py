# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Model-vs-human analysis: hand-computed cases, real human data, bad input."""

import csv
import os
from pathlib import Path
import tempfile

from absl.testing import absltest
import numpy as np

from vit22b_pax.eval import model_vs_human as mvh

HUMANS = Path(__file__).parents[2] / '..' / 'shared' / 'data' / (
    'human-responses')
HEADER = 'subj,session,trial,rt,object_response,category,condition,imagename'
IMAGES = ['cat1-dog1.png', 'dog1-cat2.png', 'car1-bird1.png',
          'bird1-car1.png', 'cat2-cat1.png', 'knife1-oven1.png']
A = ['cat', 'cat', 'car', 'car', 'cat', 'na']      # correct 1 0 1 0 1 0
B = ['cat', 'dog', 'car', 'bird', 'dog', 'knife']  # correct 1 1 1 1 0 1
C = ['cat', 'cat', 'car', 'car', 'cat', 'knife']   # correct 1 0 1 0 1 1


def write(path, subj, responses, order=None):
  order = order or range(len(IMAGES))
  with open(path, 'w') as f:
    f.write(HEADER + '\n')
    for t, i in enumerate(order):
      shape = IMAGES[i].split('-')[0].rstrip('0123456789')
      f.write(f'{subj},1,{t + 1},0.5,{responses[i]},{shape},0,'
              f'{t:04d}_x_{shape}_00_{IMAGES[i]}\n')
  return path


class HandComputedTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    d = tempfile.mkdtemp()
    self.files = [write(f'{d}/a.csv', 'subject-01', A),
                  write(f'{d}/b.csv', 'subject-02', B,
                        order=[5, 3, 1, 0, 2, 4]),
                  write(f'{d}/c.csv', 'modelC', C, order=[2, 0, 1, 5, 4, 3])]
    self.obs = mvh.read_responses(self.files)

  def test_accuracy_and_shape_bias(self):
    a, b, c = (self.obs[k] for k in ('subject-01', 'subject-02', 'modelC'))
    self.assertAlmostEqual(mvh.accuracy(a), 3 / 6)
    self.assertAlmostEqual(mvh.accuracy(b), 5 / 6)
    # A: shape hits cat1-dog1, car1-bird1; texture hits dog1-cat2, bird1-car1.
    self.assertEqual(mvh.shape_bias_counts(a), (2, 2, 5))
    self.assertAlmostEqual(mvh.shape_bias(a), 0.5)
    self.assertEqual(mvh.shape_bias_counts(b), (5, 0, 5))
    self.assertAlmostEqual(mvh.shape_bias(c), 3 / 5)
    self.assertAlmostEqual(mvh.shape_bias(a, 'cat'), 1.0)
    self.assertAlmostEqual(mvh.shape_bias(a, 'dog'), 0.0)
    self.assertTrue(np.isnan(mvh.shape_bias(a, 'oven')))  # no oven shapes

  def test_error_consistency_known_kappa(self):
    a, b, c = (self.obs[k] for k in ('subject-01', 'subject-02', 'modelC'))
    ab = mvh.consistency(a, b)  # c_obs 2/6, c_exp 1/2 -> kappa -1/3
    self.assertAlmostEqual(ab['observed_consistency'], 1 / 3)
    self.assertAlmostEqual(ab['expected_consistency'], 0.5)
    self.assertAlmostEqual(ab['error_consistency'], -1 / 3)
    self.assertAlmostEqual(ab['accuracy_difference'], 0.5 - 5 / 6)
    self.assertAlmostEqual(mvh.consistency(c, a)['error_consistency'], 2 / 3)
    self.assertAlmostEqual(mvh.consistency(c, b)['error_consistency'], -2 / 7)
    self.assertEqual(mvh.consistency(a, a)['error_consistency'], 1.0)
    res = mvh.analyse(self.obs)
    vs = res['observers']['modelC']['vs_humans']
    self.assertEqual(vs['n_humans'], 2)
    self.assertAlmostEqual(vs['error_consistency'], (2 / 3 - 2 / 7) / 2)
    self.assertAlmostEqual(vs['accuracy_difference'],
                           ((4 / 6 - 3 / 6) + (4 / 6 - 5 / 6)) / 2)
    # A human is compared with the other humans only.
    self.assertEqual(res['observers']['subject-01']['vs_humans']['n_humans'], 1)
    self.assertAlmostEqual(res['humans']['error_consistency_mean_pairwise'],
                           -1 / 3)
    self.assertAlmostEqual(res['humans']['shape_bias_pooled'], 7 / 9)
    self.assertAlmostEqual(res['humans']['shape_bias_mean'], 0.75)

  def test_matching_uses_common_images_only(self):
    d = tempfile.mkdtemp()
    part = mvh.read_responses(write(f'{d}/p.csv', 'm', C, order=[0, 1, 2]))
    r = mvh.consistency(part['m'], self.obs['subject-01'])
    self.assertEqual(r['n_common'], 3)
    self.assertEqual(r['error_consistency'], 1.0)  # identical on those 3

  def test_report_and_plot(self):
    res = mvh.analyse(self.obs)
    text = mvh.format_report(res)
    self.assertIn('modelC', text)
    self.assertIn('humans (2)', text)
    png = os.path.join(tempfile.mkdtemp(), 'sb.png')
    mvh.plot_shape_bias(res, png, individual_humans=True)
    with open(png, 'rb') as f:
      self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')


class BadInputTest(absltest.TestCase):

  def _bad(self, text, *patterns):
    path = os.path.join(tempfile.mkdtemp(), 'bad.csv')
    with open(path, 'w') as f:
      f.write(text)
    with self.assertRaises(ValueError) as cm:
      mvh.read_responses(path)
    msg = str(cm.exception)
    self.assertIn(path, msg)
    for p in patterns:
      self.assertIn(p, msg)

  def test_errors_name_file_line_value(self):
    ok = 'm,1,1,0.5,cat,cat,0,0001_x_cat_00_cat1-dog1.png\n'
    self._bad('subj,session,trial,rt,object_response,category,imagename\n'
              + ok, 'line 1', "'condition'")
    self._bad(HEADER + '\n' + ok + 'm,1,2,0.5,cat,lion,0,x_lion1-dog1.png\n',
              'line 3', "'lion'")
    self._bad(HEADER + '\n' + 'm,1,1,0.5,zebra,cat,0,x_cat1-dog1.png\n',
              'line 2', "'zebra'")
    self._bad(HEADER + '\n' + ok + ok.replace('cat1-dog1', 'cat1_dog1'),
              'line 3', "cat1_dog1")
    self._bad(HEADER + '\n' + 'm,1,1,0.5,cat,cat,0,x_cat1-tiger1.png\n',
              'line 2', "'tiger'")
    self._bad(HEADER + '\n' + 'm,1,1,0.5,cat,dog,0,x_cat1-bird1.png\n',
              'line 2', "'dog'", "'cat'")
    self._bad(HEADER + '\n' + ok + ok, 'line 3', 'already answered')
    with self.assertRaisesRegex(ValueError, 'no such'):
      mvh.read_responses('/nonexistent/responses.csv')


class RealHumanDataTest(absltest.TestCase):
  """The 10 observers of Geirhos et al. 2019 (shared/data/human-responses)."""

  def setUp(self):
    super().setUp()
    if not HUMANS.is_dir():
      self.skipTest(f'{HUMANS} not available')

  def _independent(self):
    """Shape bias and correctness from the raw CSVs, without the module."""
    sb, correct = {}, {}
    for f in sorted(HUMANS.glob('*.csv')):
      with open(f) as fh:
        rows = list(csv.DictReader(fh))
      s = t = 0
      corr = {}
      for r in rows:
        stim = r['imagename'].split('_')[-1]
        shape_part, texture_part = stim[:-4].split('-')
        texture = texture_part.rstrip('0123456789')
        corr[stim] = r['object_response'] == r['category']
        if texture == r['category']:
          continue
        s += r['object_response'] == r['category']
        t += r['object_response'] == texture
      sb[rows[0]['subj']] = s / (s + t)
      correct[rows[0]['subj']] = corr
    return sb, correct

  def test_human_shape_bias_and_consistency(self):
    res = mvh.analyse(mvh.read_responses(str(HUMANS)))
    ref_sb, ref_correct = self._independent()
    self.assertLen(res['observers'], 10)
    for name, m in res['observers'].items():
      self.assertEqual(m['n_trials'], 1280)
      self.assertAlmostEqual(m['shape_bias'], ref_sb[name], places=12)
      self.assertBetween(m['shape_bias'], 0.9, 1.0)
    mean = np.mean(list(ref_sb.values()))
    self.assertAlmostEqual(res['humans']['shape_bias_mean'], mean, places=12)
    self.assertBetween(mean, 0.94, 0.98)  # ~0.96 in model-vs-human
    # Error consistency of one pair, recomputed by hand.
    x = ref_correct['subject-01']
    y = ref_correct['subject-02']
    keys = sorted(x)
    x, y = np.array([x[k] for k in keys]), np.array([y[k] for k in keys])
    p1, p2 = x.mean(), y.mean()
    c_exp = p1 * p2 + (1 - p1) * (1 - p2)
    kappa = ((x == y).mean() - c_exp) / (1 - c_exp)
    obs = mvh.read_responses(str(HUMANS))
    self.assertAlmostEqual(mvh.consistency(
        obs['subject-01'], obs['subject-02'])['error_consistency'], kappa,
                           places=12)
    ec = res['humans']['error_consistency_mean_pairwise']
    self.assertBetween(ec, 0.1, 0.6)


if __name__ == '__main__':
  absltest.main()
