# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""MfuTrainProgram in a real `python -m paxml.main` run.

A tiny registered experiment (one linear layer on synthetic data) trains 12
steps with `MfuTrainProgram`; the test reads the TensorBoard event file and
checks that 'mfu' and 'model_tflops_per_sec' were written at the summary
steps and agree with the 'Steps/sec' written next to them:
mfu = steps/sec * batch * flops_per_example / (peak * chips).
"""

import glob
import os
import subprocess
import sys
import tempfile

from absl.testing import absltest
import jax.numpy as jnp
import numpy as np
from paxml import base_experiment
from paxml import experiment_registry
from paxml import tasks_lib
from praxis import base_input
from praxis import base_layer
from praxis import base_model
from praxis import optimizers
from praxis import pax_fiddle
from praxis import py_utils
from praxis import schedules
from praxis import test_utils
from praxis.layers import linears

from fiddle_configs import common
from vit22b_pax.perf import flops
from vit22b_pax.runtime import mfu

NestedMap = py_utils.NestedMap
BATCH = 8
FLOPS_PER_EXAMPLE = 3e9
PEAK = 1e12


class _TinyInput(base_input.BaseInput):
  """Fixed synthetic regression batches.

  Attributes:
    dims: feature size.
  """
  dims: int = 16

  def get_next(self):
    rng = np.random.default_rng(self.infeed_host_index)
    return NestedMap(x=rng.standard_normal(
        (self.batch_size, self.dims)).astype(np.float32))


class _TinyModel(base_model.BaseModel):
  """One linear layer, squared-output loss.

  Attributes:
    dims: feature size.
  """
  dims: int = 16

  def setup(self):
    self.create_child('fc', pax_fiddle.Config(
        linears.Linear, input_dims=self.dims, output_dims=self.dims))

  def compute_predictions(self, input_batch):
    return self.fc(input_batch.x)

  def compute_loss(self, predictions, input_batch):
    loss = jnp.mean(jnp.square(predictions))
    return NestedMap(loss=(loss, jnp.array(1.0))), NestedMap()


@experiment_registry.register
class TinyMfuExperiment(base_experiment.BaseExperiment):
  """12 steps, summaries every 4 steps, MFU against a fixed 1 TFLOP/s peak."""

  def datasets(self):
    return [pax_fiddle.Config(_TinyInput, name='train', batch_size=BATCH,
                              is_training=True)]

  def task(self):
    task_p = pax_fiddle.Config(tasks_lib.SingleTask, name='tiny')
    task_p.model = pax_fiddle.Config(_TinyModel, name='tiny_model')
    task_p.model.ici_mesh_shape = [1, 1, 1]
    task_p.model.mesh_axis_names = ['replica', 'data', 'mdl']
    lp = task_p.train.learner
    lp.loss_name = 'loss'
    lp.optimizer = pax_fiddle.Config(
        optimizers.ShardedSgd, learning_rate=0.01,
        lr_schedule=pax_fiddle.Config(schedules.Constant))
    tp = task_p.train
    tp.num_train_steps = 12
    tp.summary_interval_steps = 4
    tp.compute_steps_per_sec_interval_steps = 2
    tp.save_interval_steps = 1000
    tp.eval_skip_train = True
    return task_p

  def train_programs(self):
    return [mfu.MfuTrainProgram(
        flops_per_example=FLOPS_PER_EXAMPLE, peak_flops_per_chip=PEAK)]


def _read_scalars(path):
  """{tag: {step: value}} of the scalar summaries in one event file."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  out = {}
  for event in tf.compat.v1.train.summary_iterator(path):
    for v in event.summary.value:
      if v.metadata.plugin_data.plugin_name == 'scalars':
        out.setdefault(v.tag, {})[event.step] = float(
            tf.make_ndarray(v.tensor))
  return out


