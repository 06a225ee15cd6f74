# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The "Scaling ViT" Adafactor variant used by ViT-22B, as a praxis optimizer.

Zhai et al. 2022 (arXiv 2106.04560, §3.4) and big_vision's
`optax.big_vision.scale_by_adafactor`, which ViT-22B inherits (Dehghani et al.
2023, §3). Per parameter, with update count t (0-based) and gradient g
(already clipped to global norm `clip_gradient_norm_to_value`, 1.0, by the
paxml Learner):

  beta2_t = min(beta2_cap, 1 - (t + 1)^-decay_rate)          (0.999, 0.8)
  G       = g^2 + epsilon
  factored (the two largest dims, d1 <= d0, both >= min_dim_size_to_factor):
    v_row = beta2_t v_row + (1 - beta2_t) mean(G, d0)        (shape w/o d0)
    v_col = beta2_t v_col + (1 - beta2_t) mean(G, d1)        (shape w/o d1)
    u     = g / sqrt(v_row / mean(v_row, d1)) / sqrt(v_col)
  otherwise:
    v     = beta2_t v + (1 - beta2_t) G;   u = g / sqrt(v)
  u       = u / max(1, rms(u) / clipping_threshold)         (off by default)
  m       = beta1 m + (1 - beta1) u;  u = m                  (no debiasing;
            m is computed in float32 and stored in `momentum_dtype`, bf16)
  update  = -lr_t (u + wd * param)                           (decoupled wd)

lr_t = learning_rate * lr_schedule(t). wd is per parameter (see
`weight_decay.py`): head 3.0, body 0.01, biases / norms / embeddings 0.

Differences from praxis' ShardedAdafactor: beta2 is capped (praxis has no cap),
momentum is taken before the learning rate (as big_vision, so the EMA does not
mix learning rates), factored dims are the two largest (praxis: the last two),
decoupled weight decay is per-regex with an exclusion list. Difference from
optax's `ema(accumulator_dtype=bf16)` used by big_vision: optax multiplies the
bf16 state by beta1 in bf16 (beta1 rounds to 0.8984375); here the state is
upcast first, so the EMA uses exactly beta1.

Sharding: optimizer states follow the parameter's `tensor_split_dims_mapping`;
the factored statistics drop the reduced dimension from it (as
ShardedAdafactor), so `init_partition_spec` works under pjit. Stacked
(`repeat_prefix`) variables are handled by the paxml Learner's
`vectorize_on_repeat_prefix` (each layer gets its own statistics).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple, Sequence

import jax
from jax import numpy as jnp
import numpy as np
import optax
from praxis import base_layer
from praxis import optimizers
from praxis import py_utils
from praxis import pytypes

from vit22b_pax.optim import weight_decay as wd_lib

JTensor = pytypes.JTensor
NestedJTensor = pytypes.NestedJTensor
WeightHParams = base_layer.WeightHParams

_MOMENTUM_DTYPES = ('bfloat16', 'float32')


def beta2_at(count: JTensor, decay_rate: float, beta2_cap: float) -> JTensor:
  """Second-moment decay min(cap, 1 - (count + 1)^-decay_rate), float32."""
  t = jnp.asarray(count).astype(jnp.float32) + 1.0
  return jnp.minimum(beta2_cap, 1.0 - t**(-decay_rate))


def factored_dims(shape: Sequence[int],
                  min_dim_size_to_factor: int) -> tuple[int, int] | None:
  """Returns (d1, d0): the second-largest and largest dims, or None.

  None (an unfactored, full second moment) for vectors and for arrays whose
  second-largest dim is below `min_dim_size_to_factor` (optax's rule).

  Args:
    shape: the parameter's shape.
    min_dim_size_to_factor: smallest size of both factored dims.
  """
  if len(shape) < 2:
    return None
  order = np.argsort(np.asarray(shape), kind='stable')
  d1, d0 = int(order[-2]), int(order[-1])
  if shape[d1] < min_dim_size_to_factor:
    return None
  return d1, d0


class AdafactorState(NamedTuple):
  """Optimizer state: update count and per-parameter slot trees.

  Unused slots (momentum off, `v` of factored or `v_row`/`v_col` of
  unfactored parameters) hold a float32 [1] placeholder, as ShardedAdafactor.
  """
  count: JTensor
  m: NestedJTensor
  v_row: NestedJTensor
  v_col: NestedJTensor
  v: NestedJTensor


@dataclasses.dataclass(frozen=True)
class _Slots:
  """One parameter's results; a leaf for jax.tree_util (not a pytree)."""
  update: Any
  m: Any
  v_row: Any
  v_col: Any
  v: Any


def _to_state(count, slots_tree) -> AdafactorState:
  field = lambda f: jax.tree_util.tree_map(lambda s: getattr(s, f), slots_tree)
  return AdafactorState(count=count, m=field('m'), v_row=field('v_row'),
                        v_col=field('v_col'), v=field('v'))


