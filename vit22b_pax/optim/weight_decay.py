# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Per-parameter decoupled weight-decay rates: head, body, excluded.

ViT-22B trains with decoupled weight decay 3.0 on the head and 0.01 on the
body "for better few-shot adaptation" (Dehghani et al. 2023, §3). "Decoupled"
has big_vision's meaning: the decay is applied to the parameters directly,
scaled by the current learning rate, outside the adaptive update:

  param <- param - lr_t * (adafactor_update + wd * param)

(big_vision ViT-G: `wd = 0.03 * lr`, `wd_mults = [('.*head/kernel', 100),
('.*/kernel', 1)]`, i.e. head 3.0 and body 0.03 in this convention).

big_vision decays only `.../kernel` weights. Praxis names its weights `w`
(Linear, attention projections, the softmax `logits_ffn`) and vit22b_pax's
parallel block `w_*`, so here every parameter is decayed except those matched
by the exclusion regexes, whose defaults cover praxis and vit22b_pax naming:

  - biases: praxis `Bias.b`, attention `b`, the block's `b_q`, `b_mlp_in`, ...
    (`(.*/)?b(_[^/]*)?`) and any variable whose name contains `bias`
    (LayerNorm `bias`);
  - norm and scale parameters: LayerNorm / RmsNorm `scale`, PerDimScale
    (any variable whose name contains `scale`);
  - position embeddings, class tokens and the MAP probe (names containing
    `pos_emb`, `posemb`, `cls_emb` or `probe`), as big_vision (not kernels).

Rules are tried in order with `re.fullmatch` on the '/'-joined praxis path
(e.g. `params/softmax/logits_ffn/linear/w`): exclusion -> 0, else the head
regex -> head rate, else the body rate. The default head regex matches any
path with a component named `head` or `softmax` (praxis'
ClassificationModel classifier), not `map_head`: big_vision's 100x multiplier
also hits the final classifier only.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import jax
from praxis import optimizers
from praxis import py_utils

DEFAULT_HEAD_REGEX = r'(.*/)?(head|softmax)/.*'
DEFAULT_DECAY_EXCLUSIONS = (
    r'(.*/)?b(_[^/]*)?',
    r'(.*/)?[^/]*(bias|scale)[^/]*',
    r'.*(pos_emb|posemb|cls_emb|probe).*',
)


def compile_regexes(patterns: Sequence[str], field: str) -> list[re.Pattern]:
  """Compiles `patterns`, raising ValueError that names `field` on failure."""
  if isinstance(patterns, str):
    raise ValueError(f'{field}={patterns!r}: expected a sequence of regex '
                     'strings, got a single string.')
  compiled = []
  for pattern in patterns:
    try:
      compiled.append(re.compile(pattern))
    except (re.error, TypeError) as e:
      raise ValueError(
          f'{field}: {pattern!r} is not a valid regex ({e}).') from e
  return compiled


def check_optimizer_fields(owner: str, opt: Any,
                           checks: Sequence[tuple[str, bool, str]]) -> None:
  """Validates an optimizer that uses these decay rules.

  Runs `checks` (field, ok, expected) and then the checks every such
  optimizer shares (weight_decay, head_weight_decay and
  clip_gradient_norm_to_value >= 0, head_regex and decay_exclusion_regexes
  compile), raising a ValueError that names `owner`.field, its value and what
  was expected at the first failure.
  """
  shared = (
      ('weight_decay', opt.weight_decay >= 0, '>= 0'),
      ('head_weight_decay', opt.head_weight_decay >= 0, '>= 0'),
      ('clip_gradient_norm_to_value', opt.clip_gradient_norm_to_value >= 0,
       '>= 0'),
  )
  for name, ok, expected in (*checks, *shared):
    if not ok:
      raise ValueError(f'{owner}.{name}={getattr(opt, name)!r}: '
                       f'expected {expected}.')
  compile_regexes([opt.head_regex], f'{owner}.head_regex')
  compile_regexes(opt.decay_exclusion_regexes,
                  f'{owner}.decay_exclusion_regexes')


def rate_for(name: str, *, body: float, head: float, head_regex: str,
             exclusions: Sequence[str]) -> float:
  """Returns the decoupled weight-decay rate of the variable at path `name`."""
  if any(re.fullmatch(p, name) for p in exclusions):
    return 0.0
  if re.fullmatch(head_regex, name):
    return float(head)
  return float(body)


def rate_tree(tree: Any, **kwargs) -> Any:
  """Maps a (Nested)dict of variables to their weight-decay rates.

  Args:
    tree: nested dict / NestedMap of arrays or WeightHParams (praxis masked
      nodes are kept as they are).
    **kwargs: `body`, `head`, `head_regex`, `exclusions` of `rate_for`.

  Returns:
    A tree of the same structure with python float rates as leaves.
  """
  names = py_utils.extract_prefixed_keys_from_nested_map(tree)
  return jax.tree_util.tree_map(lambda _, n: rate_for(n, **kwargs), tree, names)


class DecoupledDecayOptimizer(optimizers.BaseOptimizer):
  """Base of the optimizers decaying with these rules (`ViT22BAdafactor`,
  `ViT22BAdamW`): the decay fields, their checks and `weight_decay_rate`.

  A subclass lists its own field checks in `field_checks()` (field, ok,
  expected); `__post_init__` runs them, then the shared ones
  (`check_optimizer_fields`), and refuses a missing `lr_schedule` and the
  inherited praxis `decoupled_weight_decay` (the decay here is already
  decoupled), each error naming the class, the field and its value.

  Attributes:
    weight_decay: decoupled decay rate of body weights, applied as
      lr_t * weight_decay * param.
    head_weight_decay: decoupled decay rate of the variables matched by
      `head_regex`.
    head_regex: `re.fullmatch` pattern on the '/'-joined variable path
      selecting the head.
    decay_exclusion_regexes: `re.fullmatch` patterns of variables never
      decayed (see `DEFAULT_DECAY_EXCLUSIONS`). Checked first.
  """

  weight_decay: float = 0.0
  head_weight_decay: float = 0.0
  head_regex: str = DEFAULT_HEAD_REGEX
  decay_exclusion_regexes: tuple[str, ...] = DEFAULT_DECAY_EXCLUSIONS

  def field_checks(self) -> Sequence[tuple[str, bool, str]]:
    """(field, ok, expected) of the subclass's own fields."""
    return ()

  def __post_init__(self):
    owner = type(self).__name__
    if self.lr_schedule is None:
      raise ValueError(f'{owner}.lr_schedule is None; expected a '
                       'pax_fiddle.Config of a praxis schedule (e.g. '
                       'RsqrtSchedule or schedules.Constant).')
    if self.decoupled_weight_decay:
      raise ValueError(
          f'{owner}.decoupled_weight_decay={self.decoupled_weight_decay}: '
          'expected None; set weight_decay / head_weight_decay instead (they '
          'are already decoupled).')
    check_optimizer_fields(owner, self, self.field_checks())
    super().__post_init__()

  def weight_decay_rate(self, name: str) -> float:
    """Decoupled weight-decay rate of the variable at path `name`."""
    return rate_for(
        name, body=self.weight_decay, head=self.head_weight_decay,
        head_regex=self.head_regex, exclusions=self.decay_exclusion_regexes)
