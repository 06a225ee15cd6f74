# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fiddle builders of every registered vit22b_pax experiment.

Each builder returns a `pax_fiddle.Config` of a ParameterizedExperiment whose
whole tree (task, model, learner, datasets) is overridable from the command
line:

  python -m paxml.main --job_log_dir=runs/x \
      --fdl=config:fiddle_configs.pretrain.procedural_tiny \
      --fdl=set:task.train.num_train_steps=100 \
      --fdl=set:task.model.network_tpl.num_layers=2

A builder also takes the experiment's UPPER_CASE constants as keyword
arguments: `--fdl=config:fiddle_configs.pretrain.procedural_tiny(TRAIN_STEPS=100)`.
"""
