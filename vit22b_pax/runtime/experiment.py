# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The experiment class every recipe builds, and the registered-experiment base.

A recipe (`fiddle_configs/*.py`) returns `pax_fiddle.Config[ViT22BExperiment]`:
a paxml `ParameterizedExperiment` whose parts (task, datasets, input specs,
programs) are constructor arguments, so every setting is one
`--fdl=set:path=value` away. A registered experiment is a `RecipeExperiment`
subclass naming one recipe call:

  @experiment_registry.register
  class ProceduralTiny(experiment.RecipeExperiment):
    RECIPE = pretrain.pretrain
    ARGS = {'size': 'tiny'}

and gives the same experiment through all three of paxml's entry points:

  --exp=vit22b_pax.experiments.pretrain.ProceduralTiny
  --fdl=config:fiddle_configs.pretrain.pretrain(size='tiny')
  --fdl_config=fiddle_configs.pretrain.pretrain(size='tiny')

Overrides that paxml would silently drop are errors here: fiddle flags next to
`--exp` (paxml ignores them) and attribute overrides on a registered class.

`validate()` also guards the job directory before paxml writes to it
(`runtime/jobdir.py`: lock, warm-start source, another experiment's or
damaged checkpoints, nothing left to train).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import re
import sys
from typing import Any, Callable, Mapping, Sequence

from absl import logging
import fiddle as fdl
from fiddle._src.absl_flags import utils as fdl_flag_utils
import jax
from paxml import base_experiment
from paxml import base_task
from paxml import experiment_registry
from paxml import parameterized_experiment
from paxml import programs
from praxis import base_hyperparams
from praxis import base_input
from praxis import pax_fiddle

from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import console
from vit22b_pax.runtime import data_check
from vit22b_pax.runtime import eval_program as eval_program_lib
from vit22b_pax.runtime import executor as executor_lib
from vit22b_pax.runtime import integrity
from vit22b_pax.runtime import jobdir
from vit22b_pax.runtime import posemb_warm_start
from vit22b_pax.runtime import train_program as train_program_lib
from vit22b_pax.runtime import warm_start

# Under `python -m paxml.main`: paxml's log to <job_log_dir>/logs/pax.log,
# WARNING+ on the console (this module is imported while paxml parses
# --fdl=config: or imports an --exp module).
console.attach_to_paxml_main()

# Fiddle flags paxml ignores when --exp is given (legacy --fdl.X=v arrives as
# --fdl_set after absl_flags.flags_parser).
_FIDDLE_FLAGS = ('fdl', 'fdl_config', 'fdl_config_file', 'fdl_set',
                 'fiddler', 'fdl_tags_set')


