# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A standard ViT's weights in our encoder's variable names.

The format readers (`big_vision.py`, `timm.py`) take a checkpoint's tensors
through a `TensorSource` (every tensor's shape checked against what the
variant needs, every tensor accounted for) and hand `assemble` the pieces of
a standard ViT, already in our layouts:

  patch_w [P, P, C, D], patch_b [D]     conv kernel as (rows, cols, in, out)
  posemb [1, rows*cols, D] + its grid   class-token entry already folded away
  cls [1, 1, D] or None                 added after the position embedding
  blocks: one dict per layer            norm/{scale,bias}, w_q/w_k/w_v
                                        [D, N, H], b_q/b_k/b_v [N, H],
                                        w_attn_out [N, H, D], b_attn_out [D],
                                        mlp_norm/{scale,bias}, w_mlp_in
                                        [D, F], b_mlp_in [F], w_mlp_out
                                        [F, D], b_mlp_out [D]
  encoder_norm {scale, bias}
  map_head dict or None                 probe [1, 1, D], w_q/k/v, b_q/k/v,
                                        w_out, b_out, norm, w_mlp_*, b_mlp_*
  head (w [D, K], b [K]) or None

Our encoder in its standard-ViT mode (`fiddle_configs.public`: sequential
pre-LN blocks, unfused, LayerNorm with bias, biases on q/k/v, the attention
output and the MLP, no QK-norm) computes exactly these models; the variable
names are those of `params/network/...` and `params/softmax/...`.

`assemble` also folds the source's input normalisation into the patch
embedding (our inputs are images in [-1, 1]) and resamples the position
embedding to the target grid once, the way the source codebase does.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Sequence

import numpy as np

from vit22b_pax.core import posemb as posemb_lib

