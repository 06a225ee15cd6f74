# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""End to end through `python -m paxml.main`: pretrain, resume, then the
warm-started workflows consume the pretraining checkpoint for real."""

import os
import tempfile

from absl.testing import absltest
import numpy as np

from fiddle_configs import distill
from fiddle_configs import finetune
from fiddle_configs import lit
from fiddle_configs import pretrain
from tests.experiments import pax_run
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment
from vit22b_pax.tools import runs
from vit22b_pax.core import posemb

_PRETRAIN = runs.recipe_call(pretrain.pretrain, size='smoke')
_STATE = {}


def setUpModule():
  tmp = tempfile.mkdtemp(prefix='vit22b_workflows_')
  _STATE['tmp'] = tmp
  _STATE['pretrain'] = os.path.join(tmp, 'pretrain')
  _STATE['pretrain_log'] = pax_run.run_pax(
      [f'--fdl=config:{_PRETRAIN}', f'--job_log_dir={_STATE["pretrain"]}'],
      module='vit22b_pax.main').stdout


def _read(job, name, step=None):
  return checkpoints.read_variable(checkpoints.resolve(job, step), name)


class PretrainTest(absltest.TestCase):

  def test_trains_evaluates_and_checkpoints(self):
    log = _STATE['pretrain_log']
    self.assertContainsSubset({3, 6}, set(checkpoints.steps(_STATE['pretrain'])))
    self.assertIn('[train] step      6/6 | loss ', log)
    self.assertIn('[eval test] step      6', log)
    self.assertIn('[eval conflict] step      6', log)
    self.assertIn('Checkpoints: ', log)
    self.assertNotIn('Finished XLA compilation', log)
    self.assertTrue(os.path.exists(
        os.path.join(_STATE['pretrain'], 'logs', 'pax.log')))
    acc = pax_run.scalars(_STATE['pretrain'], 'eval_test_test',
                          'Metrics/accuracy')
    self.assertIn(6, acc)
    self.assertTrue(0.0 <= acc[6] <= 1.0)
    bias = pax_run.scalars(_STATE['pretrain'], 'eval_test_conflict',
                           'Metrics/shape_bias')
    self.assertIn(6, bias)

  def test_second_run_resumes_from_checkpoint(self):
    longer = runs.recipe_call(pretrain.pretrain, size='smoke', steps=9)
    out = pax_run.run_pax([
        f'--fdl_config={longer}', f'--job_log_dir={_STATE["pretrain"]}'
    ]).stdout
    # The first line says where the run resumes; paxml's own record of it
    # is in the log (runtime/console.py routes it there under paxml.main).
    first = [l for l in out.splitlines() if l.startswith('[')][0]
    self.assertRegex(first, r'^\[resume\] from step 6 of 9: checkpoint .*'
                     r'checkpoint_00000006$')
    with open(os.path.join(_STATE['pretrain'], 'logs', 'pax.log')) as f:
      self.assertIn('Model initial global_step=6', f.read())
    self.assertEqual(checkpoints.steps(_STATE['pretrain'])[-1], 9)


class WarmStartTest(absltest.TestCase):

  def _run(self, recipe, job, *extra, **kwargs):
    call = runs.recipe_call(recipe, size='smoke',
                            pretrain_dir=_STATE['pretrain'], **kwargs)
    return pax_run.run_pax([f'--fdl=config:{call}', f'--job_log_dir={job}',
                            *extra])

  def test_linear_probe_keeps_backbone_bit_for_bit(self):
    job = os.path.join(_STATE['tmp'], 'probe')
    self._run(finetune.linear_probe, job)
    ckpt = checkpoints.resolve(job)
    self.assertEqual(ckpt.step, 4)
    names = [n for n in checkpoints.variables(ckpt)
             if n.startswith('params/network')]
    self.assertGreater(len(names), 5)
    for name in names:
      np.testing.assert_array_equal(_read(job, name),
                                    _read(_STATE['pretrain'], name),
                                    err_msg=name)
    head = 'params/softmax/logits_ffn/linear/w'
    self.assertGreater(np.abs(_read(job, head)).max(), 0)

  def test_finetune_loads_backbone_at_new_resolution(self):
    job = os.path.join(_STATE['tmp'], 'finetune')
    # Zero learning rate: every loaded variable must come out unchanged.
    self._run(finetune.finetune, job,
              '--fdl=set:task.train.learner.optimizer.learning_rate=0.0',
              image_size=24)
    np.testing.assert_array_equal(
        _read(job, 'params/network/patch_w'),
        _read(_STATE['pretrain'], 'params/network/patch_w'))
    # The position embedding was resampled once at load (2x2 -> 3x3 patch
    # grid, big_vision's zoom), then kept (learning rate 0).
    table = _read(_STATE['pretrain'], 'params/network/pos_emb')
    want = posemb.zoom(table.reshape(2, 2, -1), (3, 3)).reshape(1, 9, -1)
    np.testing.assert_allclose(_read(job, 'params/network/pos_emb'), want,
                               rtol=1e-6, atol=1e-7)

  def _assert_loaded_unchanged(self, job, prefix):
    """Every `params/<prefix>/...` variable equals the pretraining one."""
    stored = checkpoints.variables(checkpoints.resolve(job, 4))
    names = [n for n in stored if n.startswith(f'params/{prefix}/')]
    self.assertGreater(len(names), 5)
    for name in names:
      np.testing.assert_array_equal(
          _read(job, name, 4),
          _read(_STATE['pretrain'], name.replace(f'{prefix}/', '', 1)),
          err_msg=name)
    return stored

  def test_distillation_loads_frozen_teacher(self):
    job = os.path.join(_STATE['tmp'], 'distill')
    self._run(distill.distill, job)
    stored = self._assert_loaded_unchanged(job, 'teacher')
    self.assertTrue(any(n.startswith('params/student/') for n in stored))
    kd = pax_run.scalars(job, 'train', 'Metrics/kd_loss')
    self.assertTrue(all(np.isfinite(v) for v in kd.values()))

  def test_lit_locks_image_tower_and_reports_zero_shot(self):
    job = os.path.join(_STATE['tmp'], 'lit')
    self._run(lit.lit, job)
    self._assert_loaded_unchanged(job, 'image')
    zs = pax_run.scalars(job, 'eval_test_test', 'Metrics/zeroshot_accuracy')
    self.assertTrue(all(0.0 <= v <= 1.0 for v in zs.values()))


class BadSourceTest(absltest.TestCase):

  def _exp(self, recipe, **kwargs):
    return experiment.resolve(runs.recipe_call(recipe, **kwargs))

  def test_missing_checkpoint_names_the_path(self):
    missing = os.path.join(_STATE['tmp'], 'nope')
    exp = self._exp(finetune.finetune, size='smoke', pretrain_dir=missing)
    with self.assertRaisesRegex(ValueError, 'No checkpoint found in .*nope'):
      exp.validate()
    self.assertFalse(os.path.exists(missing))

  def test_unset_source_is_explained(self):
    exp = self._exp(finetune.finetune, size='smoke')
    with self.assertRaisesRegex(ValueError, 'pretrain_dir'):
      exp.validate()

  def test_mismatched_checkpoint_names_variable_and_shapes(self):
    # The tiny fine-tune (128 wide) pointed at the smoke run (32 wide).
    exp = self._exp(finetune.finetune, size='tiny',
                    pretrain_dir=_STATE['pretrain'])
    with self.assertRaisesRegex(ValueError,
                                r'does not match .* has shape .* needs'):
      exp.validate()

  def test_failed_validation_leaves_job_dir_untouched(self):
    job = os.path.join(_STATE['tmp'], 'untouched')
    call = runs.recipe_call(finetune.finetune, size='smoke',
                            pretrain_dir=os.path.join(_STATE['tmp'], 'nope'))
    proc = pax_run.run_pax([f'--fdl=config:{call}', f'--job_log_dir={job}'],
                           check=False, module='vit22b_pax.main')
    self.assertNotEqual(proc.returncode, 0)
    self.assertIn('No checkpoint found', proc.stdout)
    self.assertFalse(os.path.exists(job))


if __name__ == '__main__':
  absltest.main()
