# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The QK-norm LR sweep's arguments, LR sensitivity, table and plots."""

import json
import math
import os
import tempfile
from unittest import mock

from absl import flags
from absl.testing import absltest
from absl.testing import parameterized
from etils import epath
import numpy as np
from paxml import summary_utils
from PIL import Image
from praxis import test_utils

from vit22b_pax.tools import qknorm_sweep
from vit22b_pax.tools import runs as runs_lib

STEPS = 100


def _summaries(losses, logits, entropies=None):
  """Synthetic runs.read_all() output of a 2-layer model, every 10 steps."""
  steps = [10 * (i + 1) for i in range(len(losses))]
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


def _args(**kw):
  argv = ['--out', '/tmp/o', '--steps', str(STEPS)]
  for k, v in kw.items():
    argv += [f'--{k}', str(v)]
  return qknorm_sweep.parse_args(argv)


def _run(opt, variant, lr, final, peak, finished=True, seed=0):
  """A run of 10 summaries whose last one is `final` (a 10% window)."""
  losses = [3.0] * 9 + [final]
  logits = list(np.linspace(1.0, peak, 10))
  cmd = ['python', '-m', 'vit22b_pax.main', '--fdl=config:' +
         qknorm_sweep.experiment(opt, variant, lr, seed, _args())]
  if not finished:
    losses, logits = losses[:5], logits[:5]
  return qknorm_sweep.record(opt, variant, lr, seed, finished,
                             _summaries(losses, logits), 1.0, cmd, STEPS)


class ArgsTest(test_utils.TestCase):

  def test_defaults(self):
    args = qknorm_sweep.parse_args(['--out', '/tmp/o'])
    self.assertEqual(args.lrs, [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1,
                                0.3, 1.0])
    self.assertEqual(args.optimizers, ['adafactor', 'adamw'])
    self.assertEqual((args.steps, args.schedule, args.summary_every),
                     (1000, 'cosine', 10))

  @parameterized.named_parameters(
      ('negative_lr', ['--lrs', '0.1,-1'], '--lrs must be positive'),
      ('nan_lr', ['--lrs', 'nan'], '--lrs must be positive'),
      ('text_lr', ['--lrs', 'fast'], 'comma-separated numbers'),
      ('empty_lr', ['--lrs', ','], '--lrs is empty'),
      ('optimizer', ['--optimizers', 'sgd'], "unknown 'sgd'"),
      ('frac_seed', ['--seeds', '1.5'], 'non-negative integers'),
      ('few_steps', ['--steps', '50'], '--steps must be >= 10 summaries'),
      ('warmup', ['--warmup', '1'], '--warmup'),
  )
  def test_bad_args(self, argv, message):
    with self.assertRaisesRegex(ValueError, message):
      qknorm_sweep.parse_args(argv + ['--out', '/tmp/o'])

  def test_main_reports_bad_args(self):
    self.assertEqual(qknorm_sweep.main(['--lrs', '-1', '--out', '/tmp/o']), 2)

  def test_run_order_spans_the_range_first(self):
    args = qknorm_sweep.parse_args(['--out', '/tmp/o'])
    self.assertEqual(qknorm_sweep.run_order(args.lrs),
                     [1e-4, 1e-3, 1e-2, 0.1, 1.0, 3e-4, 3e-3, 3e-2, 0.3])

  def test_experiment(self):
    self.assertEqual(
        qknorm_sweep.experiment('adamw', 'off', 0.03, 1, _args()),
        'fiddle_configs.ablations.qk_norm_stability(qk_norm=False,'
        'learning_rate=0.03,steps=100,seed=1,optimizer=\'adamw\','
        'schedule=\'cosine\',warmup=0.05,width=64,depth=2,heads=1,'
        'summary_every=10)')
    with self.assertRaisesRegex(ValueError, 'variant must be one of'):
      qknorm_sweep.experiment('adamw', 'maybe', 0.03, 1, _args())


