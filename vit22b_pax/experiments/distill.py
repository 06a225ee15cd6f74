# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Registered distillation experiments (recipe: `fiddle_configs.distill`).

  python -m paxml.main --job_log_dir=runs/distill \
      --fdl=config:fiddle_configs.distill.distill(size='tiny',pretrain_dir='runs/pretrain')
"""

from fiddle_configs import distill
from vit22b_pax.runtime import experiment


@experiment.register
class ProceduralDistillTiny(experiment.RecipeExperiment):
  """Distils the tiny pretraining run (4 x 128) into a 2 x 64 student."""
  RECIPE = distill.distill
  ARGS = {'size': 'tiny'}


@experiment.register
class ProceduralStudentScratchTiny(experiment.RecipeExperiment):
  """The same 2 x 64 student trained from scratch (the baseline)."""
  RECIPE = distill.distill
  ARGS = {'size': 'tiny', 'from_scratch': True}
