# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""An imported checkpoint as the source of every warm-started recipe."""

import os
import tempfile

from absl.testing import absltest
import numpy as np

from fiddle_configs import distill
from fiddle_configs import finetune
from fiddle_configs import lit
from fiddle_configs import public
from tests.experiments import pax_run
from tests.weights import import_util as iu
from tests.weights import reference as ref
from vit22b_pax.layers import variants
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment
from vit22b_pax.runtime import restore
from vit22b_pax.tools import runs

_STATE = {}
DIMS = dict(width=iu.WIDTH, depth=iu.DEPTH, mlp_dim=iu.MLP,
            num_heads=iu.HEADS)
SOURCE = public.source('Ti/8', image_size=16, num_classes=8, pooling='map',
                       **DIMS)


def setUpModule():
  params = ref.big_vision_params(
      np.random.default_rng(0), width=iu.WIDTH, depth=iu.DEPTH, mlp=iu.MLP,
      heads=iu.HEADS, patch=iu.PATCH, grid=2, classes=8, pooling='map')
  path = os.path.join(tempfile.mkdtemp(), 'src.npz')
  np.savez(path, **params)
  rc, _, err, job = iu.run_import('--format', 'big_vision', '--src', path)
  assert rc == 0, err
  _STATE['job'] = job


class PublicRecipeTest(absltest.TestCase):

  def test_model_is_a_standard_vit(self):
    model = public.model('B/16', pooling='map', gelu='exact')
    v, _ = variants.decode_variant('B/16')
    self.assertEqual((model['model_dims'], model['num_layers'],
                      model['hidden_dims'], model['num_heads']),
                     (v.model_dims, v.num_layers, v.hidden_dims, v.num_heads))
    self.assertEqual(model['use_bias'], ('qkv', 'mlp', 'out'))
    self.assertFalse(model['parallel'] or model['fused'] or
                     model['qk_norm'] or model['cls_token'])
    self.assertFalse(model['gelu_approximate'])
    cfg = public.vit('smoke', 'Ti/8', image_size=16, num_classes=8,
                     pooling='cls', **DIMS)
    enc = cfg.task.model.network_tpl
    self.assertTrue(enc.cls_token and enc.block_tpl.norm_bias)
    self.assertEqual(enc.block_tpl.norm_type, 'layernorm')
    with self.assertRaisesRegex(ValueError, "Unknown gelu 'erf'"):
      public.model(gelu='erf')

  def test_every_warm_start_recipe_takes_the_import(self):
    calls = [
        runs.recipe_call(finetune.linear_probe, size='smoke',
                         pretrain_dir=_STATE['job'], source=SOURCE),
        runs.recipe_call(finetune.finetune, size='smoke', image_size=24,
                         pretrain_dir=_STATE['job'], source=SOURCE),
        runs.recipe_call(distill.distill, size='smoke',
                         pretrain_dir=_STATE['job'], source=SOURCE),
        runs.recipe_call(lit.lit, size='smoke', pretrain_dir=_STATE['job'],
                         source=SOURCE),
    ]
    for call in calls:
      experiment.resolve(call).validate()  # Loads every variable it needs.
    exp = runs.recipe_call(public.vit, size='smoke', variant='Ti/8',
                           image_size=16, num_classes=8, pooling='map', **DIMS)
    predict, info = restore.restore_predict_fn(exp, _STATE['job'])
    self.assertEqual((info['step'], info['num_classes'], info['image_size']),
                     (0, 8, 16))
    probs = predict(iu.random_images(0, 16))
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)

  def test_wrong_source_is_caught_before_running(self):
    wrong = public.source('Ti/8', image_size=16, num_classes=8,
                          pooling='map', **dict(DIMS, mlp_dim=2 * iu.MLP))
    call = runs.recipe_call(finetune.linear_probe, size='smoke',
                            pretrain_dir=_STATE['job'], source=wrong)
    with self.assertRaisesRegex(ValueError, r"'params/network/blocks_0/"
                                r"b_mlp_in' has shape \(64,\) there but .* "
                                r'needs \(128,\)'):
      experiment.resolve(call).validate()

  def test_finetune_at_new_resolution_through_paxml(self):
    job = os.path.join(tempfile.mkdtemp(), 'ft')
    call = runs.recipe_call(finetune.finetune, size='smoke', image_size=24,
                            pretrain_dir=_STATE['job'], source=SOURCE)
    # Zero learning rate: every loaded variable comes out as it was loaded.
    pax_run.run_pax([f'--fdl=config:{call}', f'--job_log_dir={job}',
                     '--fdl=set:task.train.learner.optimizer.learning_rate=0.0'
                     ], module='vit22b_pax.main')
    got = checkpoints.resolve(job)
    src = checkpoints.resolve(_STATE['job'])
    table = checkpoints.read_variable(src, 'params/network/pos_emb')
    want = ref.linear_corner_aligned(table.reshape(2, 2, -1), 3, 3)
    np.testing.assert_allclose(
        checkpoints.read_variable(got, 'params/network/pos_emb'),
        want.reshape(1, 9, -1), rtol=1e-5, atol=1e-6)
    for name in ('params/network/patch_w', 'params/network/map_head/w_q'):
      np.testing.assert_array_equal(checkpoints.read_variable(got, name),
                                    checkpoints.read_variable(src, name))
    loss = pax_run.scalars(job, 'train', 'Metrics/total_loss') or (
        pax_run.scalars(job, 'train', 'total_loss'))
    self.assertTrue(loss and all(np.isfinite(v) for v in loss.values()))


if __name__ == '__main__':
  absltest.main()
