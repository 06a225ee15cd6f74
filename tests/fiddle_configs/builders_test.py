# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Every fiddle builder builds, takes constants, and `--fdl=set:` reaches
the run through paxml.main."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import fiddle as fdl
from praxis import pax_fiddle

from fiddle_configs import common
from fiddle_configs import distill
from fiddle_configs import finetune
from fiddle_configs import lit
from fiddle_configs import pretrain
from tests.experiments import pax_run

_BUILDERS = [
    ('procedural_tiny', pretrain.procedural_tiny),
    ('procedural_smoke', pretrain.procedural_smoke),
    ('procedural_b16', pretrain.procedural_b16),
    ('fashion_mnist_tiny', pretrain.fashion_mnist_tiny),
    ('paper', pretrain.paper),
    ('finetune_tiny', finetune.finetune_tiny),
    ('linear_probe_tiny', finetune.linear_probe_tiny),
    ('fashion_mnist_linear_probe_tiny',
     finetune.fashion_mnist_linear_probe_tiny),
    ('distill_tiny', distill.distill_tiny),
    ('student_scratch_tiny', distill.student_scratch_tiny),
    ('lit_tiny', lit.lit_tiny),
]


class BuildersTest(parameterized.TestCase):

  @parameterized.named_parameters(*_BUILDERS)
  def test_builds_an_experiment(self, builder):
    cfg = builder()
    self.assertIs(fdl.get_callable(cfg), common.ViT22BParameterizedExperiment)
    self.assertNotEmpty(cfg.train_datasets)
    self.assertNotEmpty(cfg.eval_datasets)
    exp = pax_fiddle.build(cfg)
    self.assertIsNotNone(exp.executor())  # Evaluates during training.

  def test_constants_and_set_paths_reach_the_config(self):
    cfg = pretrain.procedural_smoke(TRAIN_STEPS=11, NUM_LAYERS=3)
    self.assertEqual(cfg.task.train.num_train_steps, 11)
    self.assertEqual(cfg.task.model.network_tpl.num_layers, 3)
    cfg.task.model.network_tpl.block_tpl.qk_norm = False
    exp = pax_fiddle.build(cfg)
    self.assertFalse(exp.task().model.network_tpl.block_tpl.qk_norm)

  def test_unknown_constant_is_an_error(self):
    with self.assertRaisesRegex(ValueError, "no constant 'TRAIN_STEP'"):
      pretrain.procedural_smoke(TRAIN_STEP=3)

  def test_fdl_set_overrides_a_paxml_run(self):
    job = os.path.join(tempfile.mkdtemp(), 'job')
    pax_run.run_pax([
        '--fdl=config:fiddle_configs.pretrain.procedural_smoke',
        '--fdl=set:task.train.num_train_steps=2',
        '--fdl=set:task.train.save_interval_steps=2',
        f'--job_log_dir={job}'])
    self.assertEqual(pax_run.checkpoint_steps(job)[-1], 2)


if __name__ == '__main__':
  absltest.main()
