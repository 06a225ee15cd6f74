# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The ViT-22B block as plain JAX functions: (params, x, config) -> y.

"Scaling Vision Transformers to 22 Billion Parameters" (Dehghani et al. 2023,
https://arxiv.org/abs/2302.05442), §2:

  y = x + Attention(LN(x)) + MLP(LN(x))              (parallel=True)
  y = x' + MLP(LN2(x')), x' = x + Attention(LN1(x))  (parallel=False)

Attention logits are softmax((1/sqrt(H)) * LN(q) . LN(k)^T) (QK-norm, one
norm per head over H, scale shared across heads as flax `normalize_qk`).

This module is the single implementation of the block's computation: the
praxis layer `vit22b_pax.layers.parallel_block.ViT22BBlock` creates the
parameters and calls `apply` with its own hooks (`Ops`: praxis norms and
activation, injected einsum ops, sharding annotations, remat names,
summaries); without hooks `apply` runs on plain arrays with the norms and
GELU below, so it needs only jax (the GPU benchmark runs it on current jax).

Einsum letters:
  B: batch, T: query tokens, S: key tokens, M = B*T (flattened tokens),
  D: model dims (width), N: heads, H: dim per head, F: MLP hidden dims,
  G = F / N (MLP columns grouped with each head), E = 3H + G (fused input
  columns per head), O = H + G (fused output rows per head), K: flattened
  head columns (N*E, N*O or N*H).

Weight matmuls are 2-D on token-flattened activations (reshapes of
contiguous dims are free), through two hooks:
  in_matmul (x [M, D], w [D, K], name)   'md,dk->mk'  w_in, w_q/k/v, w_mlp_in
  out_matmul(h [M, K], w [K, D], name)   'mk,kd->md'  w_out, w_attn_out,
                                                      w_mlp_out
Weights are stored with heads explicit (w_in [D, N, E], w_out [N, O, D]) and
reshaped at call time. The fused weights are the paper's [D, 3NH + F] and
[NH + F, D] matrices with columns (rows) grouped per head:
w_in[:, n] = [q_n | k_n | v_n | mlp_n], mlp_n = MLP units n*G .. (n+1)*G - 1,
so tensor parallelism over heads gives every device whole heads and a
matching MLP slice.

The fused block splits its weights (`Ops.split_weights`, default): four
matmuls on the segments w_in[..., :H], [H:2H], [2H:3H], [3H:] give q, k, v
and the MLP pre-activation (same columns, same numbers), and the output is
context x w_out[:, :H] + GELU x w_out[:, H:], two matmuls into one sum; no
activation is sliced or concatenated, the weights are split per step
(`core.segments.split_segments`). With split_weights=False (the ring
collective matmuls: one ring per fused weight) it runs one matmul per fused
weight and splits / concatenates activations. docs/performance.md has the
data-movement bytes of both (`core.hlo.data_movement`).

Parameters (`param_shapes`): 'norm' (and 'mlp_norm' if sequential), each
{'scale' [D] (, 'bias' [D] with norm_bias)}; 'q_norm' / 'k_norm' {'scale'
[H]} with qk_norm; weights and biases as `weight_specs` lists them. Biases
(`use_bias`): 'qkv' (q/k/v projections; off in the paper), 'mlp' (MLP in and
out; on in the paper), 'out' (attention output projection; not stated in the
paper). In the fused form one output bias `b_out` serves both the attention
and the MLP output (it exists if 'mlp' or 'out' is set): in the parallel
block the two only ever appear as a sum.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from typing import Any, Callable, Mapping

import jax
from jax import numpy as jnp
from jax.ad_checkpoint import checkpoint_name

from vit22b_pax.core import segments

NORM_TYPES = ('layernorm', 'rmsnorm')
BIAS_NAMES = ('qkv', 'mlp', 'out')
# Norms of the block and which config fields set their type and bias.
BLOCK_NORMS = ('norm', 'mlp_norm')
QK_NORMS = ('q_norm', 'k_norm')


