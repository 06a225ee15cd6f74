# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""LiT: locked-image tuning (Zhai et al. 2022) on a pretraining run.

The image tower is the pretrained classifier, loaded under `params/image/`
and locked; a small byte-level text transformer learns to match its
embeddings with the contrastive loss on (image, caption) pairs. The
procedural data's captions come from its attributes ("a striped red
triangle"); evaluation is zero-shot classification by text prompts
("a photo of a triangle.", ...).

  python -m paxml.main --job_log_dir=runs/lit \
      --fdl=config:fiddle_configs.lit.lit(size='tiny',pretrain_dir='runs/pretrain')
"""

from __future__ import annotations

from typing import Any, Mapping

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.data import captions as captions_lib
from vit22b_pax.data import procedural
from vit22b_pax.layers import text_tower
from vit22b_pax.models import lit as lit_model

# The text tower of each size: (width, depth, heads, MLP width), caption
# length in byte tokens.
TEXT = {'smoke': (dict(model_dims=16, num_layers=1, num_heads=2,
                       hidden_dims=32), 24),
        'tiny': (dict(model_dims=128, num_layers=2, num_heads=4,
                      hidden_dims=512), 32)}


def class_prompt_ids(num_classes: int, length: int) -> tuple:
  """Token ids of one zero-shot prompt per procedural shape class."""
  prompts = captions_lib.zero_shot_prompts(procedural.SHAPES[:num_classes])
  return tuple(tuple(map(tuple, captions_lib.tokenize(p, length)))
               for p in prompts)


def lit(size: str = 'tiny', *, pretrain_dir: str | None = None,
        pretrain_step: int | None = None, steps: int | None = None,
        learning_rate: float = 1e-3, image_proj: bool = False,
        temperature_init: float = 10.0, seed: int = 0,
        source: Mapping[str, Any] | None = None) -> common.Config:
  """LiT on a procedural pretraining run (captions come from its data).

  Args:
    size: the image tower's size ('smoke' or 'tiny'); the run is its
      `transfer`, the text tower is TEXT[size].
    pretrain_dir: the image tower's run (its job_log_dir).
    pretrain_step: its checkpoint step; None = the latest.
    steps: training steps.
    learning_rate: peak learning rate.
    image_proj: a trainable projection on the locked features; False =
      fully locked ("LU"): the text tower embeds into the image space.
    temperature_init: initial contrastive temperature.
    seed: data seed; the text tower is initialised with seed 1234 + seed.
    source: more arguments of the tower's `pretrain.pretrain` call.
  """
  if size not in TEXT:
    raise ValueError(f'LiT has text towers for sizes {sorted(TEXT)}, not '
                     f'{size!r}.')
  src = pretrain.pretrain(size, **{'data': 'procedural', **(source or {})})
  scale = common.scale(size)
  run = scale.transfer
  steps = steps or run.steps
  image = src.task.model
  image_size = src.input_specs_provider.image_size
  num_classes = image.softmax_tpl.num_classes
  text_dims, caption_length = TEXT[size]

  text = common.Config(
      text_tower.TextTower, name='text', max_len=caption_length,
      embed_dim=image.network_tpl.model_dims, **text_dims)
  model = common.Config(
      lit_model.LiTModel, name='lit', image_tpl=image, text_tpl=text,
      image_proj=image_proj, temperature_init=temperature_init,
      zeroshot_prompt_ids=class_prompt_ids(num_classes, caption_length))
  learner = common.learner(run, steps, learning_rate=learning_rate,
                           weight_decay=1e-4,
                           frozen=lit_model.IMAGE_EXCLUSION)
  task = common.task(
      f'lit_{size}', model, learner, run, steps=steps, seed=seed,
      mesh=image.ici_mesh_shape, dtype=str(image.fprop_dtype))
  common.warm_start(task, src, pretrain_dir, [lit_model.IMAGE_LOAD_RULE],
                    step=pretrain_step)

  inputs = common.procedural_data(
      image_size=image_size, num_classes=num_classes,
      batch_size=run.batch_size, eval_examples=scale.eval_examples, seed=seed,
      conflict=False, captions=caption_length)
  return common.experiment_config(task, inputs)
