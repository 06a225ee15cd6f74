# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Multihead attention pooling (MAP), as big_vision's `MAPHead`.

"Scaling Vision Transformers" (Zhai et al. 2022, https://arxiv.org/abs/
2106.04560) and ViT-22B pool the encoder tokens with one learned probe:

  o = MHA(probe, x);  return o + MLP(LN(o))          [B, D]

Praxis 1.4.0 has no such layer (`poolings.py`: Pooling, GlobalPooling).

Einsum letters: B batch, S tokens, D model dims, N heads, H dim per head,
F MLP hidden dims.
"""

from __future__ import annotations

import jax
from jax import numpy as jnp
from praxis import base_layer
from praxis import pax_fiddle
from praxis import pytypes
from praxis.layers import activations

from vit22b_pax.layers import parallel_block

JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
SplitDimsMapping = pytypes.SplitDimsMapping
WeightHParams = base_layer.WeightHParams
WeightInit = base_layer.WeightInit


class MAPHead(base_layer.BaseLayer):
  """Multihead attention pooling with a learned probe.

  Attributes:
    model_dims: width D.
    num_heads: attention heads N (must divide D).
    hidden_dims: MLP hidden dims F; 0 means 4 * D (big_vision default).
    use_bias: biases on q/k/v/out and the MLP (big_vision: True).
    norm_type: 'layernorm' (big_vision) or 'rmsnorm'.
    norm_bias: LayerNorm bias (big_vision: True; only with 'layernorm').
    activation_tpl: MLP activation (GELU, tanh approximation).
  """

  model_dims: int = 0
  num_heads: int = 0
  hidden_dims: int = 0
  use_bias: bool = True
  norm_type: str = 'layernorm'
  norm_bias: bool = True
  activation_tpl: LayerTpl = base_layer.template_field(activations.GELU)

  class WeightSharding(base_layer.BaseLayer.WeightSharding):
    """Weight sharding (mesh axis names per dim).

    Attributes:
      dnh: w_q / w_k / w_v [D, N, H].
      nhd: w_out [N, H, D].
      df: w_mlp_in [D, F].
      fd: w_mlp_out [F, D].
    """
    dnh: SplitDimsMapping = None
    nhd: SplitDimsMapping = None
    df: SplitDimsMapping = None
    fd: SplitDimsMapping = None

  @property
  def mlp_dims(self) -> int:
    return self.hidden_dims or 4 * self.model_dims

  def _weight(self, name, shape, std, split) -> None:
    init = WeightInit.Gaussian(std) if std else WeightInit.Constant(0.0)
    self.create_variable(name, WeightHParams(
        shape=list(shape), init=init, mesh_shape=self.mesh_shape,
        tensor_split_dims_mapping=split))

  def setup(self) -> None:
    d, n, f = self.model_dims, self.num_heads, self.mlp_dims
    if d <= 0 or n <= 0 or d % n:
      raise ValueError(f'MAPHead num_heads={n} must divide model_dims={d} '
                       '(both positive).')
    h = d // n
    wp = self.weight_split_dims_mapping
    rep = None if self.mesh_shape is None else (-1,)
    self._weight('probe', (1, 1, d), d**-0.5, rep and rep * 3)
    for name in ('w_q', 'w_k', 'w_v'):
      self._weight(name, (d, n, h), d**-0.5, wp.dnh)
    self._weight('w_out', (n, h, d), d**-0.5, wp.nhd)
    self._weight('w_mlp_in', (d, f), d**-0.5, wp.df)
    self._weight('w_mlp_out', (f, d), f**-0.5, wp.fd)
    if self.use_bias:
      nh = None if wp.dnh is None else tuple(wp.dnh[1:])
      for name in ('b_q', 'b_k', 'b_v'):
        self._weight(name, (n, h), 0, nh)
      self._weight('b_out', (d,), 0, rep)
      self._weight('b_mlp_in', (f,), 0, None if wp.df is None else
                   (wp.df[1],))
      self._weight('b_mlp_out', (d,), 0, rep)
    self.create_child('norm', parallel_block.norm_config(
        self.norm_type, d, 'norm',
        use_bias=self.norm_bias and self.norm_type == 'layernorm'))
    self.create_child('activation', self.activation_tpl.clone())

  def __call__(self, inputs: JTensor) -> JTensor:
    """Pools tokens.

    Args:
      inputs: [B, S, D] tokens.

    Returns:
      [B, D] pooled features.
    """
    th = self.theta
    h = self.model_dims // self.num_heads
    q = jnp.einsum('d,dnh->nh', th.probe[0, 0], th.w_q)
    k = jnp.einsum('bsd,dnh->bsnh', inputs, th.w_k)
    v = jnp.einsum('bsd,dnh->bsnh', inputs, th.w_v)
    if self.use_bias:
      q, k, v = q + th.b_q, k + th.b_k, v + th.b_v
    logits = jnp.einsum('nh,bsnh->bns', q * h**-0.5, k)
    probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1)
    ctx = jnp.einsum('bns,bsnh->bnh', probs.astype(v.dtype), v)
    o = jnp.einsum('bnh,nhd->bd', ctx, th.w_out)
    if self.use_bias:
      o = o + th.b_out
    m = jnp.einsum('bd,df->bf', self.norm(o), th.w_mlp_in)
    if self.use_bias:
      m = m + th.b_mlp_in
    y = jnp.einsum('bf,fd->bd', self.activation(m), th.w_mlp_out)
    if self.use_bias:
      y = y + th.b_mlp_out
    return o + y
