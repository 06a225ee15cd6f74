# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Registered stability and architecture ablations
(recipes: `fiddle_configs.ablations`; the tools sweep their arguments).
"""

from fiddle_configs import ablations
from vit22b_pax.runtime import experiment


@experiment.register
class QkNormStability(experiment.RecipeExperiment):
  """The QK-norm stability job with QK-norm, at learning rate 0.03; swept
  with and without QK-norm by `tools/qknorm_sweep`."""
  RECIPE = ablations.qk_norm_stability
  ARGS = {'qk_norm': True}


@experiment.register
class ArchitectureTiny(experiment.RecipeExperiment):
  """The architecture-table job (parallel fused block); the other blocks are
  `block=` arguments (`tools/ablation_table`)."""
  RECIPE = ablations.architecture
  ARGS = {'block': 'parallel_fused'}
