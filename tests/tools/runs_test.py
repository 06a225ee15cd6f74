# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Job-launch helpers: flag quoting, README sections, summary reading."""

import contextlib
import io
import json
import os
import tempfile

from absl.testing import absltest
import tensorflow as tf

from fiddle_configs import pretrain
from vit22b_pax.runtime import experiment
from vit22b_pax.tools import runs


class RunsTest(absltest.TestCase):

  def test_recipe_call_and_command(self):
    call = runs.recipe_call(pretrain.pretrain, size='tiny', steps=3,
                            model={'qk_norm': False})
    self.assertEqual(call, "fiddle_configs.pretrain.pretrain(size='tiny',"
                     "steps=3,model={'qk_norm': False})")
    cmd = runs.command(call, '/tmp/j', ['task.train.random_seed=3'])
    self.assertEqual(cmd[1:], [
        '-m', 'vit22b_pax.main', f'--fdl=config:{call}',
        '--fdl=set:task.train.random_seed=3', '--job_log_dir=/tmp/j'])
    # A registered name runs as its recipe call.
    self.assertEqual(
        runs.command('vit22b_pax.experiments.pretrain.ProceduralTiny',
                     '/tmp/j')[3],
        "--fdl=config:fiddle_configs.pretrain.pretrain(size='tiny')")
    # The call builds the same experiment the recipe does.
    built = experiment.resolve(call)
    self.assertEqual(built.task().train.num_train_steps, 3)
    self.assertFalse(
        built.task().model.network_tpl.block_tpl.qk_norm)

  def test_job_result_error(self):
    result = runs.JobResult('/j', 1, 1.0, [], 'x\nValueError: bad thing\ny')
    self.assertEqual(result.error, 'ValueError: bad thing')
    self.assertEqual(runs.JobResult('/j', 0, 1.0, [], 'ok').error, '')

  def test_replace_section_inserts_then_replaces(self):
    path = os.path.join(tempfile.mkdtemp(), 'R.md')
    with open(path, 'w') as f:
      f.write('# T\n<!-- RESULTS:x -->\ntail\n')
    runs.replace_section(path, 'RESULTS:x', '| a |')
    runs.replace_section(path, 'RESULTS:x', '| b |')
    text = open(path).read()
    self.assertEqual(
        text, '# T\n<!-- RESULTS:x -->\n| b |\n<!-- /RESULTS:x -->\ntail\n')
    with self.assertRaisesRegex(ValueError, 'no .*RESULTS:y'):
      runs.replace_section(path, 'RESULTS:y', 'z')

  def test_scalars_reads_event_files(self):
    job = tempfile.mkdtemp()
    writer = tf.summary.create_file_writer(
        os.path.join(job, 'summaries', 'eval_test_test'))
    with writer.as_default():
      for step, value in ((10, 0.25), (20, 0.75)):
        tf.summary.scalar('Metrics/accuracy', value, step=step)
    writer.close()
    self.assertEqual(runs.scalars(job, 'eval_test_test', 'Metrics/accuracy'),
                     {10: 0.25, 20: 0.75})
    self.assertEqual(runs.last_scalar(job, 'eval_test_test',
                                      'Metrics/accuracy'), 0.75)
    with self.assertRaisesRegex(ValueError, "No summary 'nope'"):
      runs.scalars(job, 'eval_test_test', 'nope')
    with self.assertRaisesRegex(ValueError, 'No summaries in'):
      runs.scalars(job, 'train', 'loss')

  def test_parse_cli_reports_value_errors(self):
    def parse(argv):
      if argv == ['bad']:
        raise ValueError('--x must be > 0, got -1.')
      return {'argv': argv}

    self.assertEqual(runs.parse_cli(parse, ['ok']), {'argv': ['ok']})
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
      self.assertIsNone(runs.parse_cli(parse, ['bad']))
    self.assertEqual(err.getvalue(), 'error: --x must be > 0, got -1.\n')

  def test_start_output_creates_folder_and_reads_previous_json(self):
    out = os.path.join(tempfile.mkdtemp(), 'a', 'b')
    self.assertIsNone(runs.start_output(out, None))
    self.assertTrue(os.path.isdir(out))
    previous = os.path.join(out, 'sweep.json')
    with open(previous, 'w') as f:
      json.dump({'rows': [1, 2], 'args': {'steps': 3}}, f)
    self.assertEqual(runs.start_output(out, previous),
                     {'rows': [1, 2], 'args': {'steps': 3}})

  def test_stats_by_hand(self):
    s = runs.stats([0.2, 0.4, 0.6])
    self.assertAlmostEqual(s['mean'], 0.4)
    self.assertAlmostEqual(s['std'], 0.2)  # sqrt((0.04 + 0 + 0.04) / 2)
    self.assertEqual((s['min'], s['max'], s['n']), (0.2, 0.6, 3))
    with self.assertRaises(ValueError):
      runs.stats([])


if __name__ == '__main__':
  absltest.main()