@dataclasses.dataclass(frozen=True)
class BlockConfig:
  """Static configuration of one block.

  Attributes:
    model_dims: width D.
    num_heads: attention heads N; must divide D.
    hidden_dims: MLP hidden dims F; N must divide F when fused.
    parallel: True: y = x + Attn(LN(x)) + MLP(LN(x)) (one norm); False: the
      sequential pre-LN block with two norms.
    fused: one [D, N, 3H + G] input and one [N, H + G, D] output matmul
      (needs parallel=True); False: separate q/k/v/MLP weights.
    qk_norm: normalize queries and keys per head over H.
    use_bias: subset of BIAS_NAMES (see the module docstring).
    norm_type: 'rmsnorm' (no centering, no bias: the paper) or 'layernorm'.
    qk_norm_type: type of the QK-norms; None = norm_type.
    norm_bias: a bias on the block norms ('norm', 'mlp_norm'), as standard
      ViTs have; needs norm_type='layernorm'. The QK-norms never have one
      (flax `normalize_qk`).
    gelu_approximate: tanh-approximate GELU (big_vision / praxis default).
    epsilon: norm epsilon (praxis default).
  """

  model_dims: int
  num_heads: int
  hidden_dims: int
  parallel: bool = True
  fused: bool = True
  qk_norm: bool = True
  use_bias: tuple[str, ...] = ('mlp', 'out')
  norm_type: str = 'rmsnorm'
  qk_norm_type: str | None = None
  norm_bias: bool = False
  gelu_approximate: bool = True
  epsilon: float = 1e-6

  def __post_init__(self):
    object.__setattr__(self, 'use_bias', tuple(self.use_bias))
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
    for name, value in (('norm_type', self.norm_type),
                        ('qk_norm_type', self.qk_norm_type)):
      if value is not None and value not in NORM_TYPES:
        raise ValueError(f'Unknown {name} {value!r}; expected one of '
                         f'{NORM_TYPES}.')
    if self.norm_bias and self.norm_type != 'layernorm':
      raise ValueError(f'norm_bias=True needs norm_type=\'layernorm\' '
                       f'(rmsnorm has no bias); got {self.norm_type!r}.')

  @property
  def dim_per_head(self) -> int:
    return self.model_dims // self.num_heads

  def norm_names(self) -> tuple[str, ...]:
    """Names of the block's norms, in creation order."""
    names = ('norm',) if self.parallel else BLOCK_NORMS
    return names + (QK_NORMS if self.qk_norm else ())

  def norm_spec(self, name: str) -> tuple[str, int, bool]:
    """(norm type, normalized dim, has bias) of norm `name`."""
    if name in BLOCK_NORMS:
      return self.norm_type, self.model_dims, self.norm_bias
    if name in QK_NORMS:
      return self.qk_norm_type or self.norm_type, self.dim_per_head, False
    raise ValueError(f'Unknown norm {name!r}; expected one of '
                     f'{BLOCK_NORMS + QK_NORMS}.')


@dataclasses.dataclass(frozen=True)
class WeightSpec:
  """One weight or bias of the block.

  Attributes:
    shape: global shape.
    std: init standard deviation (N(0, std^2)); 0 = zeros.
    sharding: which split of the praxis layer's WeightSharding applies:
      'dnh', 'nhd', 'df', 'fd' (the fields), 'nh' (dnh without its first
      dim: per-head biases), 'f' (df's second dim) or 'replicated'.
  """

  shape: tuple[int, ...]
  std: float
  sharding: str


