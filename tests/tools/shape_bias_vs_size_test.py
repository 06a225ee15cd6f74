# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The shape-bias-vs-size script's parsing, counting and plot."""

import json
import math
import os
import tempfile
from unittest import mock

from absl.testing import absltest
import jax
from praxis import base_layer

from vit22b_pax.layers import variants
from vit22b_pax.tools import runs
from vit22b_pax.tools import shape_bias_vs_size as sbs


def _row(size, prob, seed, bias, acc):
  width, depth = (int(v) for v in size.split('x'))
  return dict(size=size, params=sbs.num_params(width, depth),
              texture_prob=prob, seed=seed, shape_bias=bias,
              test_accuracy=acc)


class ShapeBiasVsSizeTest(absltest.TestCase):

  def test_parse_sizes(self):
    self.assertEqual(sbs.parse_sizes('32x2,64x3,128x4'),
                     [(32, 2), (64, 3), (128, 4)])
    with self.assertRaisesRegex(ValueError, "'64'.*WIDTHxDEPTH"):
      sbs.parse_sizes('32x2,64,128x4')
    with self.assertRaisesRegex(ValueError, 'multiple of 32'):
      sbs.parse_sizes('30x2,64x3,128x4')
    with self.assertRaisesRegex(ValueError, 'at least 3 sizes'):
      sbs.parse_sizes('32x2,64x3')

  def test_num_params_matches_the_encoder(self):
    width, depth = 64, 2
    cfg = variants.encoder_config('Ti/8', 32, model_dims=width,
                                  num_layers=depth, num_heads=2,
                                  hidden_dims=4 * width, pooling='gap')
    layer = base_layer.instantiate(cfg)
    shapes = jax.eval_shape(
        lambda: layer.init(jax.random.PRNGKey(0),
                           jax.numpy.zeros((1, 32, 32, 3))))
    counted = sum(int(x.size) for x in jax.tree_util.tree_leaves(
        shapes['params']))
    self.assertEqual(sbs.num_params(width, depth), counted)

  def test_parse_numbers(self):
    self.assertEqual(sbs.parse_numbers('1.0,0.8', 'texture_probs'),
                     [1.0, 0.8])
    self.assertEqual(sbs.parse_numbers('0,1', 'seeds', int), [0, 1])
    for bad in ('1.0,1.0', 'x', ''):
      with self.assertRaisesRegex(ValueError, '--texture_probs'):
        sbs.parse_numbers(bad, 'texture_probs')

  def test_aggregate_and_table(self):
    rows = [_row('32x2', 1.0, 0, 0.5, 0.40), _row('32x2', 1.0, 1, 0.7, 0.44),
            _row('32x2', 0.8, 0, 0.8, 0.41), _row('32x2', 0.8, 1, 0.8, 0.43),
            _row('64x3', 1.0, 0, 0.6, 0.5), _row('64x3', 1.0, 1, 0.6, 0.5),
            _row('128x4', 0.8, 0, 0.9, 0.45)]
    summary = sbs.aggregate(rows)
    self.assertEqual([(s['size'], s['texture_prob']) for s in summary],
                     [('32x2', 1.0), ('32x2', 0.8), ('64x3', 1.0),
                      ('128x4', 0.8)])
    first = summary[0]['shape_bias']
    self.assertAlmostEqual(first['mean'], 0.6)
    self.assertAlmostEqual(first['std'], math.sqrt(0.02))  # (0.1^2 * 2) / 1
    self.assertEqual((first['min'], first['max'], first['n']), (0.5, 0.7, 2))
    self.assertEqual(summary[0]['seeds'], [0, 1])
    table = sbs.markdown(summary, [0.8, 1.0])
    lines = table.splitlines()
    # The main column (texture_prob=1.0) comes first whatever the order given.
    self.assertIn('shape bias, texture_prob=1 (main) | test top-1, '
                  'texture_prob=1 (main) | shape bias, texture_prob=0.8',
                  lines[0])
    self.assertEqual(lines[2], f'| 32x2 | {sbs.num_params(32, 2):,} | '
                     '0.600 ± 0.141 | 0.420 ± 0.028 | 0.800 ± 0.000 | '
                     '0.420 ± 0.014 |')
    self.assertEqual(lines[3], f'| 64x3 | {sbs.num_params(64, 3):,} | '
                     '0.600 ± 0.000 | 0.500 ± 0.000 | - | - |')
    # One run: no spread is claimed.
    self.assertEqual(lines[4], f'| 128x4 | {sbs.num_params(128, 4):,} | '
                     '- | - | 0.900 (1 seed) | 0.450 (1 seed) |')

  def test_plot_writes_png(self):
    path = os.path.join(tempfile.mkdtemp(), 'p.png')
    rows = [_row(f'{w}x2', p, s, b + 0.05 * s, 0.5)
            for w, b in ((32, 0.4), (64, 0.5), (128, 0.6))
            for p in (1.0, 0.8) for s in (0, 1)]
    sbs.plot(sbs.aggregate(rows), rows, path)
    with open(path, 'rb') as f:
      self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')

  def test_rerenders_from_json(self):
    out = tempfile.mkdtemp()
    src = os.path.join(out, 'in.json')
    rows = [_row(f'{w}x2', p, s, 0.6, 0.5) for w in (32, 64, 128)
            for p in (1.0, 0.8) for s in (0, 1)]
    with open(src, 'w') as f:
      json.dump({'args': {'texture_probs': [1.0, 0.8]}, 'rows': rows}, f)
    png = os.path.join(out, 'p.png')
    self.assertEqual(sbs.main(['--out', out, '--from_json', src,
                               '--plot', png]), 0)
    self.assertTrue(os.path.exists(png))
    data = json.load(open(os.path.join(out, 'shape_bias_vs_size.json')))
    self.assertLen(data['summary'], 6)

  def test_finished_runs_are_reused(self):
    out = tempfile.mkdtemp()
    argv = ['--out', out, '--sizes', '32x1,32x2,64x2', '--texture_probs', '1.0',
            '--seeds', '0', '--steps', '5']

    def fake_job(call, job, timeout):
      del timeout
      os.makedirs(job)
      return runs.JobResult(job, 0, 1.0, runs.command(call, job), '')

    biases = iter([0.7, 0.8, 0.9])
    with mock.patch.object(runs, 'run_job', side_effect=fake_job) as run, \
         mock.patch.object(runs, 'read_all', return_value={}), \
         mock.patch.object(runs, 'last_scalar',
                           side_effect=lambda job, program, tag: (
                               next(biases) if tag.endswith('shape_bias')
                               else 0.5)):
      self.assertEqual(sbs.main(argv), 0)
      self.assertEqual(run.call_count, 3)
      self.assertEqual(sbs.main(argv), 0)  # second call: nothing is run
      self.assertEqual(run.call_count, 3)
    data = json.load(open(os.path.join(out, 'shape_bias_vs_size.json')))
    self.assertEqual([r['shape_bias'] for r in data['rows']], [0.7, 0.8, 0.9])
    # A job dir holding a run with another command is not mistaken for it.
    with self.assertRaisesRegex(SystemExit, 'holds another run'):
      sbs.main(argv[:-1] + ['6'])

  def test_bad_arguments_stop_before_running(self):
    for argv in (['--texture_probs', '1.5'], ['--seeds', '0,0'],
                 ['--steps', '0'], ['--sizes', '32x2']):
      with self.assertRaises(SystemExit):
        sbs.main(argv + ['--out', tempfile.mkdtemp()])


if __name__ == '__main__':
  absltest.main()
