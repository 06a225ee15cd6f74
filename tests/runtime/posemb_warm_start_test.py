# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fine-tuning at another resolution: the table resampled once at load."""

import os
import tempfile

from absl import flags
from absl.testing import absltest
from absl.testing import parameterized
import fiddle as fdl
import jax
import jax.numpy as jnp
import numpy as np
from paxml import checkpoints as pax_checkpoints
from paxml import tasks_lib
from paxml import trainer_lib
from praxis import base_hyperparams
from praxis import base_layer
from praxis import py_utils

from fiddle_configs import finetune
from fiddle_configs import public
from tests.weights import import_util as iu
from tests.weights import reference as ref
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment
from vit22b_pax.runtime import posemb_warm_start as pws
from vit22b_pax.tools import runs

_STATE = {}
SOURCE = public.source('Ti/8', image_size=16, num_classes=5, pooling='gap',
                       width=iu.WIDTH, depth=iu.DEPTH, mlp_dim=iu.MLP,
                       num_heads=iu.HEADS)


def setUpModule():
  if not flags.FLAGS.is_parsed():  # paxml reads flags; pytest never parses.
    flags.FLAGS.mark_as_parsed()
  params = ref.big_vision_params(
      np.random.default_rng(0), width=iu.WIDTH, depth=iu.DEPTH, mlp=iu.MLP,
      heads=iu.HEADS, patch=iu.PATCH, grid=2, classes=5, pooling='gap')
  path = os.path.join(tempfile.mkdtemp(), 'src.npz')
  np.savez(path, **params)
  rc, _, err, job = iu.run_import('--format', 'big_vision', '--src', path)
  assert rc == 0, err
  _STATE['job'] = job
  _STATE['pos_emb'] = checkpoints.read_variable(
      checkpoints.resolve(job), 'params/network/pos_emb')


def _experiment(**kwargs):
  call = runs.recipe_call(finetune.finetune, size='smoke', data='procedural',
                          num_classes=8, pretrain_dir=_STATE['job'],
                          source=SOURCE, **kwargs)
  return experiment.resolve(call)


def _warm_started_vars(exp):
  """The train state paxml builds for a pjit job (initialise, partition,
  then apply_init_checkpoint_rules), as its model variables."""
  task_p = exp.task()
  jax_task = base_hyperparams.instantiate(task_p)
  specs = base_hyperparams.instantiate(
      exp.get_input_specs_provider_params()).get_input_specs()
  specs = jax.tree.map(py_utils.get_global_input_shape_dtype, specs)
  mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]).reshape(1, 1, 1),
                           ('replica', 'data', 'mdl'))
  with base_layer.JaxContext.new_context():
    meta = trainer_lib.create_train_state_metadata(jax_task, specs)
    state, provenance = trainer_lib.initialize_partitioned_model_states(
        jax_task, jax.random.PRNGKey(0), specs, meta.partition_specs,
        global_mesh=mesh,
        checkpoint_type=pax_checkpoints.CheckpointType.GDA)
  return jax.tree.map(np.asarray, state.mdl_vars), provenance


class PosembWarmStartTest(parameterized.TestCase):

  @parameterized.parameters(('zoom', ref.linear_corner_aligned),
                            ('bicubic', ref.pil_bicubic))
  def test_table_is_resampled_once_at_load(self, method, reference):
    exp = _experiment(image_size=24, posemb=method)
    task_p = exp.task()
    self.assertIs(fdl.get_callable(task_p), pws.PosembResamplingTask)
    self.assertEqual(task_p.model.network_tpl.pos_emb_grid, (3, 3))
    exp.validate()
    mdl_vars, provenance = _warm_started_vars(exp)
    net = mdl_vars['params']['network']
    want = reference(_STATE['pos_emb'].reshape(2, 2, -1).astype(np.float64),
                     3, 3).reshape(1, 9, -1)
    np.testing.assert_allclose(net['pos_emb'], want, rtol=1e-5, atol=1e-6)
    source = checkpoints.resolve(_STATE['job'])
    for name in ('patch_w', 'blocks_1/w_mlp_in', 'encoder_norm/bias'):
      got = net
      for key in name.split('/'):
        got = got[key]
      np.testing.assert_array_equal(got, checkpoints.read_variable(
          source, f'params/network/{name}'), err_msg=name)
    # The new head is the recipe's zero init, not the source's 5-way head.
    self.assertEqual(mdl_vars['params']['softmax']['logits_ffn']['linear'][
        'w'].shape, (iu.WIDTH, 8))
    self.assertEqual(
        provenance.mdl_vars['params']['network']['pos_emb'].checkpoint_path,
        str(checkpoints.checkpoint_dir(_STATE['job'])))

  def test_runtime_option_and_same_grid_keep_the_source_table(self):
    exp = _experiment(image_size=24, posemb='runtime')
    self.assertIs(fdl.get_callable(exp.task()), tasks_lib.SingleTask)
    self.assertEqual(exp.task().model.network_tpl.pos_emb_grid, (2, 2))
    same = _experiment()
    self.assertIs(fdl.get_callable(same.task()), tasks_lib.SingleTask)
    mdl_vars, _ = _warm_started_vars(exp)
    np.testing.assert_array_equal(mdl_vars['params']['network']['pos_emb'],
                                  _STATE['pos_emb'])

  def test_errors(self):
    with self.assertRaisesRegex(ValueError, "Unknown posemb 'cubic'"):
      _experiment(image_size=24, posemb='cubic')
    with self.assertRaisesRegex(ValueError, 'image_size 20 is not a positive '
                                'multiple of the patch size 8'):
      _experiment(image_size=20)
    with self.assertRaisesRegex(ValueError, 'must be two positive ints'):
      pws.PosembLoad('a', 'a', (2, 0), (3, 3))
    # A source table that is not on the grid the recipe says.
    exp = _experiment(image_size=24)
    task_p = exp.task()
    task_p.posemb_loads = [pws.PosembLoad(
        finetune.POS_EMB, finetune.POS_EMB, (3, 3), (3, 3))]
    with self.assertRaisesRegex(ValueError, r"has shape \(1, 4, 32\), not a "
                                r'\[1, 9, D\] table of the grid \(3, 3\)'):
      pws.validate(task_p, exp.get_input_specs_provider_params())
    task_p.posemb_loads = [pws.PosembLoad(
        finetune.POS_EMB, 'params/network/nope', (2, 2), (3, 3))]
    with self.assertRaisesRegex(ValueError, "has no 'params/network/nope'"):
      pws.validate(task_p, exp.get_input_specs_provider_params())


if __name__ == '__main__':
  absltest.main()
