# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Recipes: the single source of every vit22b_pax experiment's configuration.

Each recipe is a typed function returning the whole experiment as a
`pax_fiddle.Config` (task, model, learner, datasets, programs); its
arguments are the things that change together (size, data, resolution, run
length, mesh), everything else is one `--fdl=set:` away:

  python -m paxml.main --job_log_dir=runs/x \
      --fdl=config:fiddle_configs.pretrain.pretrain(size='tiny',steps=300) \
      --fdl=set:task.model.network_tpl.block_tpl.qk_norm=False

  pretrain.pretrain   pretraining (sizes smoke / tiny / b16 / paper)
  finetune.finetune, finetune.linear_probe
  distill.distill     (from_scratch=True: the student baseline)
  lit.lit             locked-image tuning
  ablations.*         stability and architecture ablations
  common              the pieces they share
"""