def scale_by_vit22b_adafactor(
    learning_rate_fn: optax.Schedule,
    *,
    decay_rate: float,
    beta2_cap: float,
    beta1: float,
    momentum_dtype: jnp.dtype,
    min_dim_size_to_factor: int,
    clipping_threshold: float | None,
    epsilon: float,
    wd_rate_fn: Any,
) -> optimizers.ShardedGradientTransformation:
  """The Adafactor variant, learning rate and decoupled decay in one step.

  Args:
    learning_rate_fn: count -> learning rate (schedule times peak).
    decay_rate: exponent of the beta2 schedule.
    beta2_cap: upper bound of beta2.
    beta1: momentum EMA decay; 0 disables momentum.
    momentum_dtype: storage dtype of the momentum.
    min_dim_size_to_factor: see `factored_dims`.
    clipping_threshold: per-parameter update RMS clip, None disables it.
    epsilon: added to the squared gradient.
    wd_rate_fn: variable path -> decoupled weight-decay rate (python float).

  Returns:
    A praxis ShardedGradientTransformation producing the *negative* step
    (paxml adds the transformed gradient to the variables).
  """
  placeholder = lambda: jnp.zeros((1,), jnp.float32)
  zeros_without = lambda shape, dim: jnp.zeros(
      tuple(int(d) for d in np.delete(shape, dim)), jnp.float32)

  def init_one(param):
    shape = tuple(param.shape)
    m = jnp.zeros(shape, momentum_dtype) if beta1 else placeholder()
    dims = factored_dims(shape, min_dim_size_to_factor)
    if dims is None:
      return _Slots(None, m, placeholder(), placeholder(),
                    jnp.zeros(shape, jnp.float32))
    d1, d0 = dims
    return _Slots(None, m, zeros_without(shape, d0), zeros_without(shape, d1),
                  placeholder())

  def init_fn(params):
    return _to_state(jnp.zeros([], jnp.int32),
                     jax.tree_util.tree_map(init_one, params))

  def spec_one(var: WeightHParams) -> _Slots:
    if var.repeat_prefix:
      raise ValueError(
          f'ViT22BAdafactor: variable with repeat_prefix={var.repeat_prefix}; '
          'expected the Learner to vectorize it (vectorize_on_repeat_prefix).')
    shape = tuple(var.shape)
    split = var.tensor_split_dims_mapping
    if split is not None and len(split) != len(shape):
      raise ValueError(f'tensor_split_dims_mapping={split} does not match '
                       f'shape {list(shape)}.')

    def hparams(shape_, dtype, split_):
      return WeightHParams(shape=[int(d) for d in shape_], init=None,
                           dtype=dtype, collections=None,
                           mesh_shape=var.mesh_shape,
                           tensor_split_dims_mapping=split_)

    def drop(dim):
      return None if split is None else [
          s for i, s in enumerate(split) if i != dim]

    placeholder_spec = lambda: WeightHParams(shape=[1], dtype=jnp.float32)
    m = (hparams(shape, momentum_dtype, split) if beta1
         else placeholder_spec())
    dims = factored_dims(shape, min_dim_size_to_factor)
    if dims is None:
      return _Slots(None, m, placeholder_spec(), placeholder_spec(),
                    hparams(shape, jnp.float32, split))
    d1, d0 = dims
    return _Slots(None, m, hparams(np.delete(shape, d0), jnp.float32, drop(d0)),
                  hparams(np.delete(shape, d1), jnp.float32, drop(d1)),
                  placeholder_spec())

  def init_partition_spec_fn(var_hparams):
    count = WeightHParams(shape=[], init=None, dtype=jnp.int32,
                          collections=None, tensor_split_dims_mapping=[])
    return _to_state(count, jax.tree_util.tree_map(spec_one, var_hparams))

  def update_one(count, lr, grad, m, v_row, v_col, v, param, name):
    g = grad.astype(jnp.float32)
    beta2 = beta2_at(count, decay_rate, beta2_cap)
    g_sq = jnp.square(g) + epsilon
    dims = factored_dims(param.shape, min_dim_size_to_factor)
    if dims is None:
      v = beta2 * v + (1.0 - beta2) * g_sq
      u = g * jax.lax.rsqrt(v)
    else:
      d1, d0 = dims
      v_row = beta2 * v_row + (1.0 - beta2) * jnp.mean(g_sq, axis=d0)
      v_col = beta2 * v_col + (1.0 - beta2) * jnp.mean(g_sq, axis=d1)
      reduced_d1 = d1 - 1 if d1 > d0 else d1
      row_mean = jnp.mean(v_row, axis=reduced_d1, keepdims=True)
      u = (g * jnp.expand_dims(jax.lax.rsqrt(v_row / row_mean), d0)
           * jnp.expand_dims(jax.lax.rsqrt(v_col), d1))
    if clipping_threshold is not None:
      rms = jnp.sqrt(jnp.mean(jnp.square(u)))
      u = u / jnp.maximum(1.0, rms / clipping_threshold)
    if beta1:
      u = beta1 * m.astype(jnp.float32) + (1.0 - beta1) * u
      m = u.astype(momentum_dtype)
    rate = wd_rate_fn(name)
    if rate:
      u = u + rate * param.astype(jnp.float32)
    update = (-lr * u).astype(param.dtype)
    return _Slots(update, m, v_row, v_col, v)

  def update_fn(updates, state, params=None):
    if params is None:
      raise ValueError('ViT22BAdafactor needs `params` in update() (decoupled '
                       'weight decay and parameter shapes).')
    names = py_utils.extract_prefixed_keys_from_nested_map(updates)
    lr = learning_rate_fn(state.count)
    slots = jax.tree_util.tree_map(
        functools.partial(update_one, state.count, lr), updates, state.m,
        state.v_row, state.v_col, state.v, params, names)
    new_updates = jax.tree_util.tree_map(lambda s: s.update, slots)
    return new_updates, _to_state(state.count + 1, slots)

  return optimizers.ShardedGradientTransformation(
      init=init_fn, update=update_fn,
      init_partition_spec=init_partition_spec_fn)


