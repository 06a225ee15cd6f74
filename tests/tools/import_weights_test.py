# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""tools/import_weights: the command line, what it writes and prints."""

import ast
import json
import os
import tempfile

from absl.testing import absltest
from fiddle._src.absl_flags import utils as fdl_flag_utils
import numpy as np

from fiddle_configs import public
from tests.weights import import_util as iu
from tests.weights import reference as ref
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment
from vit22b_pax.runtime import integrity
from vit22b_pax.tools import import_weights


def _npz(pooling, classes=5, drop_head=False):
  params = ref.big_vision_params(
      np.random.default_rng(0), width=iu.WIDTH, depth=iu.DEPTH, mlp=iu.MLP,
      heads=iu.HEADS, patch=iu.PATCH, grid=2, classes=classes,
      pooling=pooling)
  if drop_head:  # SigLIP image towers have no classifier.
    del params['head/kernel'], params['head/bias']
  path = os.path.join(tempfile.mkdtemp(), 'vit.npz')
  np.savez(path, **params)
  return path


class ImportWeightsTest(absltest.TestCase):

  def test_writes_a_paxml_checkpoint_and_runnable_commands(self):
    rc, out, err, job = iu.run_import('--format', 'big_vision', '--src',
                                      _npz('tok'), '--image_size', '32',
                                      '--loss', 'sigmoid')
    self.assertEqual(rc, 0, err)
    ckpt = checkpoints.resolve(job)
    self.assertEqual(ckpt.step, 0)
    stored = checkpoints.variables(ckpt)
    self.assertEqual(stored['params/network/pos_emb'][0], (1, 16, iu.WIDTH))
    self.assertEqual(stored['params/softmax/logits_ffn/linear/w'][0],
                     (iu.WIDTH, 5))
    # The optimizer states of a paxml job at step 0 are saved too (paxml's
    # metadata lists the model variables only).
    self.assertTrue(any(p.name.startswith('opt_states')
                        for p in ckpt.state_dir.iterdir()))
    meta = json.load(open(os.path.join(job, 'import.json')))
    self.assertEqual(meta['recipe_args']['image_size'], 32)
    self.assertIn('position embedding resampled 2x2 -> 4x4 (zoom).',
                  meta['notes'])
    commands = meta['commands']
    # Every printed command is in the output, and its recipe calls parse
    # and build the experiments they name.
    for key in ('predict', 'export', 'linear_probe', 'finetune'):
      self.assertIn(commands[key], out)
    exp = experiment.resolve(commands['experiment'])
    self.assertEqual(exp.task().model.softmax_tpl.cls.__name__,
                     'SigmoidCrossEntropy')
    source = ast.literal_eval(commands['source'])
    self.assertEqual(source, public.source(**meta['recipe_args']))
    for key in ('linear_probe', 'finetune'):
      call = commands[key].split('--fdl=config:')[1].rstrip('"')
      parsed = fdl_flag_utils.CallExpression.parse(call)
      self.assertEqual(parsed.kwargs['pretrain_dir'], job)
      self.assertEqual(parsed.kwargs['source'], source)
    experiment.resolve(call).task()  # Builds (the data dir is a stand-in).

  def test_checkpoint_has_the_integrity_manifest(self):
    rc, _, err, job = iu.run_import('--format', 'big_vision', '--src',
                                    _npz('gap'))
    self.assertEqual(rc, 0, err)
    ckpt = checkpoints.resolve(job)
    self.assertTrue(integrity.manifest_path(ckpt).exists())
    verdict = integrity.verify(ckpt, 'checksum')
    self.assertTrue(verdict.ok and verdict.manifest, verdict.describe())

  def test_printed_commands_fit_the_machine(self):
    # The test machine has no accelerator: CPU-sized commands by default.
    self.assertEqual(import_weights.default_size(), 'smoke')
    rc, out, err, job = iu.run_import('--format', 'big_vision', '--src',
                                      _npz('gap'))
    self.assertEqual(rc, 0, err)
    commands = json.load(open(os.path.join(job, 'import.json')))['commands']
    for key in ('predict', 'export', 'linear_probe', 'finetune'):
      self.assertTrue(commands[key].startswith('.venv/bin/python -m '),
                      commands[key])
    self.assertIn('Sized for this CPU', out)
    steps, batch = import_weights.CPU_RUN
    for key in ('linear_probe', 'finetune'):
      call = commands[key].split('--fdl=config:')[1].rstrip('"')
      kwargs = fdl_flag_utils.CallExpression.parse(call).kwargs
      self.assertEqual((kwargs['size'], kwargs['steps'],
                        kwargs['batch_size']), ('smoke', steps, batch))
      self.assertNotIn('image_size', kwargs)  # The source's resolution.
      exp = experiment.resolve(call)
      self.assertEqual(exp.task().train.num_train_steps, steps)
      self.assertEqual([d.batch_size for d in exp.train_datasets()], [batch])
      self.assertEqual(exp.get_input_specs_provider_params().batch_size,
                       batch)
    # An accelerator-sized import keeps the size's own run.
    rc, out, err, job = iu.run_import('--format', 'big_vision', '--src',
                                      _npz('gap'), '--size', 'b16')
    self.assertEqual(rc, 0, err)
    commands = json.load(open(os.path.join(job, 'import.json')))['commands']
    self.assertNotIn('batch_size', commands['linear_probe'])
    self.assertIn("size='b16'", commands['linear_probe'])

  def test_refuses_a_directory_with_checkpoints(self):
    rc, _, err, job = iu.run_import('--format', 'big_vision', '--src',
                                    _npz('gap'))
    self.assertEqual(rc, 0, err)
    rc, _, err, _ = iu.run_import('--format', 'big_vision', '--src',
                                  _npz('gap'), job=job)
    self.assertEqual(rc, 2)
    self.assertIn('already holds checkpoints', err)

  def test_headless_tower_needs_num_classes(self):
    path = _npz('map', drop_head=True)
    rc, _, err, _ = iu.run_import('--format', 'big_vision', '--src', path)
    self.assertEqual(rc, 2)
    self.assertIn('no classifier head: pass --num_classes', err)
    rc, out, err, job = iu.run_import('--format', 'big_vision', '--src', path,
                                      '--num_classes', '3')
    self.assertEqual(rc, 0, err)
    self.assertIn('zero-initialised 3-way head', out)
    w = checkpoints.read_variable(checkpoints.resolve(job),
                                  'params/softmax/logits_ffn/linear/w')
    self.assertEqual(w.shape, (iu.WIDTH, 3))
    self.assertEqual(np.abs(w).max(), 0.0)
    rc, _, err, _ = iu.run_import('--format', 'big_vision', '--src',
                                  _npz('tok'), '--num_classes', '3')
    self.assertEqual(rc, 2)
    self.assertIn("--num_classes=3 but the checkpoint's head has 5", err)

  def test_wrong_variant_names_the_tensor(self):
    rc, _, err, job = iu.run_import('--format', 'big_vision', '--src',
                                    _npz('tok'), '--mlp_dim', '128')
    self.assertEqual(rc, 2)
    self.assertIn("'Transformer/encoderblock_0/MlpBlock_0/Dense_0/kernel' has "
                  'shape (32, 64) but ViT-Ti/8', err)
    self.assertFalse(os.path.exists(job))


if __name__ == '__main__':
  absltest.main()
