# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Every registered experiment is one recipe call, reached the same way by
`--exp=`, `--fdl_config=` and `--fdl=config:`, and overridable by `--fdl=set:`;
overrides that would be silently dropped are errors."""

import importlib
import inspect

from absl.testing import absltest
from absl.testing import parameterized
from etils import epath
from paxml import base_experiment
from paxml import experiment_registry

from tests.experiments import flag_paths
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment

MODULES = ('pretrain', 'finetune', 'distill', 'lit', 'ablations')
for _m in MODULES:
  importlib.import_module(f'vit22b_pax.experiments.{_m}')
REGISTERED = sorted(
    (name, cls) for name, cls in experiment_registry.get_all().items()
    if name.startswith('vit22b_pax.experiments.'))
# Our own classes between a registered experiment and paxml's base.
_OURS = ('vit22b_pax.', 'fiddle_configs.')
_ABC = ('_abc_impl',)  # abc.ABCMeta's per-class cache.


def _same(a, b):
  """Both experiments have equal configs, part by part."""
  return (a.task() == b.task() and a.train_datasets() == b.train_datasets()
          and a.eval_datasets() == b.eval_datasets() and
          a.get_input_specs_provider_params() ==
          b.get_input_specs_provider_params() and
          a._train_program_p == b._train_program_p and  # pylint: disable=protected-access
          a._extra_eval_programs == b._extra_eval_programs)  # pylint: disable=protected-access


class RegistryTest(parameterized.TestCase):

  def test_registry_is_not_empty(self):
    self.assertGreaterEqual(len(REGISTERED), 10)

  @parameterized.named_parameters(REGISTERED)
  def test_thin_class_over_one_recipe(self, cls):
    self.assertEqual(cls.__bases__, (experiment.RecipeExperiment,))
    own = {k for k in vars(cls) if not k.startswith('__') and k not in _ABC}
    self.assertEqual(own, {'RECIPE', 'ARGS'}, cls.__name__)
    self.assertTrue(cls.__doc__ and cls.__doc__.strip())
    self.assertLessEqual(len(inspect.getsource(cls).splitlines()), 15)

  @parameterized.named_parameters(REGISTERED)
  def test_no_setting_defined_twice_along_the_chain(self, cls):
    seen = {}
    for klass in cls.__mro__:
      if not klass.__module__.startswith(_OURS):
        continue
      for name in vars(klass):
        if name.startswith('__') or name in _ABC:
          continue
        self.assertNotIn(name, seen, f'{name} is defined in both '
                         f'{seen.get(name)} and {klass.__name__}')
        seen[name] = klass.__name__

  @parameterized.named_parameters(REGISTERED)
  def test_three_entry_points_give_one_config(self, cls):
    name = f'{cls.__module__}.{cls.__name__}'
    by_exp = flag_paths.experiment_from_flags([f'--exp={name}'])
    by_new = flag_paths.experiment_from_flags(
        [f'--fdl=config:{cls.expression()}'])
    by_legacy = flag_paths.experiment_from_flags(
        [f'--fdl_config={cls.expression()}'])
    self.assertIsInstance(by_exp, cls)
    self.assertTrue(_same(by_exp, by_new), name)
    self.assertTrue(_same(by_exp, by_legacy), name)

  @parameterized.named_parameters(REGISTERED)
  def test_set_overrides_reach_the_config(self, cls):
    for flags_ in ([f'--fdl=config:{cls.expression()}',
                    '--fdl=set:task.train.num_train_steps=7',
                    '--fdl=set:task.model.ici_mesh_shape=[1,1,1]'],
                   [f'--fdl_config={cls.expression()}',
                    '--fdl.task.train.num_train_steps=7',
                    '--fdl.task.model.ici_mesh_shape=[1,1,1]']):
      exp = flag_paths.experiment_from_flags(flags_)
      self.assertEqual(exp.task().train.num_train_steps, 7)
      self.assertEqual(list(exp.task().model.ici_mesh_shape), [1, 1, 1])


class SilentOverridesAreErrorsTest(absltest.TestCase):

  CLS = experiment_registry.get('vit22b_pax.experiments.pretrain.ProceduralTiny')

  def test_unknown_set_path_names_the_flag(self):
    for flags_ in ([f'--fdl=config:{self.CLS.expression()}',
                    '--fdl=set:task.train.num_train_stepz=7'],
                   [f'--fdl_config={self.CLS.expression()}',
                    '--fdl.task.train.num_train_stepz=7']):
      with self.assertRaisesRegex(ValueError, 'num_train_stepz'):
        flag_paths.experiment_from_flags(flags_)

  def test_override_on_a_registered_class_is_an_error(self):
    name = f'{self.CLS.__module__}.{self.CLS.__name__}'
    with self.assertRaisesRegex(ValueError, 'TRAIN_STEPS') as ctx:
      flag_paths.experiment_from_flags(
          [f'--fdl_config={name}', '--fdl.TRAIN_STEPS=100'])
    self.assertIn('registered experiment',
                  str(ctx.exception.__cause__))

  def test_exp_with_fiddle_flags_is_an_error(self):
    name = f'{self.CLS.__module__}.{self.CLS.__name__}'
    exp = self.CLS()
    for extra, flag in (('--fdl.task.train.num_train_steps=3',
                         '--fdl.task.train.num_train_steps'),
                        ('--fdl=set:task.train.num_train_steps=3', '--fdl')):
      with flag_paths.parsed_global_flags([f'--exp={name}', extra]) as fv:
        with self.assertRaises(ValueError) as ctx:
          experiment.check_flags(exp, fv)
      # The flag as typed (absl_flags rewrites --fdl.X= to --fdl_set=).
      self.assertIn(f'ignores {flag}', str(ctx.exception))
      self.assertNotIn('fdl_set', str(ctx.exception))
      self.assertIn(self.CLS.expression(), str(ctx.exception))
    with flag_paths.parsed_global_flags([f'--exp={name}']) as fv:
      experiment.check_flags(exp, fv)  # Alone: fine.

  def test_bad_registered_class_is_rejected_at_definition(self):
    with self.assertRaisesRegex(TypeError, 'do not fit'):
      type('Bad', (experiment.RecipeExperiment,),
           {'RECIPE': self.CLS.RECIPE, 'ARGS': {'sise': 'tiny'}})
    with self.assertRaisesRegex(TypeError, 'recipe function'):
      type('Bad', (experiment.RecipeExperiment,),
           {'RECIPE': print, 'ARGS': {}})


class StartLineTest(absltest.TestCase):
  """The first console line of a run names where its state comes from."""

  def test_resume_warm_start_scratch(self):
    ckpt = checkpoints.Checkpoint(
        6, epath.Path('/j/checkpoints/checkpoint_00000006'))
    src = checkpoints.Checkpoint(
        0, epath.Path('/src/checkpoints/checkpoint_00000000'))
    self.assertEqual(experiment.start_line(10, ckpt, [src]),
                     '[resume] from step 6 of 10: checkpoint '
                     '/j/checkpoints/checkpoint_00000006')
    self.assertEqual(experiment.start_line(10, None, [src]),
                     '[warm start] from /src/checkpoints/checkpoint_00000000 '
                     '(step 0); training 10 steps')
    self.assertEqual(experiment.start_line(10, None, []),
                     '[start] training 10 steps from scratch')


class ResolveTest(absltest.TestCase):

  def test_names_recipes_and_overrides(self):
    a = experiment.resolve('vit22b_pax.experiments.pretrain.ProceduralTiny')
    b = experiment.resolve("fiddle_configs.pretrain.pretrain(size='tiny')")
    self.assertTrue(_same(a, b))
    c = experiment.resolve('vit22b_pax.experiments.pretrain.ProceduralTiny',
                           ['task.train.num_train_steps=5'])
    self.assertEqual(c.task().train.num_train_steps, 5)
    self.assertIsInstance(c, base_experiment.BaseExperiment)
    with self.assertRaisesRegex(ValueError, 'not registered nor'):
      experiment.resolve('vit22b_pax.experiments.pretrain.Nope')
    with self.assertRaisesRegex(ValueError, 'nope'):
      experiment.resolve("fiddle_configs.pretrain.pretrain(size='smoke')",
                         ['task.nope=1'])


if __name__ == '__main__':
  absltest.main()


class ConsistencyTest(absltest.TestCase):

  def test_values_set_twice_by_a_recipe_must_agree(self):
    call = "fiddle_configs.pretrain.pretrain(size='smoke')"
    exp = experiment.resolve(call, ['task.train.num_train_steps=9'])
    with self.assertRaisesRegex(ValueError, 'total_steps=6 .*steps='):
      experiment.check_consistency(exp)
    exp = experiment.resolve(call, ['train_datasets[0].batch_size=8'])
    with self.assertRaisesRegex(ValueError, 'batch_size=8 .* say 16'):
      experiment.check_consistency(exp)
    experiment.check_consistency(experiment.resolve(call))
    experiment.check_consistency(experiment.resolve(
        call, ['task.train.num_train_steps=9',
               'task.train.learner.optimizer.lr_schedule.total_steps=9']))