POOLINGS = ('map', 'gap', 'cls')
# Named input normalisations: images in [0, 1] -> (x - mean) / std.
NORMALIZATIONS = {
    # [-1, 1]: big_vision, AugReg, SigLIP, HF google/vit-*.
    'inception': ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    # torchvision / timm IMAGENET_DEFAULT_MEAN / _STD (DeiT, ResNet-style).
    'imagenet': ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


@dataclasses.dataclass(frozen=True)
class Dims:
  """Sizes of a standard ViT.

  Attributes:
    width: model dims D.
    depth: number of blocks L.
    mlp_dim: MLP hidden dims F.
    num_heads: attention heads N.
    patch: patch side P.
    channels: image channels C.
  """

  width: int
  depth: int
  mlp_dim: int
  num_heads: int
  patch: int
  channels: int = 3

  def __post_init__(self):
    for name in ('width', 'depth', 'mlp_dim', 'num_heads', 'patch',
                 'channels'):
      if getattr(self, name) <= 0:
        raise ValueError(f'{name} must be positive, got '
                         f'{getattr(self, name)}.')
    if self.width % self.num_heads:
      raise ValueError(f'num_heads={self.num_heads} does not divide '
                       f'width={self.width}.')

  @property
  def head_dim(self) -> int:
    return self.width // self.num_heads

  def describe(self) -> str:
    return (f'width {self.width}, depth {self.depth}, MLP {self.mlp_dim}, '
            f'{self.num_heads} heads, patch {self.patch}')


def parse_normalization(value: str | None) -> tuple[np.ndarray, np.ndarray]:
  """'inception', 'imagenet' or 'm,m,m/s,s,s' -> (mean [3], std [3])."""
  if value in NORMALIZATIONS:
    mean, std = NORMALIZATIONS[value]
  else:
    try:
      mean_s, std_s = str(value).split('/')
      mean = tuple(float(v) for v in mean_s.split(','))
      std = tuple(float(v) for v in std_s.split(','))
    except ValueError:
      mean = std = ()
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
      raise ValueError(
          f'Unknown input normalization {value!r}; expected one of '
          f'{sorted(NORMALIZATIONS)} or "m1,m2,m3/s1,s2,s3" (per-channel '
          'mean / positive std of images in [0, 1]).')
  return np.asarray(mean, np.float64), np.asarray(std, np.float64)


class TensorSource:
  """Named tensors of one checkpoint, taken with a shape check each.

  `take(name, shape)` returns the tensor as float32 and marks it used;
  `None` in `shape` accepts any size there. `finish()` raises if a tensor
  was never taken (an unsupported part of the model).
  """

  def __init__(self, tensors: Mapping[str, Any], where: str, model: str):
    """Args:
      tensors: name -> array (read lazily: only taken tensors are read).
      where: the checkpoint, for messages (format and path).
      model: what the tensors must fit, for messages ('ViT-B/16 (...)').
    """
    self._tensors = tensors
    self.where, self.model = where, model
    self._used: set[str] = set()

  def has(self, name: str) -> bool:
    return name in self._tensors

  def names(self) -> list[str]:
    return list(self._tensors)

  def shape(self, name: str) -> tuple[int, ...]:
    value = self._tensors[name]
    return tuple(getattr(value, 'shape', np.shape(value)))

  def take(self, name: str, shape: Sequence[int | None]) -> np.ndarray:
    """The tensor `name` as float32, after checking its shape.

    Raises:
      ValueError: it is missing, or its shape is not `shape` (naming it and
        both shapes).
    """
    want = '(' + ', '.join('*' if s is None else str(s) for s in shape) + (
        ',)' if len(shape) == 1 else ')')
    if name not in self._tensors:
      raise ValueError(f'{self.where} has no tensor {name!r} (expected shape '
                       f'{want} for {self.model}).')
    got = self.shape(name)
    if len(got) != len(shape) or any(
        s is not None and s != g for s, g in zip(shape, got)):
      raise ValueError(f'{self.where}: tensor {name!r} has shape {got} but '
                       f'{self.model} needs {want}.')
    self._used.add(name)
    try:
      return as_float32(self._tensors[name])
    except ValueError as e:
      raise ValueError(f'{self.where}: tensor {name!r}: {e}') from e

  def finish(self) -> None:
    """Raises if any tensor was not used (nothing is silently dropped)."""
    unused = sorted(set(self._tensors) - self._used)
    if unused:
      shown = ', '.join(f'{n!r} {self.shape(n)}' for n in unused[:8])
      more = f' and {len(unused) - 8} more' if len(unused) > 8 else ''
      raise ValueError(
          f'{self.where} has tensors that {self.model} in our standard-ViT '
          f'mode has no place for: {shown}{more}. These parts of the source '
          'model are not supported by the importer.')


def as_float32(value: Any) -> np.ndarray:
  """An array (numpy, bfloat16, float16, ...) as float32."""
  arr = np.asarray(value)
  if arr.dtype.kind == 'V' and arr.dtype.itemsize == 2:
    # numpy saves bfloat16 as 2-byte void (big_vision's recover_dtype).
    import ml_dtypes  # pylint: disable=g-import-not-at-top
    arr = arr.view(ml_dtypes.bfloat16)
  if arr.dtype.kind not in 'fV' and arr.dtype.name != 'bfloat16':
    raise ValueError(f'Expected a floating-point tensor, got dtype '
                     f'{arr.dtype}.')
  return arr.astype(np.float32)


def square_grid(tokens: int, what: str) -> tuple[int, int]:
  """A square grid of `tokens` cells (both codebases assume square)."""
  side = math.isqrt(tokens)
  if side * side != tokens:
    raise ValueError(f'{what}: {tokens} position embeddings are not a '
                     'square grid.')
  return side, side


@dataclasses.dataclass
class Imported:
  """A standard ViT ready to write as our classifier.

  Attributes:
    dims: the model's sizes.
    pooling: 'map', 'gap' or 'cls'.
    cls_token: whether it has a class token.
    gelu_approximate: tanh-approximate GELU (big_vision) or exact (timm).
    grid: the patch grid its position embedding is stored at.
    num_classes: classes of its head; None if the source has no head.
    variables: {'network/...', 'softmax/...': array} (no 'params/' prefix;
      blocks unstacked as 'network/blocks_{i}/...').
    notes: what the import changed on the way (folds, resampling).
  """

  dims: Dims
  pooling: str
  cls_token: bool
  gelu_approximate: bool
  grid: tuple[int, int]
  num_classes: int | None
  variables: dict[str, np.ndarray]
  notes: list[str]


def fold_normalization(patch_w: np.ndarray, patch_b: np.ndarray,
                       mean: np.ndarray, std: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
  """Patch embedding for our [-1, 1] inputs of one trained on (u - mean)/std.

  With u = (x + 1) / 2 in [0, 1]: (u - mean) / std = x / (2 std) + (0.5 -
  mean) / std, a per-channel affine map, so the conv becomes
  w' = w / (2 std_c) and b' = b + sum_{p,q,c} w[p,q,c,:] (0.5 - mean_c) /
  std_c. Exact (a linear map of a linear map).
  """
  w = patch_w.astype(np.float64)
  w_new = w / (2.0 * std)[None, None, :, None]
  b_new = patch_b + np.einsum('pqcd,c->d', w, (0.5 - mean) / std)
  return w_new.astype(np.float32), b_new.astype(np.float32)


def assemble(*, dims: Dims, patch_w: np.ndarray, patch_b: np.ndarray,
             posemb: np.ndarray, grid: tuple[int, int],
             cls: np.ndarray | None, blocks: Sequence[dict[str, np.ndarray]],
             encoder_norm: dict[str, np.ndarray],
             map_head: dict[str, np.ndarray] | None,
             head: tuple[np.ndarray, np.ndarray] | None, pooling: str,
             gelu_approximate: bool, image_size: int | None,
             resample_method: str, normalization: str,
             notes: list[str]) -> Imported:
  """The pieces of a standard ViT -> `Imported` at `image_size`.

  Args:
    dims, patch_w, patch_b, posemb, grid, cls, blocks, encoder_norm,
      map_head, head: see the module docstring.
    pooling: 'map', 'gap' or 'cls'.
    gelu_approximate: the source's GELU.
    image_size: target resolution; None = the source's (grid * patch).
    resample_method: 'zoom' or 'bicubic' (see `posemb.py`).
    normalization: the source's input normalisation (`parse_normalization`).
    notes: messages so far (extended).
  """
  if pooling not in POOLINGS:
    raise ValueError(f'Unknown pooling {pooling!r}; expected one of '
                     f'{POOLINGS}.')
  if pooling == 'cls' and cls is None:
    raise ValueError("pooling='cls' needs a class token; the checkpoint has "
                     'none.')
  if pooling == 'map' and map_head is None:
    raise ValueError("pooling='map' needs a MAP head; the checkpoint has "
                     'none.')
  if pooling != 'map' and map_head is not None:
    raise ValueError(f'pooling={pooling!r} but the checkpoint has a MAP '
                     "head: use pooling='map'.")
  mean, std = parse_normalization(normalization)
  patch_w, patch_b = fold_normalization(patch_w, patch_b, mean, std)
  if not np.allclose(mean, 0.5) or not np.allclose(std, 0.5):
    notes.append(f'input normalization mean {tuple(mean)} / std {tuple(std)} '
                 'folded into the patch embedding (inputs in [-1, 1]).')
  new_grid = tuple(grid)
  if image_size is not None:
    if image_size <= 0 or image_size % dims.patch:
      raise ValueError(f'image_size {image_size} is not a positive multiple '
                       f'of the patch size {dims.patch}.')
    new_grid = (image_size // dims.patch,) * 2
  if new_grid != tuple(grid):
    posemb = posemb_lib.resample_table(posemb, grid, new_grid,
                                       resample_method)
    notes.append(f'position embedding resampled {grid[0]}x{grid[1]} -> '
                 f'{new_grid[0]}x{new_grid[1]} ({resample_method}).')
  variables = {'network/patch_w': patch_w, 'network/patch_b': patch_b,
               'network/pos_emb': posemb.astype(np.float32)}
  if cls is not None:
    variables['network/cls'] = cls
  for i, block in enumerate(blocks):
    for key, value in block.items():
      variables[f'network/blocks_{i}/{key}'] = value
  for key, value in encoder_norm.items():
    variables[f'network/encoder_norm/{key}'] = value
  for key, value in (map_head or {}).items():
    variables[f'network/map_head/{key}'] = value
  num_classes = None
  if head is not None:
    variables['softmax/logits_ffn/linear/w'] = head[0]
    variables['softmax/logits_ffn/bias/b'] = head[1]
    num_classes = int(head[0].shape[1])
  return Imported(dims=dims, pooling=pooling, cls_token=cls is not None,
                  gelu_approximate=gelu_approximate, grid=new_grid,
                  num_classes=num_classes, variables=variables, notes=notes)
