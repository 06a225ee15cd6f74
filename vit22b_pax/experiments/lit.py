# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""LiT: locked-image tuning (Zhai et al. 2022) on a pretraining checkpoint.

The image tower is the pretrained classifier's encoder, loaded under
`params/image/` and locked; a small byte-level text transformer learns to
match its embeddings with the contrastive loss on (image, caption) pairs. The
procedural data's captions come from its attributes ("a striped red
triangle"); evaluation is zero-shot classification by text prompts
("a photo of a triangle.", ...).

  python -m paxml.main --job_log_dir=runs/lit \
      --fdl_config=vit22b_pax.experiments.lit.ProceduralLiTTiny \
      --fdl.PRETRAIN_DIR='"runs/pretrain"'
"""

from __future__ import annotations

from paxml import experiment_registry
from praxis import pax_fiddle

from vit22b_pax.data import captions
from vit22b_pax.data import procedural
from vit22b_pax.experiments import finetune
from vit22b_pax.experiments import pretrain
from vit22b_pax.layers import text_tower
from vit22b_pax.models import lit


class LiTBase(finetune.WarmStartBase):
  """Locked image tower from PRETRAIN_DIR + a text tower trained from scratch.

  The zero-shot class names are SHAPES[:NUM_CLASSES] of the procedural data.
  """

  HEAD_REGEX = None
  LOAD_RULES = (lit.IMAGE_LOAD_RULE,)
  WITH_CAPTIONS = True
  CAPTION_LENGTH = 32
  EVAL_CONFLICT = False
  TEXT_DIMS = 128
  TEXT_LAYERS = 2
  TEXT_HEADS = 4
  TEXT_HIDDEN_DIMS = 512
  IMAGE_PROJ = False  # Fully locked ("LU"): text embeds into image space.
  TEMPERATURE_INIT = 10.0
  WEIGHT_DECAY = 1e-4

  def _class_prompt_ids(self) -> tuple:
    names = procedural.SHAPES[:self.NUM_CLASSES]
    prompts = captions.zero_shot_prompts(names)
    return tuple(tuple(map(tuple, captions.tokenize(p, self.CAPTION_LENGTH)))
                 for p in prompts)

  def _model(self):
    image_p = self._source()._model()
    embed_dim = image_p.network_tpl.model_dims
    text_p = pax_fiddle.Config(
        text_tower.TextTower, name='text', max_len=self.CAPTION_LENGTH,
        model_dims=self.TEXT_DIMS, num_layers=self.TEXT_LAYERS,
        num_heads=self.TEXT_HEADS, hidden_dims=self.TEXT_HIDDEN_DIMS,
        embed_dim=embed_dim)
    return pax_fiddle.Config(
        lit.LiTModel, name='lit', image_tpl=image_p, text_tpl=text_p,
        image_proj=self.IMAGE_PROJ, temperature_init=self.TEMPERATURE_INIT,
        zeroshot_prompt_ids=self._class_prompt_ids())

  def _learner(self):
    learner_p = super()._learner()
    learner_p.bprop_variable_exclusion = [lit.IMAGE_EXCLUSION]
    return learner_p

  def flops_per_example(self) -> float:
    """Image tower forward (2N per token) + text tower training (6N per
    token, N from its block sizes; embeddings excluded as in the paper)."""
    d, f = self.TEXT_DIMS, self.TEXT_HIDDEN_DIMS
    text_n = self.TEXT_LAYERS * (4 * d * d + 2 * d * f)
    text = self.CAPTION_LENGTH * (
        6 * text_n + 12 * self.TEXT_LAYERS * d * self.CAPTION_LENGTH)
    return self._source().flops_per_example() / 3 + text


@experiment_registry.register
class ProceduralLiTTiny(finetune.TinyRun, LiTBase,
                        pretrain.ProceduralViT22BTiny):
  """LiT on the ProceduralViT22BTiny image tower: captions from attributes,
  zero-shot accuracy over the 8 shape names."""

  LEARNING_RATE = 1e-3


@experiment_registry.register
class ProceduralLiTSmoke(LiTBase, pretrain.ProceduralViT22BSmoke):
  """Seconds-long LiT on ProceduralViT22BSmoke, for tests."""

  PRETRAIN_EXPERIMENT = pretrain.ProceduralViT22BSmoke
  TEXT_DIMS = 16
  TEXT_LAYERS = 1
  TEXT_HEADS = 2
  TEXT_HIDDEN_DIMS = 32
  CAPTION_LENGTH = 24
  TRAIN_STEPS = 4
