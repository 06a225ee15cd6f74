# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the non-finite guard: unit checks and one diverging Pax job."""

import tempfile
import types

from absl.testing import absltest
from absl.testing import parameterized
import jax.numpy as jnp
import numpy as np
from paxml import programs
from praxis import test_utils

from tests.experiments import pax_run
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import guard


class _FakeProgram:
  """Stands in for SingleTaskTrainProgram.train_step (no compilation)."""

  def __init__(self, outputs=None, new_vars=None, tag='base'):
    self.outputs = outputs
    self.new_vars = new_vars
    self.tag = tag

  def train_step(self, step, state, prng_key, inputs, static_args):
    del state, prng_key, inputs, static_args
    return (step + 1, types.SimpleNamespace(mdl_vars=self.new_vars),
            self.outputs)


class _Guarded(guard.NonFiniteGuard, _FakeProgram):
  pass


def _outputs(loss=1.0, metric=0.5, grad_norm=2.0, update_norm=0.1):
  return types.SimpleNamespace(
      loss=jnp.float32(loss),
      weighted_scalars={'accuracy': (jnp.float32(metric), jnp.float32(16))},
      summary_tensors={
          'learning/raw_grad_norm_aggregate_scalar': jnp.float32(grad_norm),
          'learning/applied_grad_norm_aggregate_scalar': jnp.float32(
              update_norm),
          'network/blocks_0/max_attention_logit_scalar': jnp.float32(np.inf),
      })


def _program(outputs, new_vars=None, save_interval=10, num_steps=100):
  prog = _Guarded(outputs=outputs, new_vars=new_vars or {'w': jnp.ones(3)},
                  tag='x')
  prog._task = types.SimpleNamespace(train=types.SimpleNamespace(
      save_interval_steps=save_interval, num_train_steps=num_steps))
  prog._train_summary_handler = types.SimpleNamespace(close=lambda: None)
  prog._train_summary_writer = types.SimpleNamespace(flush=lambda: None)
  return prog


class NonFiniteGuardTest(test_utils.TestCase):

  def test_finite_step_passes(self):
    prog = _program(_outputs())
    new_step, state, out = prog.train_step(3, None, None, None, None)
    self.assertEqual(new_step, 4)
    self.assertIs(out, prog.outputs)
    self.assertEqual(prog.tag, 'x')  # kwargs reach the next base.
    np.testing.assert_array_equal(state.mdl_vars['w'], np.ones(3))

  @parameterized.named_parameters(
      ('loss', dict(loss=np.nan), 'loss = nan'),
      ('metric', dict(metric=-np.inf), 'metric accuracy = -inf'),
      ('grad_norm', dict(grad_norm=np.inf), 'learning/raw_grad_norm = inf'),
      ('update_norm', dict(update_norm=np.nan),
       'learning/applied_grad_norm = nan'),
  )
  def test_non_finite_output_raises(self, kwargs, expected):
    prog = _program(_outputs(**kwargs))
    with self.assertRaisesRegex(guard.NonFiniteError, 'step 7') as cm:
      prog.train_step(7, None, None, None, None)
    self.assertIn(expected, str(cm.exception))
    self.assertIsInstance(cm.exception, FloatingPointError)
    self.assertEqual(cm.exception.step, 7)

  def test_unguarded_summary_is_ignored(self):
    prog = _program(_outputs(grad_norm=np.inf))
    prog.guarded_summaries = ('learning/applied_grad_norm',)
    prog.train_step(1, None, None, None, None)

  def test_weights_checked_only_before_a_save(self):
    bad = {'params': {'w': jnp.ones(3), 'b': jnp.array([0.0, np.nan])},
           'step': jnp.int32(2)}
    # new_step 5 is not a save step (interval 10, 100 steps): not checked.
    _program(_outputs(), bad).train_step(4, None, None, None, None)
    with self.assertRaisesRegex(guard.NonFiniteError,
                                r"step 9: updated weight mdl_vars\['params'\]"
                                r"\['b'\] = nan"):
      _program(_outputs(), bad).train_step(9, None, None, None, None)
    with self.assertRaisesRegex(guard.NonFiniteError, 'step 99'):
      _program(_outputs(), bad, save_interval=0).train_step(
          99, None, None, None, None)

  def test_bad_guarded_summaries(self):
    with self.assertRaisesRegex(ValueError, 'guarded_summaries'):
      _Guarded(guarded_summaries=('',))

  def test_composes_with_paxml_program(self):
    prog = guard.GuardedTrainProgram()
    self.assertIsInstance(prog, programs.SingleTaskTrainProgram)
    self.assertTrue(prog.check_state_before_save)


class DivergingJobTest(test_utils.TestCase):
  """The smoke job with an LR spike at step 5, through vit22b_pax.main."""

  def test_stops_and_keeps_last_good_checkpoint(self):
    job = tempfile.mkdtemp(prefix='guard_test_')
    proc = pax_run.run_pax(
        ['--fdl=config:fiddle_configs.ablations.diverging()',
         f'--job_log_dir={job}'], module='vit22b_pax.main', check=False)
    self.assertNotEqual(proc.returncode, 0, proc.stdout[-3000:])
    self.assertIn('NonFiniteError', proc.stdout)
    self.assertRegex(proc.stdout, r'diverged at step 5: '
                     r'learning/applied_grad_norm = inf')
    self.assertIn('last good checkpoint (step 3) is kept', proc.stdout)
    # Saved before the failure: 0 and 3; never the diverged state (6).
    self.assertEqual(checkpoints.steps(job), [0, 3])
    ckpt = checkpoints.resolve(job, 3)
    names = checkpoints.variables(ckpt)
    self.assertGreater(len(names), 5)
    for name in names:
      value = checkpoints.read_variable(ckpt, name)
      self.assertTrue(np.all(np.isfinite(value)), name)
    # Instrumentation at the summary interval (2): per-layer max logit and
    # entropy, gradient norm and update norm, flushed before the error.
    for tag in ('network/blocks_0/max_attention_logit_scalar',
                'network/blocks_1/attention_entropy_scalar',
                'learning/raw_grad_norm_scalar',
                'learning/applied_grad_norm_scalar'):
      values = pax_run.scalars(job, 'train', tag)
      self.assertEqual(sorted(values), [2, 4], tag)
      self.assertTrue(all(np.isfinite(v) for v in values.values()), tag)


if __name__ == '__main__':
  absltest.main()