class ViT22BExperiment(parameterized_experiment.ParameterizedExperiment):
  """A fully fiddle-configurable vit22b_pax experiment.

  Like paxml's ParameterizedExperiment, plus our programs: the train program
  with MFU summaries, non-finite guard and progress lines; eval programs that
  print their results; evaluation of the eval datasets during training
  (without `--eval_on_test`); and `validate()` checks that run before paxml
  writes anything (fiddle flags ignored by `--exp`, warm-start sources).
  """

  # Arguments annotated `pax_fiddle.Config` stay unbuilt under
  # pax_fiddle.build: datasets and programs are templates.
  def __init__(
      self,
      *,
      task: pax_fiddle.Config[base_task.BaseTask],
      train_datasets: Sequence[pax_fiddle.Config[base_input.BaseInput]] = (),
      eval_datasets: Sequence[pax_fiddle.Config[base_input.BaseInput]] = (),
      input_specs_provider: pax_fiddle.Config[
          base_input.BaseInputSpecsProvider] | None = None,
      train_program: pax_fiddle.Config[programs.BaseTrainProgram] | None = None,
      extra_eval_programs: Sequence[
          pax_fiddle.Config[programs.BaseEvalProgram]] = (),
      eval_during_train: bool = True,
      log_compiles: bool = False,
      checkpoint_verification: str = 'checksum',
  ):
    """Args as ParameterizedExperiment, plus:

    Args:
      task: the task config.
      train_datasets: train input configs (is_training=True).
      eval_datasets: eval input configs; each gets a `ViT22BEvalProgram`.
      input_specs_provider: cheap input specs (no pipeline built).
      train_program: the train program; default `ViT22BTrainProgram()`.
      extra_eval_programs: more eval programs run at each eval interval
        (e.g. few-shot evaluation).
      eval_during_train: run the eval programs during training.
      log_compiles: keep paxml's `jax_log_compiles` (one log line per
        compilation); off by default.
      checkpoint_verification: how checkpoints are verified before a resume
        or warm start and recorded after each save (`runtime/integrity.py`):
        'checksum' (sizes and CRC-32 of every file), 'size' (sizes only, no
        data read) or 'off'.
    """
    console.attach_to_paxml_main()
    super().__init__(task=task, train_datasets=train_datasets,
                     eval_datasets=eval_datasets,
                     input_specs_provider=input_specs_provider)
    self._train_program_p = (
        train_program if train_program is not None else
        pax_fiddle.Config(train_program_lib.ViT22BTrainProgram))
    self._extra_eval_programs = list(extra_eval_programs)
    self._eval_during_train = eval_during_train
    self._log_compiles = log_compiles
    self._checkpoint_verification = integrity.check_level(
        checkpoint_verification)

  @property
  def checkpoint_verification(self) -> str:
    return self._checkpoint_verification

  def train_programs(self):
    return [base_hyperparams.instantiate(self._train_program_p)]

  def eval_programs(self):
    return ([eval_program_lib.ViT22BEvalProgram(p)
             for p in self.eval_datasets()] +
            [base_hyperparams.instantiate(p)
             for p in self._extra_eval_programs])

  def executor(self):
    return executor_lib.TrainAndEvalExecutor(
        self.eval_programs if self._eval_during_train else None,
        checkpoint_verification=self._checkpoint_verification)

  def validate(self) -> None:
    """Runs before paxml writes anything (paxml.main calls it)."""
    super().validate()
    check_flags(self)
    check_consistency(self)
    job_log_dir = training_job_dir()
    try:
      data_check.check_inputs(
          list(self.train_datasets()) + list(self.eval_datasets()))
    except ValueError as e:
      if job_log_dir is None:  # Library use: the exception itself.
        raise
      raise data_check.InputError(str(e)) from None
    # paxml's setup_jax (run before this) logs every compilation.
    jax.config.update('jax_log_compiles', self._log_compiles)
    if job_log_dir is not None:
      jobdir.check_sources(job_log_dir,
                           warm_start.source_dirs(self.task()))
    specs_p = self.get_input_specs_provider_params()
    # Pins each warm-start source to its newest intact step (or the step
    # asked for) before the position-embedding check reads that step.
    sources = warm_start.validate(self.task(), specs_p,
                                  level=self._checkpoint_verification)
    posemb_warm_start.validate(self.task(), specs_p)
    if job_log_dir is None:
      return
    try:
      resumed = jobdir.prepare(
          job_log_dir, task_p=self.task(),
          shapes_fn=lambda: warm_start.model_shapes(self.task().model,
                                                    specs_p),
          this=describe(self), level=self._checkpoint_verification)
    except jobdir.NothingToTrain as done:
      console.emit(done.message)
      raise
    console.emit(start_line(self.task().train.num_train_steps, resumed,
                            sources))


def start_line(total: int, resumed: checkpoints.Checkpoint | None,
               sources: list[checkpoints.Checkpoint]) -> str:
  """The run's first console line: where its state comes from.

  paxml applies warm-start rules only when the job has no checkpoint of its
  own, so a resumed warm-started job resumes (and says so).
  """
  if resumed is not None:
    return (f'[resume] from step {resumed.step} of {total}: checkpoint '
            f'{resumed.path}')
  if sources:
    where = ', '.join(f'{c.path} (step {c.step})' for c in sources)
    return f'[warm start] from {where}; training {total} steps'
  return f'[start] training {total} steps from scratch'


