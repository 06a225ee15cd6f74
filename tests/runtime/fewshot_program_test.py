# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""FewshotProgram inside a real paxml training job."""

import os
import tempfile

from absl.testing import absltest
from paxml import experiment_registry
from praxis import base_hyperparams

from tests.experiments import pax_run
from vit22b_pax.eval import fewshot
from vit22b_pax.eval import fewshot_data
from vit22b_pax.experiments import pretrain
from vit22b_pax.runtime import fewshot_program
from vit22b_pax.tools import fewshot as tool


@experiment_registry.register
class SmokeWithFewshot(pretrain.ProceduralViT22BSmoke):
  """The smoke pretraining job plus few-shot on the procedural data."""

  EVAL_CONFLICT = False

  def eval_programs(self):
    configs = fewshot_program.fewshot_program_configs(
        'procedural', self.IMAGE_SIZE, 40, pool_examples=120,
        test_examples=80, shots=(1, 3), num_seeds=2)
    return super().eval_programs() + [base_hyperparams.instantiate(c)
                                      for c in configs]


class FewshotProgramTest(absltest.TestCase):

  def test_summaries_at_every_eval(self):
    job = os.path.join(tempfile.mkdtemp(prefix='fewshot_program_'), 'job')
    pax_run.run_pax([f'--exp={__name__}.SmokeWithFewshot',
                     f'--job_log_dir={job}'], module='vit22b_pax.main')
    for k in (1, 3):
      acc = pax_run.scalars(job, 'eval_test_fewshot_procedural',
                            f'fewshot/procedural/{k}shot')
      std = pax_run.scalars(job, 'eval_test_fewshot_procedural',
                            f'fewshot/procedural/{k}shot_std')
      self.assertEqual(sorted(acc), [3, 6])  # EVAL_INTERVAL_STEPS = 3.
      self.assertEqual(sorted(std), [3, 6])
      for v in acc.values():
        # 10 classes; 80 test images: multiples of 1/80 averaged over 2.
        self.assertBetween(v, 0.0, 1.0)
        self.assertAlmostEqual(v * 160, round(v * 160), places=4)
    # The regular eval still runs beside it.
    self.assertIn(6, pax_run.scalars(job, 'eval_test_test',
                                     'Metrics/accuracy'))
    # The numbers at the last step are the checkpoint tool's on the final
    # checkpoint (features through the partitioned step vs plain jit: equal
    # up to rounding, i.e. at most one test image flips in one draw).
    features_fn, info = tool.restore_feature_fn(SmokeWithFewshot, job)
    self.assertEqual(info['step'], 6)
    d = fewshot_data.fewshot_data('procedural', 16, 40, 120, 80)
    px, py = tool.pass_features(features_fn, d.pool)
    tx, ty = tool.pass_features(features_fn, d.test)
    want = fewshot.evaluate(px, py, tx, ty, 10, (1, 3), 2)
    for k in (1, 3):
      got = pax_run.scalars(job, 'eval_test_fewshot_procedural',
                            f'fewshot/procedural/{k}shot')[6]
      self.assertAlmostEqual(got, want[k].mean, delta=1 / 160 + 1e-6)


if __name__ == '__main__':
  absltest.main()
