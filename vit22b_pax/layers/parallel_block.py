# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The ViT-22B transformer block: parallel attention + MLP with QK-norm.

"Scaling Vision Transformers to 22 Billion Parameters" (Dehghani et al. 2023,
https://arxiv.org/abs/2302.05442), §2:

  y = x + Attention(LN(x)) + MLP(LN(x))          (parallel=True, one norm)
  y = x' + MLP(LN2(x')), x' = x + Attention(LN1(x))  (parallel=False)

Attention logits are softmax((1/sqrt(H)) * LN(q) . LN(k)^T) (QK-norm, one
norm per head over H, scale shared across heads as flax `normalize_qk`).
Norms have no bias; 'rmsnorm' (the default) also drops centering, as the
paper says ("without bias and centering", Zhang & Sennrich 2019).

Einsum letters:
  B: batch, T: query tokens, S: key tokens, M = B*T (flattened tokens),
  D: model dims (width), N: heads, H: dim per head, F: MLP hidden dims,
  G = F / N (MLP columns grouped with each head), E = 3H + G (fused input
  columns per head), O = H + G (fused output rows per head), K: flattened
  head columns (N*E, N*O or N*H).

Weight matmuls, all through injected `EinsumOp`s, are plain 2-D matmuls on
token-flattened activations (reshapes of contiguous dims are free):
  in_einsum ('md,dk->mk', x [M, D], w [D, K])  input side
  out_einsum('mk,kd->md', h [M, K], w [K, D])  output side
with, per mode (weights are stored with heads explicit and reshaped at call
time; mesh axes as set by `vit22b_pax.layers.sharding.set_sharding`:
'data' = FSDP, 'mdl' = tensor parallel, batch = ('replica', 'data')):
  fused=True:   in:  w_in  [D, N, E] -> [D, N*E]  sharded (data, mdl)
                out: w_out [N, O, D] -> [N*O, D]  sharded (mdl, data)
  fused=False:  in:  w_q, w_k, w_v [D, N, H] -> [D, N*H]  (data, mdl)
                in:  w_mlp_in [D, F]                     (data, mdl)
                out: w_attn_out [N, H, D] -> [N*H, D]    (mdl, data)
                out: w_mlp_out [F, D]                    (mdl, data)
  Activations: x, h rows M on batch; x [B,T,D] hidden on 'mdl'; per-head
  [B,T,N,*] and K columns on 'mdl' (heads split across 'mdl').
2-D operands matter on CPU: XLA's backward of 3-D 'btd,dne->btne' einsums
materialises transposes and ran ~1.8x slower than the flattened form.

The fused weights are the paper's [D, 3NH + F] and [NH + F, D] matrices with
their columns (rows) grouped per head: w_in[:, n] = [q_n | k_n | v_n | mlp_n]
where mlp_n are MLP hidden units n*G .. (n+1)*G - 1. Sharding N over 'mdl'
therefore gives every device whole heads and a matching MLP slice, so both
matmuls need no communication along 'mdl' except the final reduction of y.
`unfused_to_fused` / `fused_to_unfused` map one parameter tree to the other.

Biases (`use_bias`): 'qkv' (q/k/v projections; off in the paper), 'mlp'
(MLP in and out; on in the paper), 'out' (attention output projection; not
stated in the paper). In the fused form one output bias `b_out` serves both
the attention and the MLP output (it exists if 'mlp' or 'out' is set); in the
parallel block the two biases only ever appear as a sum, so this loses
nothing. Default ('mlp', 'out'), i.e. the natural fused choice.