def weight_specs(cfg: BlockConfig) -> dict[str, WeightSpec]:
  """Weights and biases of the block (norms excluded), in creation order.

  Init: weights N(0, 1/fan_in) of their matrix (fused in: D; fused out:
  D + F), biases 0.
  """
  d, n, f, h = (cfg.model_dims, cfg.num_heads, cfg.hidden_dims,
                cfg.dim_per_head)
  out = collections.OrderedDict()
  if 'qkv' in cfg.use_bias:
    for name in ('b_q', 'b_k', 'b_v'):
      out[name] = WeightSpec((n, h), 0.0, 'nh')
  if cfg.fused:
    g = f // n
    out['w_in'] = WeightSpec((d, n, 3 * h + g), d**-0.5, 'dnh')
    out['w_out'] = WeightSpec((n, h + g, d), (d + f)**-0.5, 'nhd')
    if 'mlp' in cfg.use_bias:
      out['b_mlp_in'] = WeightSpec((n, g), 0.0, 'nh')
    if {'mlp', 'out'} & set(cfg.use_bias):
      out['b_out'] = WeightSpec((d,), 0.0, 'replicated')
    return out
  for name in ('w_q', 'w_k', 'w_v'):
    out[name] = WeightSpec((d, n, h), d**-0.5, 'dnh')
  out['w_attn_out'] = WeightSpec((n, h, d), d**-0.5, 'nhd')
  out['w_mlp_in'] = WeightSpec((d, f), d**-0.5, 'df')
  out['w_mlp_out'] = WeightSpec((f, d), f**-0.5, 'fd')
  if 'out' in cfg.use_bias:
    out['b_attn_out'] = WeightSpec((d,), 0.0, 'replicated')
  if 'mlp' in cfg.use_bias:
    out['b_mlp_in'] = WeightSpec((f,), 0.0, 'f')
    out['b_mlp_out'] = WeightSpec((d,), 0.0, 'replicated')
  return out


_IN_WEIGHTS = ('w_in', 'w_q', 'w_k', 'w_v', 'w_mlp_in')


def flat_weight_split(name: str, split):
  """Split of weight `name` after its 2-D flattening (None stays None).

  In-weights [D, ...] flatten to [D, K], out-weights [..., D] to [K, D];
  the flattened dim keeps the split of its major (head) dim.

  Args:
    name: a block weight, e.g. 'w_in' [D, N, E] -> [D, N*E].
    split: its split (mesh axis, tuple of axes or None per stored dim).

  Returns:
    Two entries, for the 2-D matmul operand.

  Raises:
    ValueError: the minor dim of a flattened pair is split (not a block
      split of the flattened dim).
  """
  if split is None:
    return None
  split = tuple(split)
  if len(split) == 2:
    return split
  pair, major = ((split[1], split[2]), split[1]) if name in _IN_WEIGHTS else (
      (split[0], split[1]), split[0])
  if pair[1] is not None:
    raise ValueError(
        f'{name}: split {split} shards the minor dim {pair[1]!r} of a '
        'flattened pair, which is not a block split of the 2-D matmul '
        'operand; shard the head dim instead.')
  return (split[0], major) if name in _IN_WEIGHTS else (major, split[2])


def param_shapes(cfg: BlockConfig) -> dict[str, Any]:
  """Nested {name: shape} of every parameter (norms as {'scale', 'bias'})."""
  shapes: dict[str, Any] = {}
  for name in cfg.norm_names():
    _, dim, bias = cfg.norm_spec(name)
    shapes[name] = {'scale': (dim,)}
    if bias:
      shapes[name]['bias'] = (dim,)
  for name, spec in weight_specs(cfg).items():
    shapes[name] = spec.shape
  return shapes


def param_count(cfg: BlockConfig) -> int:
  """Number of parameters of one block."""
  return sum(math.prod(s) for s in jax.tree_util.tree_leaves(
      param_shapes(cfg), is_leaf=lambda x: isinstance(x, tuple)))


