# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the QK-norm sweep's argument checks, table and plot logic."""

import json
import math
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
from PIL import Image
from praxis import test_utils

from vit22b_pax.tools import qknorm_sweep


def _summaries(losses, logits, entropies=None):
  """Synthetic read_summaries() output for a 2-layer model."""
  steps = [5 * (i + 1) for i in range(len(losses))]
  entropies = entropies or [1.0] * len(losses)
  return {
      'loss': dict(zip(steps, losses)),
      'learning/raw_grad_norm_scalar': dict(zip(steps, [1.0] * len(steps))),
      'network/blocks_0/max_attention_logit_scalar': dict(
          zip(steps, logits)),
      'network/blocks_1/max_attention_logit_scalar': dict(
          zip(steps, [v / 2 for v in logits])),
      'network/blocks_0/attention_entropy_scalar': dict(
          zip(steps, entropies)),
      'network/blocks_1/attention_entropy_scalar': dict(
          zip(steps, [e + 0.5 for e in entropies])),
  }


def _run(variant, lr, seed, losses, logits, finished=True):
  cmd = ['python', '-m', 'vit22b_pax.main',
         '--fdl=config:' + qknorm_sweep.experiment(variant, lr, seed, 60)]
  return qknorm_sweep.record(variant, lr, seed, finished,
                             _summaries(losses, logits), 1.0, cmd)


