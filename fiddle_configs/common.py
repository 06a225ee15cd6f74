# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Turns a registered experiment class into an overridable fiddle config."""

from __future__ import annotations

from typing import Any, Sequence, Type

from paxml import base_experiment
from paxml import base_task
from paxml import parameterized_experiment
from paxml import programs
from praxis import base_hyperparams
from praxis import base_input
from praxis import pax_fiddle


class ViT22BParameterizedExperiment(
    parameterized_experiment.ParameterizedExperiment):
  """ParameterizedExperiment that keeps our programs.

  Like the registered classes it evaluates during training (without
  `--eval_on_test`) and uses their train program (MFU summaries, non-finite
  guard).
  """

  # Explicit, annotated arguments: pax_fiddle.build leaves arguments typed
  # `pax_fiddle.Config` unbuilt (datasets and programs are templates).
  def __init__(
      self,
      *,
      task: pax_fiddle.Config[base_task.BaseTask],
      train_datasets: Sequence[pax_fiddle.Config[base_input.BaseInput]] = (),
      eval_datasets: Sequence[pax_fiddle.Config[base_input.BaseInput]] = (),
      input_specs_provider: pax_fiddle.Config[
          base_input.BaseInputSpecsProvider] | None = None,
      train_program: pax_fiddle.Config[programs.BaseTrainProgram] | None = None,
      eval_during_train: bool = True,
  ):
    super().__init__(task=task, train_datasets=train_datasets,
                     eval_datasets=eval_datasets,
                     input_specs_provider=input_specs_provider)
    self._train_program_p = train_program
    self._eval_during_train = eval_during_train

  def train_programs(self):
    if self._train_program_p is None:
      return super().train_programs()
    return [base_hyperparams.instantiate(self._train_program_p)]

  def executor(self):
    if not self._eval_during_train:
      return None
    from vit22b_pax.experiments import executor  # pylint: disable=g-import-not-at-top
    return executor.TrainAndEvalExecutor(self.eval_programs)


def with_constants(experiment_cls: Type[base_experiment.BaseExperiment],
                   **constants: Any) -> Type[base_experiment.BaseExperiment]:
  """A subclass of `experiment_cls` with some UPPER_CASE constants replaced.

  Raises:
    ValueError: a name that is not an UPPER_CASE constant of the class.
  """
  for name in constants:
    if not name.isupper() or not hasattr(experiment_cls, name):
      known = sorted(n for n in dir(experiment_cls) if n.isupper())
      raise ValueError(
          f'{experiment_cls.__name__} has no constant {name!r}; expected one '
          f'of: {", ".join(known)}.')
  if not constants:
    return experiment_cls
  return type(experiment_cls.__name__, (experiment_cls,), dict(constants))


def experiment_config(
    experiment_cls: Type[base_experiment.BaseExperiment], **constants: Any
) -> pax_fiddle.Config[ViT22BParameterizedExperiment]:
  """The full config of `experiment_cls` (with `constants` applied).

  Args:
    experiment_cls: a vit22b_pax experiment class (registered or not).
    **constants: UPPER_CASE class constants to replace first.

  Returns:
    A config whose every field can be overridden with `--fdl=set:`.
  """
  exp = with_constants(experiment_cls, **constants)()
  datasets = exp.datasets()
  cfg = pax_fiddle.Config(
      ViT22BParameterizedExperiment,
      task=exp.task(),
      train_datasets=[d for d in datasets if d.is_training],
      eval_datasets=[d for d in datasets if not d.is_training],
      input_specs_provider=exp.get_input_specs_provider_params(),
  )
  train_program = getattr(exp, 'train_program_config', None)
  if train_program is not None:
    cfg.train_program = train_program()
  return cfg
