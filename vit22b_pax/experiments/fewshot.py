# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Registered pretraining with few-shot evaluation (recipe:
`fiddle_configs.fewshot`).

  python -m vit22b_pax.main --exp=vit22b_pax.experiments.fewshot.ProceduralTinyFewshot \
      --job_log_dir=runs/pretrain_fewshot
"""

from fiddle_configs import fewshot
from vit22b_pax.runtime import experiment


@experiment.register
class ProceduralTinyFewshot(experiment.RecipeExperiment):
  """The tiny pretraining job (`make train`) plus 1/5/10/25-shot linear
  evaluation on the procedural data at every eval interval."""
  RECIPE = fewshot.pretrain
  ARGS = {'size': 'tiny', 'fewshot': ('procedural',)}