class ArgsTest(test_utils.TestCase):

  def test_defaults(self):
    args = qknorm_sweep.parse_args(['--out', '/tmp/o'])
    self.assertEqual(args.lrs, [0.003, 0.01, 0.03])
    self.assertEqual(args.seeds, [0])
    self.assertEqual(args.steps, 200)

  def test_parses_and_sorts(self):
    args = qknorm_sweep.parse_args(
        ['--lrs', '0.1,1e-3,0.1', '--seeds', '2,0', '--steps', '20',
         '--out', '/tmp/o'])
    self.assertEqual(args.lrs, [1e-3, 0.1])
    self.assertEqual(args.seeds, [0, 2])

  @parameterized.named_parameters(
      ('negative_lr', ['--lrs', '0.1,-1'], '--lrs must be positive'),
      ('nan_lr', ['--lrs', 'nan'], '--lrs must be positive'),
      ('text_lr', ['--lrs', 'fast'], 'comma-separated numbers'),
      ('empty_lr', ['--lrs', ','], '--lrs is empty'),
      ('frac_seed', ['--seeds', '1.5'], 'non-negative integers'),
      ('few_steps', ['--steps', '5'], '--steps must be >= 10'),
  )
  def test_bad_args(self, argv, message):
    with self.assertRaisesRegex(ValueError, message):
      qknorm_sweep.parse_args(argv + ['--out', '/tmp/o'])

  def test_main_reports_bad_args(self):
    self.assertEqual(qknorm_sweep.main(['--lrs', '-1', '--out', '/tmp/o']), 2)

  def test_experiment(self):
    self.assertEqual(
        qknorm_sweep.experiment('off', 0.03, 1, 80),
        'fiddle_configs.ablations.qk_norm_stability(qk_norm=False,'
        'learning_rate=0.03,steps=80,seed=1)')
    with self.assertRaisesRegex(ValueError, 'variant must be one of'):
      qknorm_sweep.experiment('maybe', 0.03, 1, 80)

  def test_curves_reduce_over_layers(self):
    c = qknorm_sweep.curves(_summaries([3.0, 2.0], [4.0, 8.0], [0.5, 0.25]))
    self.assertEqual(c['loss'], {5: 3.0, 10: 2.0})
    self.assertEqual(c['max_logit'], {5: 4.0, 10: 8.0})  # max of layers.
    self.assertEqual(c['entropy'], {5: 0.5, 10: 0.25})  # min of layers.

  @parameterized.named_parameters(
      ('decreasing', [3.0, 2.5, 2.0], True, True),
      ('increasing', [3.0, 3.5, 4.0], True, False),
      ('nan', [3.0, math.nan, 2.0], True, False),
      ('inf_final', [3.0, 2.0, math.inf], True, False),
      ('stopped', [3.0, 2.0], False, False),
      ('single', [3.0], True, False),
      # Steps 5..50: final = mean of steps >= 40 (the last 20%).
      ('noisy_end', [3.0] * 7 + [2.0, 3.5, 3.3], True, True),
      ('noisy_up', [3.0] * 7 + [2.9, 3.5, 3.3], True, False),
  )
  def test_is_stable(self, losses, finished, expected):
    loss = {5 * (i + 1): v for i, v in enumerate(losses)}
    self.assertEqual(qknorm_sweep.is_stable(loss, finished), expected)

  def test_summary_markdown_json_and_plot(self):
    runs = [
        _run('on', 0.01, 0, [3.0, 2.0], [5.0, 6.0]),
        _run('on', 0.01, 1, [3.0, 2.1], [5.0, 6.5]),
        _run('on', 0.1, 0, [3.0, 2.5], [5.0, 7.0]),
        _run('on', 0.1, 1, [3.0, 2.6], [5.0, 7.0]),
        _run('off', 0.01, 0, [3.0, 2.2], [10.0, 50.0]),
        _run('off', 0.01, 1, [3.0, 2.3], [10.0, 60.0]),
        _run('off', 0.1, 0, [3.0, 2.9], [10.0, 900.0]),
        # One seed stopped by the guard: LR 0.1 is unstable without QK-norm.
        _run('off', 0.1, 1, [3.0, math.nan], [10.0, math.inf],
             finished=False),
    ]
    self.assertEqual(runs[0]['initial_loss'], 3.0)
    self.assertEqual(runs[0]['final_loss'], 2.0)
    self.assertEqual(runs[0]['final_max_logit'], 6.0)
    self.assertEqual(runs[6]['peak_max_logit'], 900.0)
    self.assertEqual(runs[0]['final_entropy'], 1.0)
    out = tempfile.mkdtemp()
    summary = qknorm_sweep.write_outputs(runs, out, {'steps': 60})
    self.assertEqual(summary['on']['highest_stable_lr'], 0.1)
    self.assertEqual(summary['off']['highest_stable_lr'], 0.01)
    self.assertEqual(summary['off']['stable_lrs'], [0.01])
    md = open(os.path.join(out, 'qknorm_sweep.md')).read()
    self.assertIn('| off | 0.1 | 1 | 10 | 3 | nan | inf | inf | 1 | NO |',
                  md)
    self.assertIn('| on | 0.1 | 0.01, 0.1 |', md)
    self.assertIn('| off | 0.01 | 0.01 |', md)
    data = json.load(open(os.path.join(out, 'qknorm_sweep.json')))
    self.assertEqual(data['summary']['off']['highest_stable_lr'], 0.01)
    self.assertLen(data['runs'], 8)
    self.assertIn('learning_rate=0.1', data['runs'][-1]['command'])
    with Image.open(os.path.join(out, 'qknorm_sweep.png')) as img:
      self.assertGreater(img.size[0], 1000)

  def test_smooth(self):
    self.assertEqual(qknorm_sweep.smooth([1.0, 3.0, 5.0, 7.0], 2),
                     [1.0, 2.0, 4.0, 6.0])

  def test_from_json_rerenders(self):
    runs = [_run('on', 0.01, 0, [3.0, 2.0], [5.0, 6.0]),
            _run('off', 0.01, 0, [3.0, 4.0], [5.0, 60.0])]
    first, second = tempfile.mkdtemp(), tempfile.mkdtemp()
    qknorm_sweep.write_outputs(runs, first)
    self.assertEqual(qknorm_sweep.main(
        ['--from_json', os.path.join(first, 'qknorm_sweep.json'),
         '--out', second]), 0)
    self.assertEqual(
        open(os.path.join(second, 'qknorm_sweep.md')).read(),
        open(os.path.join(first, 'qknorm_sweep.md')).read())
    self.assertTrue(os.path.exists(os.path.join(second, 'qknorm_sweep.png')))

  def test_no_stable_lr(self):
    runs = [_run('on', 1.0, 0, [3.0, 4.0], [5.0, 6.0]),
            _run('off', 1.0, 0, [3.0, 4.0], [5.0, 6.0])]
    summary = qknorm_sweep.summarize(runs)
    self.assertIsNone(summary['on']['highest_stable_lr'])
    self.assertIn('| on | - | - |', qknorm_sweep.markdown(runs, summary))


if __name__ == '__main__':
  absltest.main()