Init: weights N(0, 1/fan_in) of their matrix (fused in: D; fused out:
D + F), biases 0, norm gains 1 (stored directly, `direct_scale=True`).
Remat names (`checkpoint_name`, as praxis' `AutodiffCheckpointType`):
'combined_qkv_proj' (fused in) or 'query_proj' / 'key_proj' / 'value_proj',
'context', 'out_proj', 'ffn1' / 'ffn2' (unfused MLP), 'transformer_layer_out'.
"""

from __future__ import annotations

import math

import jax
from jax import numpy as jnp
from jax.ad_checkpoint import checkpoint_name
from praxis import base_layer
from praxis import pax_fiddle
from praxis import pytypes
from praxis.layers import activations
from praxis.layers import base_ops
from praxis.layers import normalizations

JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
SplitDimsMapping = pytypes.SplitDimsMapping
WeightHParams = base_layer.WeightHParams
WeightInit = base_layer.WeightInit
template_field = base_layer.template_field

NORM_TYPES = ('layernorm', 'rmsnorm')
BIAS_NAMES = ('qkv', 'mlp', 'out')


def norm_config(norm_type: str, dim: int, name: str,
                use_bias: bool = False) -> LayerTpl:
  """A praxis norm layer config with the gain stored directly (init 1).

  Args:
    norm_type: 'layernorm' (centering, no bias unless use_bias) or 'rmsnorm'
      (no centering, no bias).
    dim: normalized (last) dimension.
    name: layer name.
    use_bias: LayerNorm bias (only 'layernorm'; MAP head, like big_vision).

  Returns:
    A `pax_fiddle.Config` of `normalizations.LayerNorm` or `RmsNorm`.
  """
  if norm_type == 'layernorm':
    return pax_fiddle.Config(
        normalizations.LayerNorm, name=name, dim=dim, use_bias=use_bias,
        direct_scale=True, reductions_in_fp32=True)
  if norm_type == 'rmsnorm':
    if use_bias:
      raise ValueError(f'norm_type {norm_type!r} has no bias; got '
                       'use_bias=True.')
    return pax_fiddle.Config(
        normalizations.RmsNorm, name=name, dim=dim, direct_scale=True,
        intermediate_dtype=jnp.float32)
  raise ValueError(f'Unknown norm_type {norm_type!r}; expected one of '
                   f'{NORM_TYPES}.')


def attention_stats(logits: JTensor,
                    probs: JTensor) -> tuple[JTensor, JTensor]:
  """Stability statistics of one attention layer.

  Args:
    logits: float32 [B, N, T, S] scaled attention logits.
    probs: softmax(logits) [B, N, T, S].

  Returns:
    (max logit [], mean attention entropy in nats []).
  """
  lse = jax.nn.logsumexp(logits, axis=-1)
  entropy = lse - jnp.sum(probs * logits, axis=-1)
  return jnp.max(logits), jnp.mean(entropy)


class ViT22BBlock(base_layer.BaseLayer):
  """ViT-22B encoder block (parallel attention + MLP, QK-norm, fused matmuls).

  Attributes:
    model_dims: width D.
    num_heads: attention heads N; D must be divisible by N.
    hidden_dims: MLP hidden dims F; F must be divisible by N when fused.
    parallel: True: y = x + Attn(LN(x)) + MLP(LN(x)) (one norm, ViT-22B).
      False: the standard sequential pre-LN block with two norms.
    fused: one [D, N, 3H + G] input and one [N, H + G, D] output matmul
      (requires parallel=True); False: separate q/k/v/MLP weights.
    qk_norm: normalize queries and keys per head over H before the dot
      product (paper: True).
    use_bias: subset of ('qkv', 'mlp', 'out'), see the module docstring.
    norm_type: 'rmsnorm' (default: the paper's "without bias and centering")
      or 'layernorm' (centering, no bias).
    qk_norm_type: norm of the QK-norm; None = same as norm_type (flax's
      normalize_qk uses 'layernorm').
    activation_tpl: MLP activation; praxis GELU (tanh approximation, as
      big_vision and praxis; set `.approximate=False` for the exact GELU).
    in_einsum_tpl: einsum op of the input-side weight matmuls.
    out_einsum_tpl: einsum op of the output-side weight matmuls.
    attention_summaries: add per-layer summaries 'max_attention_logit' (after
      scaling, before softmax) and 'attention_entropy' (mean, nats).
  """

  model_dims: int = 0
  num_heads: int = 0
  hidden_dims: int = 0
  parallel: bool = True
  fused: bool = True
  qk_norm: bool = True
  use_bias: tuple[str, ...] = ('mlp', 'out')
  norm_type: str = 'rmsnorm'
  qk_norm_type: str | None = None
  activation_tpl: LayerTpl = template_field(activations.GELU)
  in_einsum_tpl: LayerTpl = template_field(base_ops.EinsumOp)
  out_einsum_tpl: LayerTpl = template_field(base_ops.EinsumOp)
  attention_summaries: bool = True

  class WeightSharding(base_layer.BaseLayer.WeightSharding):
    """Weight sharding (mesh axis names per dim).

    Attributes:
      dnh: w_in [D, N, E] and w_q/w_k/w_v [D, N, H].
      nhd: w_out [N, O, D] and w_attn_out [N, H, D].
      df: w_mlp_in [D, F] (unfused).
      fd: w_mlp_out [F, D] (unfused).
    """
    dnh: SplitDimsMapping = None
    nhd: SplitDimsMapping = None
    df: SplitDimsMapping = None
    fd: SplitDimsMapping = None

  class ActivationSharding(base_layer.BaseLayer.ActivationSharding):
    """Activation sharding (mesh axis names per dim).

    Attributes:
      btd: block input/output and attention/MLP outputs [B, T, D].
      btnh: per-head activations [B, T, N, E|O|H].
      bnts: attention logits/probabilities [B, N, T, S].
      btf: unfused MLP hidden [B, T, F].
    """
    btd: SplitDimsMapping = None
    btnh: SplitDimsMapping = None
    bnts: SplitDimsMapping = None
    btf: SplitDimsMapping = None

  @property
  def dim_per_head(self) -> int:
    return self.model_dims // self.num_heads

  def _check(self) -> None:
    d, n, f = self.model_dims, self.num_heads, self.hidden_dims
    if d <= 0 or n <= 0 or f <= 0:
      raise ValueError(f'model_dims, num_heads, hidden_dims must be positive; '
                       f'got {d}, {n}, {f}.')
    if d % n:
      raise ValueError(f'num_heads={n} must divide model_dims={d}.')
    if self.fused and not self.parallel:
      raise ValueError('fused=True needs parallel=True (the sequential '
                       'block cannot fuse the MLP input with QKV).')
    if self.fused and f % n:
      raise ValueError(f'fused=True needs num_heads={n} to divide '
                       f'hidden_dims={f}.')
    bad = set(self.use_bias) - set(BIAS_NAMES)
    if bad:
      raise ValueError(f'Unknown use_bias entries {sorted(bad)}; expected a '
                       f'subset of {BIAS_NAMES}.')

  def _weight(self, name, shape, std, split) -> None:
    init = WeightInit.Gaussian(std) if std else WeightInit.Constant(0.0)
    self.create_variable(name, WeightHParams(
        shape=list(shape), init=init, mesh_shape=self.mesh_shape,
        tensor_split_dims_mapping=split))

  def setup(self) -> None:
    self._check()
    d, n, f = self.model_dims, self.num_heads, self.hidden_dims
    h = self.dim_per_head
    wp = self.weight_split_dims_mapping
    nh_split = None if wp.dnh is None else tuple(wp.dnh[1:])
    rep = None if self.mesh_shape is None else (-1,)
    self.create_child('norm', norm_config(self.norm_type, d, 'norm'))
    if not self.parallel:
      self.create_child('mlp_norm', norm_config(self.norm_type, d, 'mlp_norm'))
    if self.qk_norm:
      qk_type = self.qk_norm_type or self.norm_type
      self.create_child('q_norm', norm_config(qk_type, h, 'q_norm'))
      self.create_child('k_norm', norm_config(qk_type, h, 'k_norm'))
    self.create_child('activation', self.activation_tpl.clone())
    self.create_child('in_einsum', self.in_einsum_tpl.clone())
    self.create_child('out_einsum', self.out_einsum_tpl.clone())
    if 'qkv' in self.use_bias:
      for name in ('b_q', 'b_k', 'b_v'):
        self._weight(name, (n, h), 0, nh_split)
    if self.fused:
      g = f // n
      self._weight('w_in', (d, n, 3 * h + g), d**-0.5, wp.dnh)
      self._weight('w_out', (n, h + g, d), (d + f)**-0.5, wp.nhd)
      if 'mlp' in self.use_bias:
        self._weight('b_mlp_in', (n, g), 0, nh_split)
      if {'mlp', 'out'} & set(self.use_bias):
        self._weight('b_out', (d,), 0, rep)
      return
    for name in ('w_q', 'w_k', 'w_v'):
      self._weight(name, (d, n, h), d**-0.5, wp.dnh)
    self._weight('w_attn_out', (n, h, d), d**-0.5, wp.nhd)
    self._weight('w_mlp_in', (d, f), d**-0.5, wp.df)
    self._weight('w_mlp_out', (f, d), f**-0.5, wp.fd)
    if 'out' in self.use_bias:
      self._weight('b_attn_out', (d,), 0, rep)
    if 'mlp' in self.use_bias:
      self._weight('b_mlp_in', (f,),
                   0, None if wp.df is None else (wp.df[1],))
      self._weight('b_mlp_out', (d,), 0, rep)

  def _shard(self, x: JTensor, split: SplitDimsMapping) -> JTensor:
    return base_layer.maybe_shard(x, split, self.mesh_axis_names)

  def _attend(self, q: JTensor, k: JTensor, v: JTensor) -> JTensor:
    """Multi-head self-attention core.

    Args:
      q: [B, T, N, H] queries.
      k: [B, S, N, H] keys.
      v: [B, S, N, H] values.

    Returns:
      Context [B, T, N, H].
    """
    ap = self.activation_split_dims_mapping
    if 'qkv' in self.use_bias:
      q, k, v = q + self.theta.b_q, k + self.theta.b_k, v + self.theta.b_v
    if self.qk_norm:
      q, k = self.q_norm(q), self.k_norm(k)
    q = q * jnp.asarray(self.dim_per_head**-0.5, q.dtype)
    logits = jnp.einsum('btnh,bsnh->bnts', q, k)
    logits = self._shard(logits.astype(jnp.float32), ap.bnts)
    probs = jax.nn.softmax(logits, axis=-1)
    if self.attention_summaries:
      max_logit, entropy = attention_stats(logits, probs)
      self.add_summary('max_attention_logit', max_logit)
      self.add_summary('attention_entropy', entropy)
    ctx = jnp.einsum('bnts,bsnh->btnh', probs.astype(v.dtype), v)
    return checkpoint_name(self._shard(ctx, ap.btnh), 'context')

  def __call__(self, inputs: JTensor) -> JTensor:
    """Applies the block.

    Args:
      inputs: [B, T, D] tokens.

    Returns:
      [B, T, D] tokens.
    """
    if self.fused:
      return self._fused(inputs)
    return self._unfused(inputs)

  def _in(self, x: JTensor, w: JTensor) -> JTensor:
    """[..., D] x [D, ...] -> [..., K] (K = flattened weight columns)."""
    lead = x.shape[:-1]
    y = self.in_einsum('md,dk->mk', x.reshape(-1, x.shape[-1]),
                       w.reshape(w.shape[0], -1))
    return y.reshape(*lead, -1)

  def _out(self, h: JTensor, w: JTensor, lead_dims: int = 2) -> JTensor:
    """[B, T, ...] x [..., D] -> [B, T, D] (contracts all trailing dims)."""
    lead = h.shape[:lead_dims]
    y = self.out_einsum('mk,kd->md', h.reshape(math.prod(lead), -1),
                        w.reshape(-1, w.shape[-1]))
    return y.reshape(*lead, -1)

  def _fused(self, x: JTensor) -> JTensor:
    ap = self.activation_split_dims_mapping
    th = self.theta
    h = self.dim_per_head
    x = self._shard(x, ap.btd)
    z = self._in(self.norm(x), th.w_in)
    z = z.reshape(*z.shape[:2], self.num_heads, -1)
    z = checkpoint_name(self._shard(z, ap.btnh), 'combined_qkv_proj')
    q, k, v, m = jnp.split(z, [h, 2 * h, 3 * h], axis=-1)
    ctx = self._attend(q, k, v)
    if 'mlp' in self.use_bias:
      m = m + th.b_mlp_in
    m = self.activation(m)
    c = jnp.concatenate([ctx, m.astype(ctx.dtype)], axis=-1)
    y = self._out(c, th.w_out)
    if {'mlp', 'out'} & set(self.use_bias):
      y = y + th.b_out
    y = checkpoint_name(self._shard(y, ap.btd), 'out_proj')
    return checkpoint_name(x + y, 'transformer_layer_out')

  def _unfused(self, x: JTensor) -> JTensor:
    ap = self.activation_split_dims_mapping
    th = self.theta
    x = self._shard(x, ap.btd)
    hx = self.norm(x)
    n = self.num_heads
    q, k, v = (
        checkpoint_name(self._shard(
            self._in(hx, w).reshape(*hx.shape[:2], n, -1), ap.btnh), name)
        for w, name in ((th.w_q, 'query_proj'), (th.w_k, 'key_proj'),
                        (th.w_v, 'value_proj')))
    ctx = self._attend(q, k, v)
    a = self._out(ctx, th.w_attn_out)
    if 'out' in self.use_bias:
      a = a + th.b_attn_out
    a = checkpoint_name(self._shard(a, ap.btd), 'out_proj')
    if self.parallel:
      hm = hx
    else:
      x = x + a
      hm = self.mlp_norm(x)
    m = self._in(hm, th.w_mlp_in)
    if 'mlp' in self.use_bias:
      m = m + th.b_mlp_in
    m = checkpoint_name(self._shard(m, ap.btf), 'ffn1')
    y = self._out(self.activation(m), th.w_mlp_out)
    if 'mlp' in self.use_bias:
      y = y + th.b_mlp_out
    y = checkpoint_name(self._shard(y, ap.btd), 'ffn2')
    out = x + a + y if self.parallel else x + y
    return checkpoint_name(out, 'transformer_layer_out')


def _norm_params(params) -> dict:
  return {k: v for k, v in params.items() if not k.startswith(('w_', 'b_'))}


def unfused_to_fused(params) -> dict:
  """Maps an unfused parallel block's params to the fused layout.

  Args:
    params: the block's 'params' subtree (fused=False, parallel=True).

  Returns:
    The equivalent fused=True tree (same use_bias; b_out = b_attn_out +
    b_mlp_out, whichever exist).
  """
  out = _norm_params(params)
  d, n, _ = params['w_q'].shape
  f = params['w_mlp_in'].shape[1]
  g = f // n
  out['w_in'] = jnp.concatenate(
      [params['w_q'], params['w_k'], params['w_v'],
       params['w_mlp_in'].reshape(d, n, g)], axis=-1)
  out['w_out'] = jnp.concatenate(
      [params['w_attn_out'], params['w_mlp_out'].reshape(n, g, d)], axis=1)
  for name in ('b_q', 'b_k', 'b_v'):
    if name in params:
      out[name] = params[name]
  if 'b_mlp_in' in params:
    out['b_mlp_in'] = params['b_mlp_in'].reshape(n, g)
  biases = [params[k] for k in ('b_attn_out', 'b_mlp_out') if k in params]
  if biases:
    out['b_out'] = sum(biases)
  return out


def fused_to_unfused(params, use_bias=('mlp', 'out')) -> dict:
  """Maps a fused block's params to the unfused (parallel) layout.

  Args:
    params: the block's 'params' subtree (fused=True).
    use_bias: use_bias of the target unfused block; b_out goes to b_mlp_out
      if 'mlp' is set (b_attn_out = 0), else to b_attn_out.

  Returns:
    The equivalent fused=False, parallel=True tree.
  """
  out = _norm_params(params)
  d, n, e = params['w_in'].shape
  c = params['w_out'].shape[1]
  h = (e - c) // 2
  g = c - h
  w_in = params['w_in']
  out['w_q'], out['w_k'], out['w_v'] = (
      w_in[..., i * h:(i + 1) * h] for i in range(3))
  out['w_mlp_in'] = w_in[..., 3 * h:].reshape(d, n * g)
  out['w_attn_out'] = params['w_out'][:, :h]
  out['w_mlp_out'] = params['w_out'][:, h:].reshape(n * g, d)
  for name in ('b_q', 'b_k', 'b_v'):
    if name in params:
      out[name] = params[name]
  if 'b_mlp_in' in params:
    out['b_mlp_in'] = params['b_mlp_in'].reshape(n * g)
  b_out = params.get('b_out', jnp.zeros((d,), w_in.dtype))
  if 'mlp' in use_bias:
    out['b_mlp_out'] = b_out
    if 'out' in use_bias:
      out['b_attn_out'] = jnp.zeros_like(b_out)
  elif 'out' in use_bias:
    out['b_attn_out'] = b_out
  return out


def block_flops(model_dims: int, hidden_dims: int, num_tokens: int) -> float:
  """Forward FLOPs (2 x multiply-accumulates) of one block on one sequence.

  Args:
    model_dims: D.
    hidden_dims: F.
    num_tokens: T.

  Returns:
    2 * (T * (4 D^2 + 2 D F) + 2 T^2 D): weight matmuls plus QK^T and PV.
  """
  d, f, t = model_dims, hidden_dims, num_tokens
  return float(2 * (t * (4 * d * d + 2 * d * f) + 2 * t * t * d))

