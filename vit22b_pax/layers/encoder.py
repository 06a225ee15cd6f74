# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ViT-22B image encoder: patches -> ViT22BBlock stack -> pooled features.

  images [B, Hi, Wi, C] -> patch embedding (conv as matmul) [B, T, D]
  + learned 2-D posemb (bilinearly resampled when the grid differs)
  (+ optional CLS token) -> num_layers x ViT22BBlock -> final norm
  -> pooling 'map' | 'gap' | 'cls' -> [B, D]

`features()` also hands out the patch tokens of the blocks listed in
`feature_layers` (DPT-style multi-level features for dense decoders) from
the same forward pass. With `scan=True` the stack runs as praxis
`repeats.Repeat` with `return_intermediate_outputs`, so nn.scan stacks every
block's output ([L, B, T, D]) and the chosen ones are gathered from that
stack; unscanned, the Python loop keeps them. The parameters are the same
either way, and with `feature_layers=()` (the default) the forward pass is
unchanged.

Einsum letters: B batch, h/w patch-grid rows/columns, p/q pixel offsets
inside a patch, C channels, T tokens, D model dims.
"""

from __future__ import annotations

from flax import linen as nn
from jax import numpy as jnp
from praxis import base_layer
from praxis import pax_fiddle
from praxis import pytypes
from praxis.layers import checkpoint_policy
from praxis.layers import repeats
from praxis.layers import vits

from vit22b_pax.layers import map_head
from vit22b_pax.layers import parallel_block

JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
SplitDimsMapping = pytypes.SplitDimsMapping
WeightHParams = base_layer.WeightHParams
WeightInit = base_layer.WeightInit
AutodiffCheckpointType = checkpoint_policy.AutodiffCheckpointType
template_field = base_layer.template_field

POOLINGS = ('map', 'gap', 'cls')


def evenly_spaced_layers(num_layers: int, count: int = 4) -> tuple[int, ...]:
  """`count` block indices ending at the last block, as DPT picks them.

  ViT-B (12 blocks) -> (2, 5, 8, 11), ViT-L (24) -> (5, 11, 17, 23).

  Args:
    num_layers: depth L.
    count: how many blocks (1 <= count <= L).

  Returns:
    Increasing 0-based block indices.
  """
  if not 1 <= count <= num_layers:
    raise ValueError(f'count={count} must be in [1, num_layers={num_layers}].')
  return tuple((i + 1) * num_layers // count - 1 for i in range(count))


def checkpoint_type(remat_policy: str | None) -> AutodiffCheckpointType:
  """Parses a praxis `AutodiffCheckpointType` name or value ('save_nothing').

  Args:
    remat_policy: name, value, or None (= save everything, i.e. no remat).

  Returns:
    The enum member.
  """
  if remat_policy is None:
    return AutodiffCheckpointType.SAVE_EVERYTHING
  if isinstance(remat_policy, AutodiffCheckpointType):
    return remat_policy
  for member in AutodiffCheckpointType:
    if remat_policy in (member.name, member.value):
      return member
  raise ValueError(
      f'Unknown remat_policy {remat_policy!r}; expected None or one of '
      f'{[m.value for m in AutodiffCheckpointType]}.')


class ViT22BEncoder(base_layer.BaseLayer):
  """ViT(-22B) encoder mapping images to pooled features.

  Attributes:
    model_dims: width D.
    num_layers: depth L.
    num_heads: attention heads N (must divide D).
    hidden_dims: MLP hidden dims F.
    patch_size: square patch side P (pixels).
    num_channels: expected image channels C.
    pos_emb_grid: (rows, cols) grid of the stored learned posemb; images with
      another patch grid get it bilinearly resampled at call time.
    cls_token: prepend a learned CLS token (no posemb, as big_vision).
    pooling: 'map' (attention pooling, default), 'gap' (mean over patch
      tokens) or 'cls' (needs cls_token).
    scan: stack the blocks with praxis `repeats.Repeat` (nn.scan; compile
      time flat in depth; params get a leading [L] dim under
      'blocks/block'); False: children 'blocks_0' .. 'blocks_{L-1}'.
    remat_policy: None (no rematerialization) or an `AutodiffCheckpointType`
      name/value, e.g. 'save_nothing', 'save_dot_only',
      'save_qkv_out_proj' (fused in-projection + out-projection).
    norm_type: final norm; None = block_tpl.norm_type.
    norm_bias: LayerNorm bias on the final norm (standard ViTs); None =
      block_tpl.norm_bias.
    gelu_approximate: GELU of the block MLPs and the MAP head's MLP: True =
      tanh approximation (big_vision, praxis), False = exact erf GELU
      (timm, PyTorch's nn.GELU); None = as the templates set it.
    block_tpl: ViT22BBlock template; model_dims / num_heads / hidden_dims
      are filled in from the encoder.
    map_head_tpl: MAPHead template (dims filled in; used if pooling='map').
    feature_layers: 0-based indices of the blocks whose output tokens
      `features()` returns (e.g. `evenly_spaced_layers(L)`); () = none.
  """

  model_dims: int = 0
  num_layers: int = 0
  num_heads: int = 0
  hidden_dims: int = 0
  patch_size: int = 16
  num_channels: int = 3
  pos_emb_grid: tuple[int, int] = (14, 14)
  cls_token: bool = False
  pooling: str = 'map'
  scan: bool = True
  remat_policy: str | None = None
  norm_type: str | None = None
  norm_bias: bool | None = None
  gelu_approximate: bool | None = None
  block_tpl: LayerTpl = template_field(parallel_block.ViT22BBlock)
  map_head_tpl: LayerTpl = template_field(map_head.MAPHead)
  feature_layers: tuple[int, ...] = ()

  class WeightSharding(base_layer.BaseLayer.WeightSharding):
    """Weight sharding (mesh axis names per dim).

    Attributes:
      pqcd: patch embedding kernel [P, P, C, D].
      td: position embedding [1, T, D] (given for its last two dims).
    """
    pqcd: SplitDimsMapping = None
    td: SplitDimsMapping = None

  class ActivationSharding(base_layer.BaseLayer.ActivationSharding):
    """Activation sharding (mesh axis names per dim).

    Attributes:
      bhwc: input images [B, Hi, Wi, C]. Batch-only (no model axis): the
        patch embedding then needs no exchange of images, and the gradient
        of its kernel is a sum of per-device partial sums. Left unset, the
        SPMD partitioner follows the input pipeline's split (paxml splits
        the batch over every mesh axis) and may gather the global batch to
        every device for that gradient (the paper step did: 18 GiB per
        device at mesh 1 x 64 x 16, see docs/scale.md).
      btd: tokens [B, T, D].
      bd: pooled features [B, D].
    """
    bhwc: SplitDimsMapping = None
    btd: SplitDimsMapping = None
    bd: SplitDimsMapping = None

  def _check(self) -> None:
    d, n = self.model_dims, self.num_heads
    if d <= 0 or n <= 0 or self.num_layers <= 0 or self.hidden_dims <= 0:
      raise ValueError(
          'model_dims, num_heads, num_layers, hidden_dims must be positive; '
          f'got {d}, {n}, {self.num_layers}, {self.hidden_dims}.')
    if d % n:
      raise ValueError(f'num_heads={n} does not divide model_dims={d} '
                       f'({d} / {n} = {d / n:g}).')
    if self.pooling not in POOLINGS:
      raise ValueError(f'Unknown pooling {self.pooling!r}; expected one of '
                       f'{POOLINGS}.')
    if self.pooling == 'cls' and not self.cls_token:
      raise ValueError("pooling='cls' needs cls_token=True.")
    if self.patch_size <= 0:
      raise ValueError(f'patch_size must be positive, got {self.patch_size}.')
    checkpoint_type(self.remat_policy)
    layers = tuple(self.feature_layers)
    if (any(not 0 <= i < self.num_layers for i in layers)
        or len(set(layers)) != len(layers)):
      raise ValueError(
          f'feature_layers={layers} must be distinct block indices in '
          f'[0, num_layers={self.num_layers}).')

  def setup(self) -> None:
    self._check()
    d, p, c = self.model_dims, self.patch_size, self.num_channels
    wp = self.weight_split_dims_mapping
    rep = None if self.mesh_shape is None else (-1,)
    gh, gw = self.pos_emb_grid
    self.create_variable('patch_w', WeightHParams(
        shape=[p, p, c, d], init=WeightInit.Gaussian((p * p * c)**-0.5),
        mesh_shape=self.mesh_shape, tensor_split_dims_mapping=wp.pqcd))
    self.create_variable('patch_b', WeightHParams(
        shape=[d], init=WeightInit.Constant(0.0), mesh_shape=self.mesh_shape,
        tensor_split_dims_mapping=rep))
    self.create_variable('pos_emb', WeightHParams(
        shape=[1, gh * gw, d], init=WeightInit.Gaussian(d**-0.5),
        mesh_shape=self.mesh_shape,
        tensor_split_dims_mapping=None if wp.td is None else
        (None,) + tuple(wp.td)))
    if self.cls_token:
      self.create_variable('cls', WeightHParams(
          shape=[1, 1, d], init=WeightInit.Constant(0.0),
          mesh_shape=self.mesh_shape,
          tensor_split_dims_mapping=rep and rep * 3))

    block = self.block_tpl.clone()
    block.model_dims = d
    block.num_heads = self.num_heads
    block.hidden_dims = self.hidden_dims
    self._set_gelu(block)
    if self.scan:
      self.create_child('blocks', pax_fiddle.Config(
          repeats.Repeat, sub_tpl=block, x_times=self.num_layers,
          checkpoint_policy=checkpoint_type(self.remat_policy),
          unpack_summaries=True, sublayer_name='block',
          return_intermediate_outputs=bool(self.feature_layers)))
    else:
      self.create_children('blocks', [block.clone()
                                      for _ in range(self.num_layers)])
    norm_type = self.norm_type or block.norm_type
    norm_bias = block.norm_bias if self.norm_bias is None else self.norm_bias
    self.create_child('encoder_norm', parallel_block.norm_config(
        norm_type, d, 'encoder_norm', use_bias=norm_bias))
    if self.pooling == 'map':
      head = self.map_head_tpl.clone()
      head.model_dims = d
      head.num_heads = head.num_heads or self.num_heads
      head.hidden_dims = head.hidden_dims or self.hidden_dims
      self._set_gelu(head)
      self.create_child('map_head', head)

  def _set_gelu(self, layer_p: LayerTpl) -> None:
    """Applies `gelu_approximate` to a (cloned) block or head template."""
    if self.gelu_approximate is None:
      return
    if not hasattr(layer_p.activation_tpl, 'approximate'):
      raise ValueError(
          f'gelu_approximate={self.gelu_approximate} needs a GELU activation; '
          f'{layer_p.cls.__name__} has {layer_p.activation_tpl.cls.__name__}.')
    layer_p.activation_tpl.approximate = bool(self.gelu_approximate)

  def _shard(self, x: JTensor, split: SplitDimsMapping) -> JTensor:
    return base_layer.maybe_shard(x, split, self.mesh_axis_names)

  def embed_patches(self, images: JTensor) -> tuple[JTensor, tuple[int, int]]:
    """Conv-as-matmul patch embedding.

    Args:
      images: [B, Hi, Wi, C].

    Returns:
      Tokens [B, (Hi/P)*(Wi/P), D] and the patch grid (Hi/P, Wi/P).
    """
    p, c = self.patch_size, self.num_channels
    if images.ndim != 4:
      raise ValueError(f'Expected images [B, H, W, C], got shape '
                       f'{tuple(images.shape)}.')
    b, hi, wi, ci = images.shape
    if ci != c:
      raise ValueError(f'Expected {c} image channels, got {ci} (images '
                       f'{tuple(images.shape)}).')
    if hi % p or wi % p:
      raise ValueError(f'Image size {hi}x{wi} is not divisible by patch_size '
                       f'{p} ({hi} % {p} = {hi % p}, {wi} % {p} = {wi % p}).')
    gh, gw = hi // p, wi // p
    images = self._shard(images, self.activation_split_dims_mapping.bhwc)
    x = images.astype(self.fprop_dtype).reshape(b, gh, p, gw, p, c)
    x = jnp.einsum('bhpwqc,pqcd->bhwd', x, self.theta.patch_w)
    x = x.reshape(b, gh * gw, self.model_dims) + self.theta.patch_b
    return x, (gh, gw)

  def position_embedding(self, grid: tuple[int, int]) -> JTensor:
    """The learned posemb for a patch grid, resampled if needed.

    Args:
      grid: (rows, cols) of the image's patch grid.

    Returns:
      [1, rows * cols, D].
    """
    emb = self.theta.pos_emb
    if tuple(grid) != tuple(self.pos_emb_grid):
      emb = vits.interpolate_embedding_2d(emb, tuple(self.pos_emb_grid),
                                          tuple(grid))
    return emb

  def tokens(self, images: JTensor, with_hidden: bool = False):
    """Encoded, normalized tokens before pooling.

    Args:
      images: [B, Hi, Wi, C].
      with_hidden: also return the raw outputs of the `feature_layers`
        blocks.

    Returns:
      [B, T, D] (T includes the CLS token first if cls_token); with
      `with_hidden`, a pair of that and a list of [B, T, D] block outputs.
    """
    x, grid = self.embed_patches(images)
    x = x + self.position_embedding(grid).astype(x.dtype)
    if self.cls_token:
      cls = jnp.broadcast_to(self.theta.cls.astype(x.dtype),
                             (x.shape[0], 1, self.model_dims))
      x = jnp.concatenate([cls, x], axis=1)
    x = self._shard(x, self.activation_split_dims_mapping.btd)
    hidden = []
    if self.scan and self.feature_layers:
      stacked = self.blocks(x)  # [L, B, T, D]: every block's output.
      hidden = [stacked[i] for i in self.feature_layers]
      x = stacked[-1]
    elif self.scan:
      x = self.blocks(x)
    else:
      def fprop(block, y):
        return block(y)
      if self.remat_policy is not None:
        fprop = nn.remat(fprop, policy=checkpoint_policy.custom_policy(
            checkpoint_type(self.remat_policy)))
      kept = {}
      for i, block in enumerate(self.blocks):
        x = fprop(block, x)
        if i in self.feature_layers:
          kept[i] = x
      hidden = [kept[i] for i in self.feature_layers]
    x = self.encoder_norm(x)
    return (x, hidden) if with_hidden else x

  def _pool(self, x: JTensor) -> JTensor:
    if self.pooling == 'map':
      out = self.map_head(x)
    elif self.pooling == 'gap':
      out = jnp.mean(x[:, int(self.cls_token):], axis=1)
    else:
      out = x[:, 0]
    return self._shard(out, self.activation_split_dims_mapping.bd)

  def __call__(self, images: JTensor) -> JTensor:
    """Encodes images.

    Args:
      images: [B, Hi, Wi, C]; Hi and Wi divisible by patch_size.

    Returns:
      Pooled features [B, D].
    """
    return self._pool(self.tokens(images))

  def features(self, images: JTensor) -> tuple[JTensor, list[JTensor]]:
    """Pooled features and the patch tokens of `feature_layers`, one pass.

    Args:
      images: [B, Hi, Wi, C]; Hi and Wi divisible by patch_size.

    Returns:
      (pooled [B, D], [one [B, Hi/P, Wi/P, D] grid per `feature_layers`
      entry, in that order]): each block's output tokens (before the final
      norm; the CLS token dropped) laid out on the patch grid.
    """
    if not self.feature_layers:
      example = evenly_spaced_layers(self.num_layers,
                                     min(4, self.num_layers))
      raise ValueError(f'features() needs feature_layers, e.g. {example}.')
    x, hidden = self.tokens(images, with_hidden=True)
    b = images.shape[0]
    grid = (images.shape[1] // self.patch_size,
            images.shape[2] // self.patch_size)
    start = int(self.cls_token)
    grids = [h[:, start:].reshape(b, *grid, self.model_dims) for h in hidden]
    return self._pool(x), grids
