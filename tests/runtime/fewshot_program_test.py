# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""FewshotProgram inside a real paxml training job."""

import os
import tempfile

from absl.testing import absltest

from fiddle_configs import fewshot as fewshot_recipes
from tests.experiments import pax_run
from vit22b_pax.eval import fewshot
from vit22b_pax.eval import fewshot_data
from vit22b_pax.tools import fewshot as tool
from vit22b_pax.tools import runs

# The smoke pretraining (6 steps, eval every 3) with few-shot evaluation.
_RECIPE = runs.recipe_call(
    fewshot_recipes.pretrain, size='smoke', fewshot=('procedural',),
    fewshot_pool_examples=120, fewshot_test_examples=80,
    fewshot_shots=(1, 3), fewshot_seeds=2)


class FewshotProgramTest(absltest.TestCase):

  def test_summaries_at_every_eval(self):
    job = os.path.join(tempfile.mkdtemp(prefix='fewshot_program_'), 'job')
    log = pax_run.run_pax([f'--fdl=config:{_RECIPE}', f'--job_log_dir={job}'],
                          module='vit22b_pax.main').stdout
    self.assertIn('[fewshot procedural] step      6 | 1-shot ', log)
    for k in (1, 3):
      acc = pax_run.scalars(job, 'eval_test_fewshot_procedural',
                            f'fewshot/procedural/{k}shot')
      std = pax_run.scalars(job, 'eval_test_fewshot_procedural',
                            f'fewshot/procedural/{k}shot_std')
      self.assertEqual(sorted(acc), [3, 6])  # Every eval interval.
      self.assertEqual(sorted(std), [3, 6])
      for v in acc.values():
        # 80 test images, mean of 2 draws: a multiple of 1/160.
        self.assertBetween(v, 0.0, 1.0)
        self.assertAlmostEqual(v * 160, round(v * 160), places=4)
    # The regular eval still runs beside it.
    self.assertIn(6, pax_run.scalars(job, 'eval_test_test',
                                     'Metrics/accuracy'))
    # The numbers at the last step are the checkpoint tool's on the final
    # checkpoint (features through the partitioned step vs plain jit: equal
    # up to rounding, i.e. at most one test image flips in one draw).
    features_fn, info = tool.restore_feature_fn(_RECIPE, job)
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