class ViT22BAdafactor(wd_lib.DecoupledDecayOptimizer):
  """ViT-22B's Adafactor ("Scaling ViT" variant) with per-regex decoupled wd.

  Use inside a paxml `Learner`; the Learner clips the global gradient norm to
  `clip_gradient_norm_to_value` (big_vision `grad_clip_norm`, 1.0 here) before
  this optimizer runs. Inherited BaseOptimizer fields (l1/l2 regularizers, EMA,
  ...) keep their praxis meaning; the inherited `decoupled_weight_decay` must
  stay None (use `weight_decay` / `head_weight_decay`).

  Attributes:
    learning_rate: peak learning rate (paper: 1e-3), multiplied by
      `lr_schedule` (e.g. `RsqrtSchedule`); required.
    clip_gradient_norm_to_value: global gradient-norm clip applied by the
      Learner (paper / big_vision: 1.0); 0 disables it.
    decay_rate: exponent of the beta2 schedule 1 - (t+1)^-decay_rate (0.8).
    beta2_cap: upper bound of beta2 (0.999).
    beta1: momentum EMA decay, no debiasing (0.9); 0 disables momentum.
    momentum_dtype: momentum storage dtype, 'bfloat16' (paper) or 'float32'.
    min_dim_size_to_factor: factor the second moment of arrays whose two
      largest dims are both at least this (big_vision: 32).
    clipping_threshold: per-parameter update-RMS clip (Adafactor's update
      clipping); None (big_vision default) disables it.
    epsilon: added to the squared gradients (1e-30).
    weight_decay: decoupled decay rate of body weights, applied as
      lr_t * weight_decay * param (paper: 0.01; big_vision ViT-G: 0.03).
    head_weight_decay: decoupled decay rate of the variables matched by
      `head_regex` (paper: 3.0).
    head_regex: `re.fullmatch` pattern on the '/'-joined variable path
      selecting the head.
    decay_exclusion_regexes: `re.fullmatch` patterns of variables never
      decayed (biases, norm scales, position embeddings, class tokens,
      probes; see `weight_decay.DEFAULT_DECAY_EXCLUSIONS`). Checked first.
  """

  learning_rate: float = 1e-3
  clip_gradient_norm_to_value: float = 1.0
  decay_rate: float = 0.8
  beta2_cap: float = 0.999
  beta1: float = 0.9
  momentum_dtype: str = 'bfloat16'
  min_dim_size_to_factor: int = 32
  clipping_threshold: float | None = None
  epsilon: float = 1e-30
  weight_decay: float = 0.01
  head_weight_decay: float = 3.0

  def field_checks(self):
    return (
        ('decay_rate', self.decay_rate > 0, '> 0'),
        ('beta2_cap', 0 < self.beta2_cap <= 1, 'in (0, 1]'),
        ('beta1', 0 <= self.beta1 < 1, 'in [0, 1)'),
        ('momentum_dtype', self.momentum_dtype in _MOMENTUM_DTYPES,
         f'one of {_MOMENTUM_DTYPES}'),
        ('min_dim_size_to_factor', self.min_dim_size_to_factor >= 1, '>= 1'),
        ('clipping_threshold',
         self.clipping_threshold is None or self.clipping_threshold > 0,
         'None or > 0'),
        ('epsilon', self.epsilon >= 0, '>= 0'),
    )

  def _get_raw_grad_transformation(
      self, lr: optax.Schedule) -> optimizers.ShardedGradientTransformation:
    return scale_by_vit22b_adafactor(
        lr,
        decay_rate=self.decay_rate,
        beta2_cap=self.beta2_cap,
        beta1=self.beta1,
        momentum_dtype=getattr(jnp, self.momentum_dtype),
        min_dim_size_to_factor=self.min_dim_size_to_factor,
        clipping_threshold=self.clipping_threshold,
        epsilon=self.epsilon,
        wd_rate_fn=self.weight_decay_rate)