class MfuProgramTest(test_utils.TestCase):

  def test_mfu_summary_in_paxml_run(self):
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1',
               JAX_PLATFORMS='cpu', TF_CPP_MIN_LOG_LEVEL='3',
               PYTHONPATH=root + os.pathsep + os.environ.get('PYTHONPATH', ''))
    with tempfile.TemporaryDirectory() as log_dir:
      proc = subprocess.run(
          [sys.executable, '-m', 'paxml.main',
           '--exp=tests.runtime.mfu_test.TinyMfuExperiment',
           f'--job_log_dir={log_dir}', '--mode=train'],
          cwd=root, env=env, capture_output=True, text=True, timeout=300,
          check=False)
      self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
      # paxml's INFO log goes to <job>/logs/pax.log under paxml.main too
      # (runtime/console.py); the console keeps the progress lines.
      with open(os.path.join(log_dir, 'logs', 'pax.log')) as f:
        self.assertIn('model_tflops_per_sec', f.read())
      events = glob.glob(f'{log_dir}/summaries/train/events.out.tfevents.*')
      self.assertLen(events, 1)
      scalars = _read_scalars(events[0])
    self.assertIn('mfu', scalars)
    self.assertIn('model_tflops_per_sec', scalars)
    self.assertEqual(sorted(scalars['mfu']), [4, 8, 12])
    for step, mfu in scalars['mfu'].items():
      steps_per_sec = scalars['Steps/sec'][step]
      want = steps_per_sec * BATCH * FLOPS_PER_EXAMPLE / PEAK
      self.assertAllClose(mfu, want, rtol=1e-5)
      self.assertAllClose(scalars['model_tflops_per_sec'][step],
                          want * PEAK / 1e12, rtol=1e-5)

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, 'flops_per_example'):
      mfu.MfuTrainProgram(flops_per_example=0)
    with self.assertRaisesRegex(ValueError, 'Cannot count the FLOPs'):
      mfu.model_flops_per_example(_TinyModel(name='m'), 32)

  def test_flops_derived_from_the_model(self):
    encoder = common.encoder('Ti/8', 32, model_dims=64, num_layers=2,
                             hidden_dims=256, num_heads=2)
    model = pax_fiddle.build(common.classifier_model(encoder, 10, 'softmax'))
    self.assertEqual(mfu.model_flops_per_example(model, 32),
                     flops.encoder_flops(encoder, 32, 10).per_image)
    # A wider encoder costs more: the count follows the config.
    wide = common.encoder('Ti/8', 32, model_dims=128, num_layers=2,
                          hidden_dims=256, num_heads=2)
    model = pax_fiddle.build(common.classifier_model(wide, 10, 'softmax'))
    self.assertGreater(mfu.model_flops_per_example(model, 32),
                       flops.encoder_flops(encoder, 32, 10).per_image)

    # Linear probe: encoder forward only (2 FLOPs per weight and token, plus
    # the attention's 4LDT), the classifier forward and backward (6 each).
    gap = common.encoder('Ti/8', 32, model_dims=64, num_layers=2,
                         hidden_dims=256, num_heads=2, pooling='gap')
    d, layers, tokens = 64, 2, (32 // 8)**2
    counts = flops.encoder_param_counts(gap)
    n_tok = counts['blocks'] + counts['stem'] + counts['encoder_norm']
    forward = (2 * n_tok + 4 * layers * d * tokens) * tokens
    probe_model = pax_fiddle.build(common.classifier_model(gap, 10, 'softmax'))
    probe = mfu.model_flops_per_example(probe_model, 32, frozen_encoder=True)
    self.assertAlmostEqual(probe, forward + 6 * (d * 10 + 10),
                           delta=1e-9 * probe)
    self.assertLess(probe, mfu.model_flops_per_example(probe_model, 32) / 2.9)

    class _Counted:
      def flops_per_example(self, image_size):
        return 7.0 * image_size
    self.assertEqual(mfu.model_flops_per_example(_Counted(), 3), 21.0)
    with self.assertRaisesRegex(ValueError, 'peak_flops_per_chip'):
      mfu.MfuTrainProgram(1e9, peak_flops_per_chip=-1.0)


if __name__ == '__main__':
  absltest.main()