class LogicTest(test_utils.TestCase):

  def test_initial_loss_is_the_zero_head_sigmoid_loss(self):
    k = 8
    p = 1 / (1 + np.exp(np.log(k - 1)))  # sigmoid(-log(K - 1)) = 1 / K
    want = -np.log(p) - (k - 1) * np.log(1 - p)
    self.assertAlmostEqual(qknorm_sweep.initial_loss(k), want, places=12)
    self.assertAlmostEqual(qknorm_sweep.initial_loss(k), 3.0142, places=4)

  def test_lr_sensitivity_by_hand(self):
    # Capped at loss_0 = 3: [1.0, 0.8, 2.0, 3.0]; best 0.8;
    # increases [0.2, 0, 1.2, 2.2] -> mean 0.9.
    losses = {1e-3: 1.0, 1e-2: 0.8, 1e-1: 2.0, 1.0: 7.5}
    s = qknorm_sweep.lr_sensitivity(losses, 3.0)
    self.assertAlmostEqual(s['value'], 0.9)
    self.assertEqual((s['best_lr'], s['best_loss']), (1e-2, 0.8))
    # Restricted to 3e-4..3e-2: [1.0, 0.8] -> 0.9 - 0.8 = 0.1.
    s = qknorm_sweep.lr_sensitivity(losses, 3.0, (3e-4, 3e-2))
    self.assertAlmostEqual(s['value'], 0.1)
    self.assertEqual(s['lrs'], [1e-3, 1e-2])
    # A flat curve has sensitivity 0; an empty range has none.
    self.assertEqual(qknorm_sweep.lr_sensitivity(
        {1e-3: 1.0, 1e-2: 1.0}, 3.0)['value'], 0.0)
    self.assertIsNone(qknorm_sweep.lr_sensitivity(losses, 3.0,
                                                  (5.0, 9.0))['value'])

  def test_capped_loss(self):
    l0 = 3.0
    cap = qknorm_sweep.capped_loss
    self.assertEqual(cap({'finished': True, 'final_loss': 1.5}, l0), 1.5)
    self.assertEqual(cap({'finished': True, 'final_loss': 4.0}, l0), l0)
    self.assertEqual(cap({'finished': True, 'final_loss': math.nan}, l0), l0)
    self.assertEqual(cap({'finished': True, 'final_loss': None}, l0), l0)
    self.assertEqual(cap({'finished': False, 'final_loss': 1.0}, l0), l0)

  def test_curves_reduce_over_layers(self):
    c = qknorm_sweep.curves(_summaries([3.0, 2.0], [4.0, 8.0], [0.5, 0.25]))
    self.assertEqual(c['loss'], {10: 3.0, 20: 2.0})
    self.assertEqual(c['max_logit'], {10: 4.0, 20: 8.0})  # max of layers.
    self.assertEqual(c['entropy'], {10: 0.5, 20: 0.25})  # min of layers.

  def test_curves_of_scanned_blocks(self):
    c = qknorm_sweep.curves({
        'loss': {10: 3.0},
        'network/blocks/block/max_attention_logit_0_scalar': {10: 4.0},
        'network/blocks/block/max_attention_logit_1_scalar': {10: 9.0},
        'network/blocks/block/attention_entropy_0_scalar': {10: 0.7},
        'network/blocks/block/attention_entropy_1_scalar': {10: 0.2},
        'teacher/network/blocks_0/attention_entropy_scalar': {10: 0.0},
    })
    self.assertEqual((c['max_logit'], c['entropy']), ({10: 9.0}, {10: 0.2}))

  def test_final_loss_window(self):
    loss = {s: float(s) for s in range(10, 101, 10)}
    self.assertEqual(qknorm_sweep.final_loss(loss, 100), 100.0)  # > 90
    self.assertEqual(qknorm_sweep.final_loss(loss, 200), None)  # stopped
    qknorm_sweep.FINAL_FRACTION, old = 0.3, qknorm_sweep.FINAL_FRACTION
    try:
      self.assertEqual(qknorm_sweep.final_loss(loss, 100), 90.0)  # 80..100
    finally:
      qknorm_sweep.FINAL_FRACTION = old


