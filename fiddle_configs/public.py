# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Standard (public) ViTs as recipe calls: imported big_vision / timm weights.

Our encoder in its standard-ViT mode is the ViT of big_vision, AugReg, timm
and SigLIP: sequential pre-LN blocks, separate (unfused) q/k/v/MLP weights,
LayerNorm with a bias, biases on q/k/v, the attention output and the MLP, no
QK-norm; the GELU of the source (tanh approximation for big_vision, exact
for timm); a class token where the source has one; MAP, global-average or
class-token pooling.

`source(...)` gives the arguments of `pretrain.pretrain` that build such a
model, so every warm-started recipe takes an imported checkpoint as its
source; `vit(...)` is that pretraining experiment itself (for `--exp` of
`tools/predict`, `tools/export`, `tools/run_stimuli`, `tools/ood_eval`).
`python -m vit22b_pax.tools.import_weights` prints the exact calls, e.g.

  python -m vit22b_pax.tools.predict --job_log_dir=runs/vit_b16 \
      --exp="fiddle_configs.public.vit(variant='B/16',pooling='cls',gelu='exact')" img.jpg
  python -m paxml.main --job_log_dir=runs/probe \
      "--fdl=config:fiddle_configs.finetune.linear_probe(size='b16',data='image_folder',data_dir='/data/pets',num_classes=37,pretrain_dir='runs/vit_b16',source={...})"
"""

from __future__ import annotations

from typing import Any

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.layers import variants

# Block switches of the standard ViT (ViT-22B's defaults are the opposite).
STANDARD_BLOCK = {'parallel': False, 'fused': False, 'qk_norm': False,
                  'use_bias': ('qkv', 'mlp', 'out'),
                  'norm_type': 'layernorm', 'norm_bias': True}
GELUS = {'tanh': True, 'exact': False}


def model(variant: str = 'B/16', *, pooling: str = 'cls',
          cls_token: bool | None = None, gelu: str = 'tanh',
          scan: bool = False, width: int | None = None,
          depth: int | None = None, mlp_dim: int | None = None,
          num_heads: int | None = None) -> dict[str, Any]:
  """Encoder overrides (`pretrain.pretrain(model=...)`) of a standard ViT.

  Args:
    variant: size-table variant ('Ti/16' .. 'e/14'); its width, depth, MLP
      and heads unless given below.
    pooling: 'map', 'gap' or 'cls'.
    cls_token: a class token; default pooling == 'cls'.
    gelu: 'tanh' (big_vision, flax nn.gelu) or 'exact' (timm, nn.GELU).
    scan: stack the blocks with nn.scan (compile time flat in depth).
    width, depth, mlp_dim, num_heads: sizes outside the table (e.g.
      So400m: 1152, 27, 4304, 16).
  """
  if gelu not in GELUS:
    raise ValueError(f'Unknown gelu {gelu!r}; expected one of '
                     f'{sorted(GELUS)}.')
  v, _ = variants.decode_variant(variant)
  return {
      'model_dims': width or v.model_dims,
      'num_layers': depth or v.num_layers,
      'hidden_dims': mlp_dim or v.hidden_dims,
      'num_heads': num_heads or v.num_heads,
      **STANDARD_BLOCK,
      'pooling': pooling,
      'cls_token': pooling == 'cls' if cls_token is None else cls_token,
      'gelu_approximate': GELUS[gelu],
      'scan': scan,
  }


def source(variant: str = 'B/16', *, image_size: int = 224,
           num_classes: int = 1000, loss: str = 'softmax',
           pooling: str = 'cls', cls_token: bool | None = None,
           gelu: str = 'tanh', scan: bool = False, width: int | None = None,
           depth: int | None = None, mlp_dim: int | None = None,
           num_heads: int | None = None) -> dict[str, Any]:
  """Arguments of `pretrain.pretrain` (all but `size`) for a standard ViT.

  This is the `source=` of `finetune.finetune`, `finetune.linear_probe`,
  `distill.distill` and `lit.lit` for an imported checkpoint.

  Args:
    variant, pooling, cls_token, gelu, scan, width, depth, mlp_dim,
      num_heads: see `model`.
    image_size: the resolution the checkpoint's position embedding is for.
    num_classes: classes of its head.
    loss: 'softmax' (single-label heads, e.g. ImageNet-1k fine-tunes) or
      'sigmoid' (multi-label pretraining heads, e.g. ImageNet-21k AugReg).
  """
  _, patch = variants.decode_variant(variant)
  return {'image_size': image_size, 'patch': patch,
          'num_classes': num_classes, 'loss': loss,
          'model': model(variant, pooling=pooling, cls_token=cls_token,
                         gelu=gelu, scan=scan, width=width, depth=depth,
                         mlp_dim=mlp_dim, num_heads=num_heads)}


def vit(size: str = 'b16', variant: str = 'B/16', *, image_size: int = 224,
        num_classes: int = 1000, loss: str = 'softmax', pooling: str = 'cls',
        cls_token: bool | None = None, gelu: str = 'tanh',
        scan: bool = False, width: int | None = None,
        depth: int | None = None, mlp_dim: int | None = None,
        num_heads: int | None = None,
        dtype: str | None = None) -> common.Config:
  """A standard ViT as a (pretraining) experiment: the imported checkpoint's.

  Args:
    size: run size of `common.SCALES` (batch, schedule, mesh); the model is
      the standard ViT below whatever the size.
    dtype: forward dtype ('float32', 'bfloat16'); default the size's.
    Others: see `source`.
  """
  return pretrain.pretrain(
      size, dtype=dtype, **source(
          variant, image_size=image_size, num_classes=num_classes, loss=loss,
          pooling=pooling, cls_token=cls_token, gelu=gelu, scan=scan,
          width=width, depth=depth, mlp_dim=mlp_dim, num_heads=num_heads))
