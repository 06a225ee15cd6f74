# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Ring collective matmuls vs XLA's own partitioning, end to end through
`python -m paxml.main` on 8 fake CPU devices, mesh [1, 2, 4].

The smoke model with a non-zero-initialised head, scanned blocks and full
rematerialisation: every step's gradient flows through the rings' backward
into the encoder, so a wrong ring backward (e.g. a flipped sign) changes the
losses by 1e-3 to 1e-2 within 4 steps, far above the 1e-5 tolerance."""

from concurrent import futures
import os
import tempfile

from absl.testing import absltest
from praxis.layers import base_ops

from fiddle_configs import pretrain
from tests.experiments import pax_run
from vit22b_pax.layers import collective_einsum
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment
from vit22b_pax.tools import runs


def _call(mode):
  return runs.recipe_call(
      pretrain.pretrain, size='smoke', steps=4, mesh=(1, 2, 4),
      collective_matmul=mode, head_zero_init=False,
      model={'num_heads': 4, 'scan': True, 'remat_policy': 'save_nothing'})


_CALLS = {'on': _call('auto'), 'off': _call('off')}
_STATE = {}


def setUpModule():
  tmp = tempfile.mkdtemp(prefix='vit22b_collective_')
  _STATE.update({k: os.path.join(tmp, k) for k in _CALLS})

  def run(key):
    return pax_run.run_pax(
        [f'--fdl=config:{_CALLS[key]}',
         '--fdl=set:task.train.summary_interval_steps=1',
         '--fdl=set:task.train.eval_interval_steps=0',
         f'--job_log_dir={_STATE[key]}'], devices=8).stdout

  # Both jobs at once: each is mostly single-threaded compilation.
  with futures.ThreadPoolExecutor(2) as pool:
    _STATE['logs'] = dict(zip(_CALLS, pool.map(run, _CALLS)))


class CollectiveExperimentTest(absltest.TestCase):

  def test_configs(self):
    for key, op in (('on', collective_einsum.CollectiveEinsumOp),
                    ('off', base_ops.EinsumOp)):
      task = experiment.resolve(_CALLS[key]).task()
      self.assertEqual(task.model.ici_mesh_shape, [1, 2, 4])
      block = task.model.network_tpl.block_tpl
      self.assertIs(block.in_einsum_tpl.cls, op)
      self.assertIs(block.out_einsum_tpl.cls, op)

  def test_losses_match_step_for_step(self):
    on = pax_run.scalars(_STATE['on'], 'train', 'loss')
    off = pax_run.scalars(_STATE['off'], 'train', 'loss')
    self.assertEqual(sorted(on), [1, 2, 3, 4])
    self.assertEqual(sorted(on), sorted(off))
    for step in on:
      self.assertAlmostEqual(on[step], off[step], delta=1e-5 * abs(off[step]),
                             msg=f'step {step}')
    # The run trained: the loss moved by far more than the tolerance.
    self.assertGreater(abs(on[1] - on[4]), 1e-3)

  def test_same_checkpoint_variables(self):
    names = {k: sorted(checkpoints.variables(checkpoints.resolve(_STATE[k])))
             for k in _CALLS}
    self.assertEqual(names['on'], names['off'])
    self.assertIn('params/network/blocks/block/w_in', names['on'])


if __name__ == '__main__':
  absltest.main()