class SummaryMeaningTest(test_utils.TestCase):
  """What a train summary at step s is, through paxml's SummaryHandler and
  the sweep's reader: the value of step s, for any summary interval, unless
  accumulation is switched on (the recipe keeps it off)."""

  def _written(self, interval, accumulate=None):
    if not flags.FLAGS.is_parsed():  # paxml reads flags; pytest never parses.
      flags.FLAGS.mark_as_parsed()
    job = tempfile.mkdtemp()
    path = epath.Path(job) / 'summaries' / 'train'
    with summary_utils.get_summary_writer(path) as writer:
      handler = summary_utils.SummaryHandler(
          writer, interval, accumulate_interval_steps=accumulate)
      for step in range(1, 21):  # entropy of step s: 0.1 * s
        handler.process(step, np.float32(1.0), None, {
            'network/blocks_0/attention_entropy_scalar':
                np.float32(0.1 * step)})
      handler.close()
    return qknorm_sweep.curves(runs_lib.read_all(job, 'train'))['entropy']

  def test_value_of_the_step_whatever_the_interval(self):
    every_step, every_ten = self._written(1), self._written(10)
    self.assertLen(every_step, 20)
    self.assertEqual(sorted(every_ten), [10, 20])
    for step in (10, 20):
      self.assertAlmostEqual(every_step[step], 0.1 * step, places=6)
      self.assertAlmostEqual(every_ten[step], 0.1 * step, places=6)
    # With accumulation on, paxml writes the mean over the interval instead
    # (steps 11..20 -> 1.55, not 2.0): a different quantity.
    self.assertAlmostEqual(self._written(10, accumulate=1)[20], 1.55,
                           places=6)