def training_job_dir(flag_values: Any = None) -> str | None:
  """--job_log_dir of a `--mode=train` paxml run (None when absl flags are
  not parsed, i.e. library and test use, or for other modes)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  fv = flags.FLAGS if flag_values is None else flag_values
  if not fv.is_parsed() or 'job_log_dir' not in fv:
    return None
  if 'mode' in fv and fv['mode'].value != 'train':
    return None
  value = fv['job_log_dir'].value
  return str(value) if value else None


def describe(exp: base_experiment.BaseExperiment) -> str:
  """How messages name an experiment: its recipe call (or the command line's
  --exp / --fdl arguments) and its task name."""
  if isinstance(exp, RecipeExperiment):
    what = exp.expression()
  else:
    args = [a for a in sys.argv[1:] if a.startswith(('--exp', '--fdl'))]
    what = ' '.join(args) if args else type(exp).__name__
  return f'{what} (task {exp.task().name!r})'


def check_consistency(exp: ViT22BExperiment) -> None:
  """Settings that recipes derive from one value must still agree after
  --fdl=set: overrides (one was changed without the other).

  Raises:
    ValueError: naming both settings and the recipe argument that sets them.
  """
  train = exp.task().train
  schedule = getattr(train.learner.optimizer, 'lr_schedule', None)
  total = getattr(schedule, 'total_steps', None)
  if total is not None and total != train.num_train_steps:
    raise ValueError(
        f'task.train.num_train_steps={train.num_train_steps} but the '
        f'learning-rate schedule ends at total_steps={total} (its cool-down '
        'would never run): set the recipe\'s steps= argument, or override '
        'task.train.learner.optimizer.lr_schedule.total_steps too.')
  specs = exp.get_input_specs_provider_params()
  for data in exp.train_datasets():
    for field in ('batch_size', 'image_size'):
      have, want = getattr(data, field, None), getattr(specs, field, None)
      if have is not None and want is not None and have != want:
        raise ValueError(
            f'train input {data.name!r} has {field}={have} but the input '
            f'specs say {want}: set the recipe\'s {field}= argument, or '
            f'override input_specs_provider.{field} too.')


def check_flags(exp: base_experiment.BaseExperiment,
                flag_values: Any = None) -> None:
  """Rejects fiddle flags that paxml.main ignores because --exp is given.

  Args:
    exp: the experiment being run.
    flag_values: parsed absl flags; default the global FLAGS.

  Raises:
    ValueError: naming the ignored flags and the equivalent recipe call.
  """
  from absl import flags  # pylint: disable=g-import-not-at-top
  fv = flags.FLAGS if flag_values is None else flag_values
  if not fv.is_parsed() or 'exp' not in fv or fv['exp'].value is None:
    return
  ignored = [_typed(name, fv) for name in _FIDDLE_FLAGS
             if name in fv and fv[name].present]
  if not ignored:
    return
  hint = ''
  if isinstance(exp, RecipeExperiment):
    hint = (f' Use its recipe instead: --fdl=config:{exp.expression()} '
            'followed by --fdl=set:PATH=VALUE overrides.')
  raise ValueError(
      f'--exp={fv["exp"].value} ignores {", ".join(ignored)}: paxml applies '
      f'no fiddle override to an --exp experiment.{hint}')


def _typed(name: str, fv: Any) -> str:
  """A fiddle flag as the user typed it: `--fdl.PATH=V` arrives as
  `--fdl_set=PATH=V` (absl_flags.flags_parser), which nobody types. (Only
  fdl_set's value is read: reading --fdl's builds its config.)"""
  if name == 'fdl_set' and not any(a.startswith('--fdl_set')
                                   for a in sys.argv):
    value = fv[name].value
    values = value if isinstance(value, (list, tuple)) else [value]
    paths = [str(v).split('=', 1)[0] for v in values if v]
    if paths:
      return ', '.join(f'--fdl.{p}' for p in paths)
  return f'--{name}'


class RecipeExperiment(ViT22BExperiment):
  """Base of every registered experiment: one recipe call, nothing else.

  Subclasses set exactly two class attributes, RECIPE (a function of
  `fiddle_configs`) and ARGS (its keyword arguments), and a docstring.
  """

  RECIPE: Callable[..., pax_fiddle.Config[ViT22BExperiment]]
  ARGS: Mapping[str, Any]

  def __init_subclass__(cls, **kwargs):
    super().__init_subclass__(**kwargs)
    recipe = cls.__dict__.get('RECIPE')
    args = cls.__dict__.get('ARGS')
    if not callable(recipe) or not recipe.__module__.startswith(
        'fiddle_configs.'):
      raise TypeError(f'{cls.__name__}.RECIPE must be a recipe function of '
                      f'fiddle_configs, got {recipe!r}.')
    if not isinstance(args, Mapping):
      raise TypeError(f'{cls.__name__}.ARGS must be a dict of keyword '
                      f'arguments of {recipe.__name__}, got {args!r}.')
    try:
      inspect.signature(recipe).bind(**args)
    except TypeError as e:
      raise TypeError(f'{cls.__name__}.ARGS {dict(args)} do not fit '
                      f'{recipe.__module__}.{recipe.__name__}: {e}.') from e

  @classmethod
  def config(cls) -> pax_fiddle.Config[ViT22BExperiment]:
    """The recipe's config (what --fdl=config: of `expression()` builds)."""
    cfg = cls.RECIPE(**cls.ARGS)
    if fdl.get_callable(cfg) is not ViT22BExperiment:
      raise TypeError(f'{cls.expression()} must return a '
                      f'pax_fiddle.Config[ViT22BExperiment].')
    return cfg

  @classmethod
  def expression(cls) -> str:
    """The recipe call, as --fdl=config: and --fdl_config= take it."""
    args = ', '.join(f'{k}={v!r}' for k, v in cls.ARGS.items())
    return f'{cls.RECIPE.__module__}.{cls.RECIPE.__name__}({args})'

  def __init__(self):
    super().__init__(**fdl.ordered_arguments(self.config()))

  def __setattr__(self, name: str, value: Any) -> None:
    if not name.startswith('_'):
      raise AttributeError(
          f'{type(self).__name__} is a registered experiment; it has no '
          f'setting {name!r} to override. Override its recipe instead: '
          f'--fdl=config:{self.expression()} --fdl=set:PATH=VALUE (e.g. '
          'task.train.learner.optimizer.learning_rate=3e-4; the run length '
          'is the recipe\'s steps= argument).')
    super().__setattr__(name, value)


