# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The few-shot tool on a real (smoke) pretraining checkpoint."""

import contextlib
import io
import json
import os
import tempfile

from absl.testing import absltest
import numpy as np
from praxis import base_hyperparams

from fiddle_configs import pretrain
from tests.experiments import pax_run
from vit22b_pax.eval import fewshot_data
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import restore
from vit22b_pax.tools import fewshot as tool
from vit22b_pax.tools import runs

_EXP = runs.recipe_call(pretrain.pretrain, size='smoke')
_STATE = {}


def setUpModule():
  tmp = tempfile.mkdtemp(prefix='fewshot_tool_')
  _STATE['tmp'] = tmp
  _STATE['job'] = os.path.join(tmp, 'job')
  pax_run.run_pax([f'--fdl=config:{_EXP}', f'--job_log_dir={_STATE["job"]}'],
                  module='vit22b_pax.main')


def _run(*args):
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = tool.main(list(args))
  return code, out.getvalue(), err.getvalue()


class FewshotToolTest(absltest.TestCase):

  def test_features_are_the_classifier_pre_logits(self):
    features_fn, info = tool.restore_feature_fn(_EXP, _STATE['job'])
    self.assertEqual(info['step'], 6)
    predict_fn, _ = restore.restore_predict_fn(_EXP, _STATE['job'])
    d = fewshot_data.fewshot_data('procedural', 16, 8, 8, 8)
    batch = base_hyperparams.instantiate(d.test).get_next()
    x = features_fn(batch)
    self.assertEqual(x.shape, (8, 32))
    head = 'params/softmax/logits_ffn'
    ckpt = checkpoints.resolve(_STATE['job'])
    w = checkpoints.read_variable(ckpt, f'{head}/linear/w')
    b = checkpoints.read_variable(ckpt, f'{head}/bias/b')
    logits = x.astype(np.float64) @ w + b
    sigmoid = 1 / (1 + np.exp(-logits))  # The pretraining head is sigmoid.
    np.testing.assert_allclose(predict_fn(batch.image), sigmoid, atol=1e-5)

  def test_cli_table_and_json(self):
    out_json = os.path.join(_STATE['tmp'], 'fewshot.json')
    code, out, err = _run(
        f'--exp={_EXP}', f'--job_log_dir={_STATE["job"]}',
        '--data=procedural', '--shots=1,2', '--seeds=2',
        '--pool_examples=120', '--test_examples=40', '--batch_size=20',
        f'--json={out_json}')
    self.assertEqual(code, 0, err)
    self.assertIn('| procedural | ', out)
    self.assertIn('step 6', out)
    with open(out_json) as f:
      res = json.load(f)['results']['procedural']
    self.assertEqual(sorted(res), ['1', '2'])
    self.assertLen(res['2']['accuracies'], 2)
    self.assertAlmostEqual(res['2']['mean'], np.mean(res['2']['accuracies']))
    self.assertIn('l2 1024', out)  # big_vision's fixed l2 by default.
    self.assertEqual(res['2']['l2'], [1024.0, 1024.0])
    # Recompute one number from features: the tool is the pipeline +
    # fewshot.evaluate, nothing else.
    features_fn, _ = tool.restore_feature_fn(_EXP, _STATE['job'])
    d = fewshot_data.fewshot_data('procedural', 16, 20, 120, 40)
    px, py = tool.pass_features(features_fn, d.pool)
    tx, ty = tool.pass_features(features_fn, d.test)
    self.assertEqual((len(px), len(tx)), (120, 40))
    want = tool.fewshot.evaluate(px, py, tx, ty, 10, (2,), 2)
    self.assertAlmostEqual(res['2']['mean'], want[2].mean)

  def test_random_init_baseline(self):
    code, out, err = _run(f'--exp={_EXP}', '--random_init',
                          '--data=procedural', '--shots=1', '--seeds=1',
                          '--pool_examples=120', '--test_examples=20')
    self.assertEqual(code, 0, err)
    self.assertIn('random init', out)

  def test_errors(self):
    code, _, err = _run(f'--exp={_EXP}', f'--job_log_dir={_STATE["tmp"]}/no',
                        '--data=procedural')
    self.assertEqual(code, 2)
    self.assertIn('No checkpoint found', err)
    # 10 procedural classes cannot all appear in a pool of 5 images.
    code, _, err = _run(f'--exp={_EXP}', f'--job_log_dir={_STATE["job"]}',
                        '--data=procedural', '--pool_examples=5',
                        '--test_examples=5', '--shots=1')
    self.assertEqual(code, 2)
    self.assertRegex(err, r'10 classes.*no example of class')
    code, _, err = _run(f'--exp={_EXP}', f'--job_log_dir={_STATE["job"]}',
                        '--data=procedural', '--pool_examples=120',
                        '--test_examples=5', '--shots=25')
    self.assertEqual(code, 2)
    self.assertRegex(err, r'25-shot.*class \d+ has only \d+')
    code, _, err = _run(f'--exp={_EXP}', f'--job_log_dir={_STATE["job"]}',
                        '--data=imagenet')
    self.assertEqual(code, 2)
    self.assertIn("Unknown few-shot data set 'imagenet'", err)


if __name__ == '__main__':
  absltest.main()
