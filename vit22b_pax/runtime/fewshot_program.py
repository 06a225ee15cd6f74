# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Few-shot linear evaluation as a paxml eval program.

At every eval interval of a training job, `FewshotProgram`
1. extracts the model's pre-logit features (`model_features`: the
   encoder's pooled output for the image classifiers)
   with the current train state, for a fixed shot pool and test set, through
   the job's own partitioner (pjit or pmap, sharded like the eval step);
2. runs `vit22b_pax.eval.fewshot.evaluate` (closed-form ridge regression,
   l2 fixed at 2^10 as big_vision, or chosen on held-out shots, several
   draws of the shots);
3. writes scalars `fewshot/<data>/<k>shot` (mean top-1 over draws) and
   `fewshot/<data>/<k>shot_std` into `<job_log_dir>/summaries/
   eval_test_fewshot_<data>/`, and prints one progress line:

     [fewshot procedural] step   2000 | 1-shot 0.511±0.079 | 5-shot ...

`fewshot_program_configs(...)` builds the configs for named data sets
(`vit22b_pax.eval.fewshot_data`); recipes pass them as the experiment's
`extra_eval_programs` (`fiddle_configs.fewshot.with_fewshot`).
"""

from __future__ import annotations

from typing import Sequence

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np
from paxml import programs
from paxml import summary_utils
from paxml import trainer_lib
from praxis import base_hyperparams
from praxis import base_input
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils
from praxis import trees

from vit22b_pax.eval import fewshot
from vit22b_pax.eval import fewshot_data
from vit22b_pax.runtime import console

NestedMap = py_utils.NestedMap
SummaryType = base_layer.SummaryType
instantiate = base_hyperparams.instantiate


def model_features(model, batch: NestedMap):
  """Pre-logit features of a batch, for `model.apply(..., method=)`.

  `model.extract_features(batch)` if the model defines it (the video
  classifier), else `model.network(batch[model.input_field])` (praxis
  ClassificationModel and the ViT-22B classifier: the encoder's pooled
  output, before the head). Never touches the head, so the data set may
  have any number of classes.
  """
  if hasattr(model, 'extract_features'):
    return model.extract_features(batch)
  return model.network(batch[getattr(model, 'input_field', 'image')])


def feature_step(jax_task, states, prng_key, inputs, fprop_dtype=None,
                 var_weight_hparams=None, static_args=None):
  """A paxml step function returning `model_features`, labels, weights.

  Same signature and contract as `trainer_lib.eval_step_single_learner`
  (so a partitioner can partition it): returns (None, StepFnOutput) whose
  per_example_out holds features [B, D] (float32), label [B] and weight [B]
  (the batch's eval_sample_weights, 1 without them).
  """
  del fprop_dtype, var_weight_hparams, static_args
  model = jax_task.model
  context_p = base_layer.JaxContext.HParams(
      do_eval=True, summary_verbosity=jax_task.summary_verbosity)
  prng_key = jax.random.fold_in(prng_key, states.step)
  _, inputs = py_utils.filter_by_matching_keys(
      inputs, [py_utils.PROVENANCE_PREFIX])
  with base_layer.JaxContext.new_context(hparams=context_p):
    k1, k2, k3 = jax.random.split(prng_key, 3)
    features, _ = model.apply(
        states.mdl_vars, inputs, method=model_features,
        mutable=jax_task.hparams.evaluate.apply_mutable_list,
        rngs={base_layer.PARAMS: k1, base_layer.RANDOM: k2,
              base_layer.NON_PAX_RNG_KEY: k3})
  batch = features.shape[0]
  weight = inputs.get('eval_sample_weights')
  if weight is None:
    weight = jnp.ones((batch,), jnp.float32)
  out = NestedMap(features=features.astype(jnp.float32),
                  label=inputs.label, weight=weight)
  return None, trainer_lib.StepFnOutput(
      loss=None, weighted_scalars={}, per_example_out=out,
      summary_tensors={})


class FewshotProgram(programs.BaseEvalProgram):
  """Few-shot top-1 on frozen features at every eval interval.

  Attributes (constructor arguments):
    data_name: the data set's label in summaries.
    pool_input: shot pool input (one pass, `reset_for_eval`).
    test_input: test input (one pass); its name names the summary folder.
    num_classes: C.
    shots: shot counts k.
    num_seeds: draws of the shots.
    l2_grid: ridge l2 candidates (l2_selection 'held_out').
    default_l2: the fixed l2 (2^10); with 'held_out', the 1-shot l2 and the
      tie anchor (`fewshot.break_tie`).
    l2_selection: 'fixed' (big_vision's protocol) or 'held_out'.
  """

  def __init__(
      self,
      data_name: str,
      pool_input: pax_fiddle.Config[base_input.BaseInput],
      test_input: pax_fiddle.Config[base_input.BaseInput],
      num_classes: int,
      shots: Sequence[int] = fewshot.DEFAULT_SHOTS,
      num_seeds: int = fewshot.DEFAULT_NUM_SEEDS,
      l2_grid: Sequence[float] = fewshot.DEFAULT_L2_GRID,
      default_l2: float = fewshot.DEFAULT_L2,
      l2_selection: str = fewshot.DEFAULT_L2_SELECTION,
  ):
    super().__init__(test_input)
    if num_classes < 2:
      raise ValueError(f'num_classes={num_classes} must be >= 2.')
    if not shots or min(shots) < 1:
      raise ValueError(f'shots={list(shots)} must be non-empty and >= 1.')
    if num_seeds < 1:
      raise ValueError(f'num_seeds={num_seeds} must be >= 1.')
    self.data_name = data_name
    self.num_classes = num_classes
    self.shots = tuple(int(k) for k in shots)
    self.num_seeds = num_seeds
    self.l2_grid = tuple(l2_grid)
    self.default_l2 = default_l2
    self.l2_selection = fewshot.check_l2_selection(l2_selection)
    self._pool_input_p = pool_input
    self._pool_pipeline = None
    self._step_fns = {}
    self.last_results: dict[int, fewshot.ShotResult] | None = None

  def setup(self, task, partitioner, job_log_dir, eval_prng_seed,
            enable_summary_writer: bool = True) -> None:
    super().setup(task, partitioner, job_log_dir, eval_prng_seed,
                  enable_summary_writer)
    self._pool_input_p = partitioner.preprocess_input_config(
        self._pool_input_p)
    self._pool_pipeline = instantiate(self._pool_input_p)
    if jax.process_count() == 1:  # One host reads the whole pool.
      self.check_pool()

  def check_pool(self) -> None:
    """Reads the pool's labels once (no model) and fails now, before any
    training step, if a class has fewer examples than the largest shot
    count or is missing."""
    labels = []
    while True:
      try:
        batch = self._pool_pipeline.get_next()
      except StopIteration:
        break
      keep = np.asarray(batch.eval_sample_weights) > 0
      labels.append(np.asarray(batch.label)[keep])
    self._pool_pipeline.reset()
    if not labels:
      raise ValueError(f'Few-shot pool {self._pool_pipeline.name!r} is empty.')
    try:
      fewshot.sample_shots(np.concatenate(labels), self.num_classes,
                           max(self.shots), seed=0)
    except ValueError as e:
      raise ValueError(f'Few-shot data {self.data_name!r} (pool input '
                       f'{self._pool_pipeline.name!r}): {e}') from e

  def _partitioned(self, inputs):
    key = str(trees.get_shape_dtype(inputs))
    if key not in self._step_fns:
      self._step_fns[key] = self._partitioner.partition(
          feature_step, inputs_shape_dtype=trees.get_shape_dtype(inputs),
          is_eval=True)
    return self._step_fns[key]

  def eval_step(self, state, prng_key, inputs, static_args):
    step_fn, _ = self._partitioned(inputs)
    return step_fn(state, prng_key, inputs, static_args)[1]

  def eval_input_partition_spec(self, inputs):
    return self._partitioned(inputs)[1]

  def features(self, pipeline: base_input.BaseInput,
               state) -> tuple[np.ndarray, np.ndarray, int]:
    """(features [N, D], labels [N], batches) of one pass of `pipeline`."""
    feats, labels, batches = [], [], 0
    static = trainer_lib.BaseStepFnStaticArgs(
        unpadded_global_batch_size=pipeline.get_global_batch_size(pipeline))
    while True:
      try:
        batch = pipeline.get_next_padded()
      except StopIteration:
        break
      batches += 1
      spec = self.eval_input_partition_spec(batch)
      batch = self._partitioner.preprocess_inputs(pipeline, batch, spec)
      out = self.eval_step(state, self._eval_prng_seed, batch, static)
      out = py_utils.maybe_unreplicate_for_fully_replicated(
          out.per_example_out)
      x = np.asarray(out.features)
      x = x.reshape(-1, x.shape[-1])
      keep = np.asarray(out.weight).reshape(-1) > 0
      feats.append(x[keep])
      labels.append(np.asarray(out.label).reshape(-1)[keep])
    pipeline.reset()
    if not batches:
      raise ValueError(f'Few-shot input {pipeline.name!r} produced no batch.')
    return np.concatenate(feats), np.concatenate(labels), batches

  def run(self, state, step: int) -> programs.EvalProgramOutput:
    pool_x, pool_y, n_pool = self.features(self._pool_pipeline, state)
    test_x, test_y, n_test = self.features(self.eval_input, state)
    results = fewshot.evaluate(
        pool_x, pool_y, test_x, test_y, self.num_classes, self.shots,
        self.num_seeds, self.l2_grid, self.default_l2, self.l2_selection)
    self.last_results = results
    metrics = {}
    for k, r in results.items():
      metrics[f'fewshot/{self.data_name}/{k}shot'] = r.mean
      metrics[f'fewshot/{self.data_name}/{k}shot_std'] = r.std
    with self._eval_summary_writer.as_default():
      for key, value in metrics.items():
        summary_utils.write_summary_tensor(step, key, value,
                                           SummaryType.AGGREGATE_SCALAR)
    logging.info(
        'fewshot %s step %d (%d pool / %d test examples, %d seeds): %s',
        self.data_name, step, len(pool_y), len(test_y), self.num_seeds,
        ', '.join(f'{k}shot {r.mean:.4f}+-{r.std:.4f}'
                  for k, r in results.items()))
    console.emit(f'[fewshot {self.data_name}] step {step:>6} | ' + ' | '.join(
        f'{k}-shot {r.mean:.3f}±{r.std:.3f}' for k, r in results.items()))
    return programs.EvalProgramOutput(state, eval_metrics=metrics,
                                      num_eval_steps=n_pool + n_test)


def fewshot_program_configs(
    data: str | Sequence[str],
    image_size: int,
    batch_size: int,
    pool_examples: int = fewshot_data.DEFAULT_POOL_EXAMPLES,
    test_examples: int = fewshot_data.DEFAULT_TEST_EXAMPLES,
    shots: Sequence[int] = fewshot.DEFAULT_SHOTS,
    num_seeds: int = fewshot.DEFAULT_NUM_SEEDS,
    l2_selection: str = fewshot.DEFAULT_L2_SELECTION,
    **data_kwargs,
) -> list[pax_fiddle.Config[FewshotProgram]]:
  """One FewshotProgram config per named data set.

  Args:
    data: 'procedural,fashion_mnist' or a sequence of specs
      (`fewshot_data.fewshot_data`).
    image_size: the model's input side.
    batch_size: per-host feature-extraction batch.
    pool_examples: shot pool size per data set.
    test_examples: test set size per data set.
    shots: shot counts.
    num_seeds: draws of the shots.
    l2_selection: 'fixed' (l2 = 2^10) or 'held_out' (`fewshot.evaluate`).
    **data_kwargs: passed to `fewshot_data.fewshot_data`.
  """
  configs = []
  for spec in fewshot_data.parse_names(data):
    d = fewshot_data.fewshot_data(spec, image_size, batch_size,
                                  pool_examples, test_examples, **data_kwargs)
    configs.append(pax_fiddle.Config(
        FewshotProgram, data_name=d.name, pool_input=d.pool,
        test_input=d.test, num_classes=d.num_classes, shots=tuple(shots),
        num_seeds=num_seeds, l2_selection=l2_selection))
  return configs