def register(cls: type[RecipeExperiment] | None = None, *,
             tags: Sequence[str] | None = None):
  """paxml's `experiment_registry.register` (same arguments), with its
  `Registered experiment ...` stderr line sent to the log (INFO) instead:
  every run imports a module of several experiments."""

  def wrap(c):
    out = io.StringIO()
    with contextlib.redirect_stderr(out):
      experiment_registry.register(c, tags=list(tags) if tags else None)
    if out.getvalue().strip():
      logging.info('%s', out.getvalue().strip())
    return c

  return wrap(cls) if cls is not None else wrap


def _is_class_name(name: str) -> bool:
  return '(' not in name and bool(re.fullmatch(r'[\w.]*[A-Z]\w*', name))


def resolve(experiment: Any, overrides: Sequence[str] = ()
            ) -> base_experiment.BaseExperiment:
  """An experiment instance from what a user names on a command line.

  Args:
    experiment: an instance or class, a registered name
      ('vit22b_pax.experiments.pretrain.ProceduralTiny' or a unique suffix),
      or a recipe call ('fiddle_configs.pretrain.pretrain(size="tiny")').
    overrides: 'path=value' assignments applied to the recipe config, as
      --fdl=set: does (registered experiments are overridden through their
      recipe).

  Raises:
    ValueError: the name resolves to nothing, or an override matches no
      setting.
  """
  if isinstance(experiment, base_experiment.BaseExperiment):
    if overrides:
      raise ValueError('overrides need an experiment name or recipe, not an '
                       'instance.')
    return experiment
  cls = _experiment_class(experiment)
  if cls is not None and not overrides:
    return cls()
  return pax_fiddle.build(recipe_config(experiment, overrides))


def _experiment_class(experiment: Any) -> type | None:
  """The experiment class `experiment` names, None for a recipe call."""
  cls = None
  if isinstance(experiment, type):
    cls = experiment
  elif isinstance(experiment, str) and _is_class_name(experiment):
    cls = experiment_registry.get(experiment)
    if cls is None and '.' in experiment:
      module_name, cls_name = experiment.rsplit('.', 1)
      try:
        module = importlib.import_module(module_name)
      except ImportError as e:
        raise ValueError(f'Experiment {experiment!r}: cannot import '
                         f'{module_name!r} ({e}).') from e
      cls = experiment_registry.get(experiment) or getattr(
          module, cls_name, None)
    if not (isinstance(cls, type) and
            issubclass(cls, base_experiment.BaseExperiment)):
      raise ValueError(f'Experiment {experiment!r} is not registered nor an '
                       'importable experiment class; expected '
                       'package.module.ClassName or a recipe call such as '
                       'fiddle_configs.pretrain.pretrain(size="tiny").')
  return cls


def recipe_config(experiment: Any, overrides: Sequence[str] = ()
                  ) -> pax_fiddle.Config[ViT22BExperiment]:
  """The unbuilt config of a registered experiment or recipe call, with
  'path=value' overrides applied (as --fdl=set:).

  Raises:
    ValueError: the name resolves to nothing or to an experiment without a
      recipe, or an override matches no setting.
  """
  cls = _experiment_class(experiment)
  if cls is not None:
    if not issubclass(cls, RecipeExperiment):
      raise ValueError(f'{cls.__name__} has no recipe config (it is not a '
                       'RecipeExperiment).')
    cfg = cls.config()
  elif isinstance(experiment, str):
    call = fdl_flag_utils.CallExpression.parse(experiment)
    fn = fdl_flag_utils.import_dotted_name(
        call.func_name, mode=fdl_flag_utils.ImportDottedNameDebugContext
        .BASE_CONFIG)
    cfg = fn(*call.args, **call.kwargs)
  else:
    raise ValueError(f'Cannot resolve experiment {experiment!r}.')
  for assignment in overrides:
    fdl_flag_utils.set_value(cfg, assignment)
  return cfg
