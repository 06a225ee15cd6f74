# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The recipes' dtype='bfloat16' compute setting, through paxml.

Two runs of the same smoke pretraining (same data, same initialisation), in
float32 and in bfloat16: the bfloat16 run's losses are finite and within
1% of the float32 run's at every summary step (measured: <= 0.5%; a
bfloat16 loss near 3.0 is quantised to 2^-6 = 0.016, 0.5%), its weights
stay float32 in the checkpoint (bfloat16 is the compute dtype only), and
its losses are bfloat16 values (the forward pass, loss included, runs in
bfloat16).
"""

import os
import tempfile

from absl.testing import absltest
import ml_dtypes
import numpy as np

from fiddle_configs import pretrain
from tests.experiments import pax_run
from vit22b_pax.runtime import checkpoints
from vit22b_pax.tools import runs

TOLERANCE = 0.01  # relative, per summary step
_STATE = {}


def setUpModule():
  tmp = tempfile.mkdtemp(prefix='vit22b_bf16_')
  for dtype in ('float32', 'bfloat16'):
    job = os.path.join(tmp, dtype)
    call = runs.recipe_call(pretrain.pretrain, size='smoke', dtype=dtype)
    pax_run.run_pax([f'--fdl=config:{call}', f'--job_log_dir={job}'],
                    module='vit22b_pax.main')
    _STATE[dtype] = job


class Bfloat16Test(absltest.TestCase):

  def test_losses_finite_and_close_to_float32(self):
    f32 = pax_run.scalars(_STATE['float32'], 'train', 'loss')
    bf16 = pax_run.scalars(_STATE['bfloat16'], 'train', 'loss')
    self.assertEqual(sorted(f32), sorted(bf16))
    self.assertGreaterEqual(len(f32), 3)
    for step in f32:
      self.assertTrue(np.isfinite(bf16[step]), step)
      self.assertLessEqual(abs(bf16[step] - f32[step]) / abs(f32[step]),
                           TOLERANCE, f'step {step}: {bf16[step]} vs '
                           f'{f32[step]}')
    # The bfloat16 forward really ran: its losses are bfloat16 numbers.
    as_bf16 = lambda v: float(np.float32(v).astype(ml_dtypes.bfloat16))
    self.assertTrue(all(as_bf16(v) == v for v in bf16.values()))
    self.assertFalse(all(as_bf16(v) == v for v in f32.values()))

  def test_weights_stay_float32(self):
    ckpt = checkpoints.resolve(_STATE['bfloat16'])
    self.assertEqual(ckpt.step, 6)
    dtypes = {name: dtype for name, (_, dtype) in
              checkpoints.variables(ckpt).items()}
    self.assertGreater(len(dtypes), 10)
    self.assertEqual(set(dtypes.values()), {'float32'}, dtypes)
    for name in sorted(dtypes)[:3]:
      value = checkpoints.read_variable(ckpt, name)
      self.assertEqual(value.dtype, np.float32)
      self.assertTrue(np.isfinite(value).all())


if __name__ == '__main__':
  absltest.main()
