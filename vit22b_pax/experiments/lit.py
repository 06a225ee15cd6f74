# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Registered LiT experiment (recipe: `fiddle_configs.lit`).

  python -m paxml.main --job_log_dir=runs/lit \
      --fdl=config:fiddle_configs.lit.lit(size='tiny',pretrain_dir='runs/pretrain')
"""

from fiddle_configs import lit
from vit22b_pax.runtime import experiment


@experiment.register
class ProceduralLiTTiny(experiment.RecipeExperiment):
  """LiT on the tiny pretraining run's locked image tower: captions from
  the procedural attributes, zero-shot accuracy over the 8 shape names."""
  RECIPE = lit.lit
  ARGS = {'size': 'tiny'}