def init_params(key: jax.Array, cfg: BlockConfig,
                dtype: Any = jnp.float32) -> dict[str, Any]:
  """Random parameters with the layer's init (norm scales 1, biases 0)."""
  params: dict[str, Any] = {}
  for name in cfg.norm_names():
    _, dim, bias = cfg.norm_spec(name)
    params[name] = {'scale': jnp.ones((dim,), dtype)}
    if bias:
      params[name]['bias'] = jnp.zeros((dim,), dtype)
  specs = weight_specs(cfg)
  keys = jax.random.split(key, len(specs))
  for k, (name, spec) in zip(keys, specs.items()):
    params[name] = (spec.std * jax.random.normal(k, spec.shape, dtype)
                    if spec.std else jnp.zeros(spec.shape, dtype))
  return params


def norm(x: jax.Array, scale: jax.Array, bias: jax.Array | None,
         norm_type: str, epsilon: float = 1e-6) -> jax.Array:
  """LayerNorm / RMSNorm over the last dim, statistics in float32.

  Same numbers as praxis' `LayerNorm(direct_scale=True,
  reductions_in_fp32=True)` and `RmsNorm(direct_scale=True,
  intermediate_dtype=float32)`: normalize in float32, cast to x's dtype,
  multiply by the gain (and add the bias).
  """
  x32 = x.astype(jnp.float32)
  if norm_type == 'layernorm':
    x32 = x32 - jnp.mean(x32, axis=-1, keepdims=True)
  elif norm_type != 'rmsnorm':
    raise ValueError(f'Unknown norm_type {norm_type!r}; expected one of '
                     f'{NORM_TYPES}.')
  var = jnp.mean(jnp.square(x32), axis=-1, keepdims=True)
  y = (x32 * jax.lax.rsqrt(var + epsilon)).astype(x.dtype)
  y = y * scale.astype(x.dtype)
  if bias is not None:
    y = y + bias.astype(x.dtype)
  return y