class OutputsTest(test_utils.TestCase):

  def _runs(self):
    return [
        _run('adamw', 'on', 0.01, 1.0, 8.0),
        _run('adamw', 'on', 0.1, 1.2, 10.0),
        _run('adamw', 'on', 1.0, 2.0, 12.0),
        _run('adamw', 'off', 0.01, 1.1, 40.0),
        _run('adamw', 'off', 0.1, 3.5, 900.0),  # worse than loss_0
        _run('adamw', 'off', 1.0, math.nan, 1e4, finished=False),
        _run('adafactor', 'on', 0.01, 1.3, 6.0),
        _run('adafactor', 'off', 0.01, 1.4, 30.0),
    ]

  def test_record(self):
    r = self._runs()[3]
    self.assertEqual((r['final_loss'], r['peak_max_logit'],
                      r['final_max_logit'], r['final_entropy'],
                      r['last_step']), (1.1, 40.0, 40.0, 1.0, 100))
    stopped = self._runs()[5]
    self.assertEqual((stopped['finished'], stopped['final_loss'],
                      stopped['last_step']), (False, None, 50))

  def test_summary_markdown_json_and_plots(self):
    runs = self._runs()
    out = tempfile.mkdtemp()
    summary = qknorm_sweep.write_outputs(
        runs, out, {'steps': STEPS}, json_copy=os.path.join(out, 'c.json'),
        plot_copy=os.path.join(out, 'c.png'))
    l0 = qknorm_sweep.initial_loss()
    on = summary['adamw, QK-norm on']
    off = summary['adamw, QK-norm off']
    self.assertAlmostEqual(on['lr_sensitivity']['value'],
                           (1.0 + 1.2 + 2.0) / 3 - 1.0)
    self.assertAlmostEqual(off['lr_sensitivity']['value'],
                           (1.1 + l0 + l0) / 3 - 1.1)
    # 3e-4..3e-1 leaves out LR 1.
    self.assertAlmostEqual(on['lr_sensitivity_proxy_range']['value'], 0.1)
    md = open(os.path.join(out, 'qknorm_sweep.md')).read()
    self.assertIn('| 0.1 | 1.200 | 3.500 (≥ loss_0) | - | - |', md)
    self.assertIn('| 1 | 2.000 | stopped @ 50 | - | - |', md)
    self.assertIn('| **LR sensitivity, all rates** | **0.400** | **1.276** |'
                  ' **0.000** | **0.000** |', md)
    self.assertIn('| 0.01 | 8.0 / 1.00 | 40.0 / 1.00 | 6.0 / 1.00 | '
                  '30.0 / 1.00 |', md)
    data = json.load(open(os.path.join(out, 'c.json')))
    self.assertAlmostEqual(data['initial_loss'], l0)
    self.assertIn('not averaged', data['summary_definition'])
    self.assertLen(data['runs'], 8)
    self.assertIn("optimizer='adamw'", data['runs'][0]['command'])
    for name in ('qknorm_sweep.png', 'qknorm_logits.png', 'c.png',
                 'c_logits.png'):
      with Image.open(os.path.join(out, name)) as img:
        self.assertGreater(img.size[0], 800, name)

  def test_runs_without_summaries_still_render(self):
    # A job that failed before its first summary (e.g. at start-up).
    empty = qknorm_sweep.record('adamw', 'on', 0.1, 0, False, {}, 1.0,
                                ['python'], STEPS, 'ValueError: x')
    out = tempfile.mkdtemp()
    summary = qknorm_sweep.write_outputs([empty], out)
    self.assertEqual(summary['adamw, QK-norm on']['final_loss'],
                     {'0.1': qknorm_sweep.initial_loss()})
    self.assertTrue(os.path.exists(os.path.join(out, 'qknorm_logits.png')))
    self.assertIn('stopped @ 0',
                  open(os.path.join(out, 'qknorm_sweep.md')).read())

  def test_rerun_reuses_finished_runs(self):
    out = tempfile.mkdtemp()
    argv = ['--out', out, '--lrs', '0.01', '--optimizers', 'adamw',
            '--steps', str(STEPS)]
    args = qknorm_sweep.parse_args(argv)
    for variant, final in (('on', 1.0), ('off', 2.0)):
      job = os.path.join(out, 'runs',
                         qknorm_sweep.run_name('adamw', variant, 0.01, 0))
      os.makedirs(job)
      call = qknorm_sweep.experiment('adamw', variant, 0.01, 0, args)
      r = qknorm_sweep.record('adamw', variant, 0.01, 0, True,
                              _summaries([3.0] * 9 + [final], [1.0] * 10),
                              1.0, qknorm_sweep.runs_lib.command(call, job),
                              STEPS)
      with open(os.path.join(job, qknorm_sweep.RECORD_FILE), 'w') as f:
        json.dump(r, f)

    def no_training(*unused_args, **unused_kwargs):
      raise AssertionError('a finished run was trained again')

    with mock.patch.object(qknorm_sweep.runs_lib, 'run_job', no_training):
      self.assertEqual(qknorm_sweep.main(argv), 0)
    data = json.load(open(os.path.join(out, 'qknorm_sweep.json')))
    self.assertEqual([r['final_loss'] for r in data['runs']], [1.0, 2.0])
    # Another command in the same folder is an error, not a silent reuse.
    with mock.patch.object(qknorm_sweep.runs_lib, 'run_job', no_training):
      with self.assertRaisesRegex(SystemExit, 'holds another run'):
        qknorm_sweep.main(argv[:-1] + ['200'])

  def test_from_json_rerenders(self):
    first, second = tempfile.mkdtemp(), tempfile.mkdtemp()
    qknorm_sweep.write_outputs(self._runs(), first)
    self.assertEqual(qknorm_sweep.main(
        ['--from_json', os.path.join(first, 'qknorm_sweep.json'),
         '--out', second]), 0)
    self.assertEqual(
        open(os.path.join(second, 'qknorm_sweep.md')).read(),
        open(os.path.join(first, 'qknorm_sweep.md')).read())
    self.assertTrue(os.path.exists(os.path.join(second, 'qknorm_logits.png')))


if __name__ == '__main__':
  absltest.main()
