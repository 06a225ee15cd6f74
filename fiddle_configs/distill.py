# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fiddle builders for distillation.

  python -m paxml.main --job_log_dir=runs/distill \
      --fdl=config:fiddle_configs.distill.distill_tiny(PRETRAIN_DIR="runs/pretrain") \
      --fdl=set:task.model.temperature=2.0
"""

from fiddle_configs import common
from vit22b_pax.experiments import distill


def distill_tiny(**constants):
  """ProceduralDistillTiny (set PRETRAIN_DIR to the teacher's run)."""
  return common.experiment_config(distill.ProceduralDistillTiny, **constants)


def student_scratch_tiny(**constants):
  """ProceduralStudentScratchTiny: the student without a teacher."""
  return common.experiment_config(distill.ProceduralStudentScratchTiny,
                                  **constants)