def attention_stats(logits: jax.Array,
                    probs: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(max logit, mean attention entropy in nats) of one attention layer.

  Args:
    logits: float32 [B, N, T, S] scaled attention logits.
    probs: softmax(logits) [B, N, T, S].
  """
  lse = jax.nn.logsumexp(logits, axis=-1)
  entropy = lse - jnp.sum(probs * logits, axis=-1)
  return jnp.max(logits), jnp.mean(entropy)


def _in_einsum(x, w, name):
  del name
  return jnp.einsum('md,dk->mk', x, w)


def _out_einsum(h, w, name):
  del name
  return jnp.einsum('mk,kd->md', h, w)


@dataclasses.dataclass(frozen=True)
class Ops:
  """Hooks of `apply`; the defaults make it a plain single-device block.

  Attributes:
    in_matmul: (x [M, D], w [D, K], weight name) -> [M, K].
    out_matmul: (h [M, K], w [K, D], weight name) -> [M, D].
    norm: (norm name, x) -> normalized x; None = `norm` with params[name].
    activation: MLP activation; None = GELU (cfg.gelu_approximate).
    shard: (x, kind) -> x with a sharding annotation; kind is 'btd',
      'btnh', 'bnts' or 'btf' (the layer's ActivationSharding fields).
    tag: (x, name) -> x; remat names (default `checkpoint_name`).
    on_attention: optional callback (logits, probs) for statistics.
    split_weights: fused block only: True runs one matmul per weight
      segment (q, k, v, MLP in; attention, MLP out), False one matmul per
      fused weight with split activations (see the module docstring); the
      ring collective matmuls use False (one ring per fused weight).
  """

  in_matmul: Callable[[jax.Array, jax.Array, str], jax.Array] = _in_einsum
  out_matmul: Callable[[jax.Array, jax.Array, str], jax.Array] = _out_einsum
  norm: Callable[[str, jax.Array], jax.Array] | None = None
  activation: Callable[[jax.Array], jax.Array] | None = None
  shard: Callable[[jax.Array, str], jax.Array] = lambda x, kind: x
  tag: Callable[[jax.Array, str], jax.Array] = checkpoint_name
  on_attention: Callable[[jax.Array, jax.Array], None] | None = None
  split_weights: bool = True


class _Run:
  """One application of the block: params, config and hooks together."""

  def __init__(self, params: Mapping[str, Any], cfg: BlockConfig, ops: Ops,
               dtype):
    self.cfg, self.ops = cfg, ops
    self.p = jax.tree_util.tree_map(lambda a: jnp.asarray(a).astype(dtype),
                                    dict(params))

  def norm(self, name, x):
    if self.ops.norm is not None:
      return self.ops.norm(name, x)
    norm_type, _, _ = self.cfg.norm_spec(name)
    p = self.p[name]
    return norm(x, p['scale'], p.get('bias'), norm_type, self.cfg.epsilon)

  def act(self, x):
    if self.ops.activation is not None:
      return self.ops.activation(x)
    return jax.nn.gelu(x, approximate=self.cfg.gelu_approximate)

  def in_proj(self, x, name, w=None):
    """[..., D] x w [D, ...] -> [..., K]; w defaults to params[name]."""
    w = self.p[name] if w is None else w
    lead = x.shape[:-1]
    y = self.ops.in_matmul(x.reshape(-1, x.shape[-1]),
                           w.reshape(w.shape[0], -1), name)
    return y.reshape(*lead, -1)

  def out_proj(self, h, name, lead_dims=2, w=None):
    """[B, T, ...] x w [..., D] -> [B, T, D] (contracts trailing dims).

    w defaults to params[name].
    """
    w = self.p[name] if w is None else w
    lead = h.shape[:lead_dims]
    y = self.ops.out_matmul(h.reshape(math.prod(lead), -1),
                            w.reshape(-1, w.shape[-1]), name)
    return y.reshape(*lead, -1)

  def attend(self, q, k, v):
    """q [B,T,N,H], k, v [B,S,N,H] -> context [B,T,N,H]."""
    ops, p, h = self.ops, self.p, self.cfg.dim_per_head
    if 'qkv' in self.cfg.use_bias:
      q, k, v = q + p['b_q'], k + p['b_k'], v + p['b_v']
    if self.cfg.qk_norm:
      q, k = self.norm('q_norm', q), self.norm('k_norm', k)
    q = q * jnp.asarray(h**-0.5, q.dtype)
    logits = jnp.einsum('btnh,bsnh->bnts', q, k)
    logits = ops.shard(logits.astype(jnp.float32), 'bnts')
    probs = jax.nn.softmax(logits, axis=-1)
    if ops.on_attention is not None:
      ops.on_attention(logits, probs)
    ctx = jnp.einsum('bnts,bsnh->btnh', probs.astype(v.dtype), v)
    return ops.tag(ops.shard(ctx, 'btnh'), 'context')

  def fused(self, x):
    """The fused block (see the module docstring for the two splits)."""
    ops, p, cfg = self.ops, self.p, self.cfg
    h, g = cfg.dim_per_head, cfg.hidden_dims // cfg.num_heads
    x = ops.shard(x, 'btd')
    hx = self.norm('norm', x)

    def heads(z):  # [B, T, N*K] -> [B, T, N, K], sharded and named.
      z = z.reshape(*hx.shape[:2], cfg.num_heads, -1)
      return ops.tag(ops.shard(z, 'btnh'), 'combined_qkv_proj')

    if ops.split_weights:
      # w_in [D, N, E] -> q/k/v [D, N, H] and MLP [D, N, G] columns; each
      # matmul gives one [B, T, N, H|G] activation, none is sliced.
      q, k, v, m = (heads(self.in_proj(hx, 'w_in', w)) for w in
                    segments.split_segments(p['w_in'], (h, h, h, g), 2))
    else:
      z = heads(self.in_proj(hx, 'w_in'))
      q, k, v, m = segments.split_segments(z, (h, h, h, g), 3)
    ctx = self.attend(q, k, v)
    if 'mlp' in cfg.use_bias:
      m = m + p['b_mlp_in']
    m = self.act(m).astype(ctx.dtype)
    if ops.split_weights:
      # w_out [N, O, D] -> attention rows [N, H, D] and MLP rows [N, G, D]:
      # two matmuls into one sum instead of one on concat([ctx, m]).
      w_attn, w_mlp = segments.split_segments(p['w_out'], (h, g), 1)
      y = (self.out_proj(ctx, 'w_out', w=w_attn)
           + self.out_proj(m, 'w_out', w=w_mlp))
    else:
      y = self.out_proj(jnp.concatenate([ctx, m], axis=-1), 'w_out')
    if 'b_out' in p:
      y = y + p['b_out']
    y = ops.tag(ops.shard(y, 'btd'), 'out_proj')
    return ops.tag(x + y, 'transformer_layer_out')

  def unfused(self, x):
    ops, p, cfg = self.ops, self.p, self.cfg
    x = ops.shard(x, 'btd')
    hx = self.norm('norm', x)
    q, k, v = (
        ops.tag(ops.shard(self.in_proj(hx, w).reshape(
            *hx.shape[:2], cfg.num_heads, -1), 'btnh'), name)
        for w, name in (('w_q', 'query_proj'), ('w_k', 'key_proj'),
                        ('w_v', 'value_proj')))
    ctx = self.attend(q, k, v)
    a = self.out_proj(ctx, 'w_attn_out')
    if 'out' in cfg.use_bias:
      a = a + p['b_attn_out']
    a = ops.tag(ops.shard(a, 'btd'), 'out_proj')
    if cfg.parallel:
      hm = hx
    else:
      x = x + a
      hm = self.norm('mlp_norm', x)
    m = self.in_proj(hm, 'w_mlp_in')
    if 'mlp' in cfg.use_bias:
      m = m + p['b_mlp_in']
    m = ops.tag(ops.shard(m, 'btf'), 'ffn1')
    y = self.out_proj(self.act(m), 'w_mlp_out')
    if 'mlp' in cfg.use_bias:
      y = y + p['b_mlp_out']
    y = ops.tag(ops.shard(y, 'btd'), 'ffn2')
    out = x + a + y if cfg.parallel else x + y
    return ops.tag(out, 'transformer_layer_out')


def apply(params: Mapping[str, Any], x: jax.Array, cfg: BlockConfig,
          ops: Ops | None = None) -> jax.Array:
  """Applies the block.

  Args:
    params: the block's parameters (`param_shapes` layout; the norm entries
      are unused when ops.norm is given). Cast to x's dtype.
    x: [B, T, D] tokens.
    cfg: the block configuration.
    ops: hooks (matmuls, norms, activation, sharding, remat names).

  Returns:
    [B, T, D] tokens.
  """
  if x.ndim != 3 or x.shape[-1] != cfg.model_dims:
    raise ValueError(f'Expected x [B, T, {cfg.model_dims}], got shape '
                     f'{tuple(x.shape)}.')
  run = _Run(params, cfg, ops or Ops(), x.dtype)
  return run.fused(x) if cfg.fused else run.unfused(x)


def train_flops_per_token(num_params: float, num_layers: int,
                          model_dims: int, seq_len: int) -> float:
  """PaLM's training FLOPs per token (appendix B): 6 N + 12 L D T.

  N are the parameters applied to every token (each: 2 FLOPs forward, 4
  backward), L D T the attention QK^T and PV products (2 * 2 L D T forward,
  twice that backward). Forward alone is a third of it.
  """
  for name, value in (('num_params', num_params), ('num_layers', num_layers),
                      ('model_dims', model_dims), ('seq_len', seq_len)):
    if not value > 0:
      raise ValueError(f'{name} must be > 0, got {value!r}.')
  return 6.0 * num_params + 12.0 * num_layers * model_dims * seq_len


def block_train_flops(cfg: BlockConfig, batch: int, seq_len: int) -> float:
  """Model FLOPs of one block's forward + backward on [batch, seq_len]."""
  return batch * seq_len * train_flops_per_token(
      param_count(cfg), 1, cfg.model_dims, seq_len)
