# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Few-shot linear evaluation during training (big_vision's fewshot_lsr).

`with_fewshot(cfg, data)` adds one `FewshotProgram` per data set to any
recipe's experiment: at every eval interval it extracts the model's
pre-logit features for a fixed shot pool and test set and writes
`fewshot/<data>/<k>shot` (mean top-1 over draws of the shots) and
`.../<k>shot_std` into `summaries/eval_test_fewshot_<data>/`.
`pretrain(...)` is the pretraining recipe with it:

  python -m vit22b_pax.main --job_log_dir=runs/pretrain \
      --fdl=config:fiddle_configs.fewshot.pretrain(size='tiny',fewshot=('procedural','fashion_mnist'))

The same numbers for a finished run: `python -m vit22b_pax.tools.fewshot`.
"""

from __future__ import annotations

from typing import Sequence

from fiddle_configs import common
from fiddle_configs import pretrain as pretrain_lib
from vit22b_pax.eval import fewshot as fewshot_lib
from vit22b_pax.eval import fewshot_data
from vit22b_pax.runtime import fewshot_program


def with_fewshot(
    cfg: common.Config,
    data: str | Sequence[str] = ('procedural',),
    *,
    pool_examples: int = fewshot_data.DEFAULT_POOL_EXAMPLES,
    test_examples: int = fewshot_data.DEFAULT_TEST_EXAMPLES,
    shots: Sequence[int] = fewshot_lib.DEFAULT_SHOTS,
    seeds: int = fewshot_lib.DEFAULT_NUM_SEEDS,
    l2_selection: str = fewshot_lib.DEFAULT_L2_SELECTION,
    batch_size: int | None = None,
    fashion_mnist_dir: str | None = None,
) -> common.Config:
  """Adds few-shot eval programs to a recipe's experiment config (in place).

  Args:
    cfg: a recipe's `pax_fiddle.Config[ViT22BExperiment]`.
    data: 'procedural', 'fashion_mnist', 'folder:<root>' or several
      (`vit22b_pax.eval.fewshot_data`).
    pool_examples: shot pool size per data set.
    test_examples: test set size per data set.
    shots: shot counts k.
    seeds: draws of the shots.
    l2_selection: 'fixed' (l2 = 2^10, big_vision's protocol) or 'held_out'
      (chosen on held-out shots; `vit22b_pax.eval.fewshot`).
    batch_size: global feature-extraction batch; default the train batch.
    fashion_mnist_dir: Fashion-MNIST folder (default the Debian package's).

  Returns:
    `cfg`.
  """
  image_size = cfg.input_specs_provider.image_size
  batch = (common.per_host(batch_size) if batch_size else
           cfg.input_specs_provider.batch_size)
  kwargs = {'fashion_mnist_dir': fashion_mnist_dir} if fashion_mnist_dir \
      else {}
  cfg.extra_eval_programs = list(cfg.extra_eval_programs) + (
      fewshot_program.fewshot_program_configs(
          data, image_size, batch, pool_examples=pool_examples,
          test_examples=test_examples, shots=shots, num_seeds=seeds,
          l2_selection=l2_selection, **kwargs))
  return cfg


def pretrain(size: str = 'tiny', *,
             fewshot: str | Sequence[str] = ('procedural',),
             fewshot_pool_examples: int = fewshot_data.DEFAULT_POOL_EXAMPLES,
             fewshot_test_examples: int = fewshot_data.DEFAULT_TEST_EXAMPLES,
             fewshot_shots: Sequence[int] = fewshot_lib.DEFAULT_SHOTS,
             fewshot_seeds: int = fewshot_lib.DEFAULT_NUM_SEEDS,
             fewshot_l2_selection: str = fewshot_lib.DEFAULT_L2_SELECTION,
             **pretrain_args) -> common.Config:
  """`pretrain.pretrain(size, **pretrain_args)` with few-shot evaluation.

  Args:
    size: as `pretrain.pretrain`.
    fewshot: few-shot data sets (see `with_fewshot`).
    fewshot_pool_examples, fewshot_test_examples, fewshot_shots,
      fewshot_seeds, fewshot_l2_selection: as `with_fewshot`'s
      pool_examples, test_examples, shots, seeds, l2_selection.
    **pretrain_args: any other `pretrain.pretrain` argument.
  """
  return with_fewshot(
      pretrain_lib.pretrain(size, **pretrain_args), fewshot,
      pool_examples=fewshot_pool_examples,
      test_examples=fewshot_test_examples, shots=fewshot_shots,
      seeds=fewshot_seeds, l2_selection=fewshot_l2_selection)
