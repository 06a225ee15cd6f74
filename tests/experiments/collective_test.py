# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Collective-matmul pretraining vs its XLA-partitioned twin, end to end
through `python -m paxml.main` on 8 fake CPU devices, mesh [1, 2, 4]."""

from concurrent import futures
import os
import tempfile

from absl.testing import absltest
from praxis.layers import base_ops

from tests.experiments import pax_run
from vit22b_pax.experiments import collective
from vit22b_pax.layers import collective_einsum

_MODULE = 'vit22b_pax.experiments.collective'
_EXPS = {'on': 'ProceduralViT22BSmokeCollective',
         'off': 'ProceduralViT22BSmokeCollectiveOff'}
_STATE = {}


def setUpModule():
  tmp = tempfile.mkdtemp(prefix='vit22b_collective_')
  _STATE.update({k: os.path.join(tmp, k) for k in _EXPS})

  def run(key):
    return pax_run.run_pax(
        [f'--exp={_MODULE}.{_EXPS[key]}', f'--job_log_dir={_STATE[key]}'],
        devices=8).stdout

  # Both jobs at once: each is mostly single-threaded compilation.
  with futures.ThreadPoolExecutor(2) as pool:
    logs = dict(zip(_EXPS, pool.map(run, _EXPS)))
  _STATE['logs'] = logs


class CollectiveExperimentTest(absltest.TestCase):

  def test_configs(self):
    for cls, op in ((collective.ProceduralViT22BSmokeCollective,
                     collective_einsum.CollectiveEinsumOp),
                    (collective.ProceduralViT22BSmokeCollectiveOff,
                     base_ops.EinsumOp)):
      task = cls().task()
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
    # The run trained: the loss moved.
    self.assertNotAlmostEqual(on[1], on[4], delta=1e-5)

  def test_same_checkpoint_variables(self):
    def names(job):
      state = os.path.join(job, 'checkpoints', 'checkpoint_00000004', 'state')
      return sorted(n for n in os.listdir(state) if not n.startswith('_'))
    self.assertEqual(names(_STATE['on']), names(_STATE['off']))
    self.assertIn('mdl_vars.params.network.blocks_0.w_in',
                  names(_STATE['on']))


if __name__ == '__main__':
  absltest.main()
