# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""AdamW with the same decoupled weight-decay rules as `ViT22BAdafactor`.

The optimizer of the small-scale instability study (Wortsman et al. 2023,
arXiv 2309.14322: AdamW, beta1 0.9, beta2 0.95, epsilon 1e-8, global
gradient-norm clip 1), as the alternative to the paper's Adafactor variant in
the stability ablations. Per parameter, with update count t (0-based) and
gradient g (already clipped by the paxml Learner to global norm
`clip_gradient_norm_to_value`):

  m_t    = beta1 m + (1 - beta1) g;   v_t = beta2 v + (1 - beta2) g^2
  u      = m_hat / (sqrt(v_hat) + epsilon)   (bias-corrected, as Adam)
  update = -lr_t (u + wd * param)            (decoupled, as optax.adamw)

lr_t = learning_rate * lr_schedule(t). The Adam part is praxis'
`sharded_adam` (sharded moments, no update capping); the decay is applied per
parameter with `weight_decay.rate_for`: body `weight_decay`, head
`head_weight_decay`, nothing on biases, norm scales, position embeddings,
class tokens and the MAP probe, exactly as in `ViT22BAdafactor`, so a
decay setting means the same thing for both optimizers. (praxis' own
`Adam.decoupled_weight_decay` decays every variable not tagged
SKIP_LP_REGULARIZATION, which the vit22b_pax layers do not tag.)
"""

from __future__ import annotations

from typing import Callable

import jax
from jax import numpy as jnp
import optax
from praxis import optimizers
from praxis import py_utils

from vit22b_pax.optim import weight_decay as wd_lib


def add_decoupled_decay(updates, params, lr,
                        wd_rate_fn: Callable[[str], float]):
  """updates - lr * wd(name) * param, per variable (praxis masked nodes and
  rate-0 variables unchanged).

  Args:
    updates: the (already learning-rate-scaled) updates.
    params: the current variables, same tree.
    lr: this step's learning rate (a scalar).
    wd_rate_fn: variable path -> decoupled decay rate (python float).
  """
  names = py_utils.extract_prefixed_keys_from_nested_map(updates)

  def one(update, param, name):
    if py_utils.is_optax_masked_node(update):
      return update
    rate = wd_rate_fn(name)
    if not rate:
      return update
    return update - (lr * rate * param.astype(jnp.float32)).astype(
        update.dtype)

  return jax.tree_util.tree_map(one, updates, params, names,
                                is_leaf=py_utils.is_optax_masked_node)


class ViT22BAdamW(wd_lib.DecoupledDecayOptimizer):
  """AdamW with per-regex decoupled weight decay (see the module docstring).

  Use inside a paxml `Learner`, which clips the global gradient norm to
  `clip_gradient_norm_to_value` first. The inherited `decoupled_weight_decay`
  must stay None (use `weight_decay` / `head_weight_decay`).

  Attributes:
    learning_rate: peak learning rate, multiplied by `lr_schedule`; required.
    clip_gradient_norm_to_value: global gradient-norm clip applied by the
      Learner (1.0); 0 disables it.
    beta1: first-moment decay (0.9).
    beta2: second-moment decay (0.95, the proxy study's; Adam's default is
      0.999).
    epsilon: added to sqrt(v_hat) (1e-8).
    weight_decay, head_weight_decay (0.0 each), head_regex,
      decay_exclusion_regexes: the decay rules, see
      `weight_decay.DecoupledDecayOptimizer`.
  """

  learning_rate: float = 1e-3
  clip_gradient_norm_to_value: float = 1.0
  beta1: float = 0.9
  beta2: float = 0.95
  epsilon: float = 1e-8

  def field_checks(self):
    return (
        ('beta1', 0 <= self.beta1 < 1, 'in [0, 1)'),
        ('beta2', 0 <= self.beta2 < 1, 'in [0, 1)'),
        ('epsilon', self.epsilon >= 0, '>= 0'),
    )

  def _get_raw_grad_transformation(
      self, lr: optax.Schedule) -> optimizers.ShardedGradientTransformation:
    adam = optimizers.sharded_adam(
        learning_rate_fn=lr, beta1=self.beta1, beta2=self.beta2,
        epsilon=self.epsilon, epsilon_root=0.0, update_capping=0.0,
        weight_decay=0.0)

    # One transformation with Adam's state (not a nested sharded_chain:
    # paxml unwraps only the outermost chain's partition-spec wrapper).
    def update_fn(updates, state, params=None):
      if params is None:
        raise ValueError('ViT22BAdamW needs `params` in update() (decoupled '
                         'weight decay).')
      step_lr = lr(state.count)
      updates, new_state = adam.update(updates, state, params)
      return (add_decoupled_decay(updates, params, step_lr,
                                  self.weight_decay_rate), new_state)

    return optimizers.ShardedGradientTransformation(
        init=adam.init, update=update_fn,
        init_partition_spec=adam.init_partition_spec)
