# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""restore.py: save a tiny Pax train state, restore it as a predict_fn."""

import contextlib
import io
import json
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from paxml import base_experiment
from paxml import checkpoints
from paxml import learners
from paxml import tasks_lib
from paxml import trainer_lib
from praxis import base_hyperparams
from praxis import base_layer
from praxis import optimizers
from praxis import pax_fiddle
from praxis import py_utils
from praxis import schedules
from praxis import test_utils
from praxis.layers import embedding_softmax
from praxis.layers import linears
from praxis.layers import models

from tests.eval import stimuli_test
from vit22b_pax.runtime import experiment
from vit22b_pax.eval import model_vs_human as mvh
from vit22b_pax.data import inputs
from vit22b_pax.runtime import checkpoints as ckpt_lib
from vit22b_pax.runtime import restore
from vit22b_pax.tools import export
from vit22b_pax.tools import fewshot as fewshot_tool
from vit22b_pax.tools import predict
from vit22b_pax.tools import run_stimuli
from vit22b_pax.weights import classifier_fn

NestedMap = py_utils.NestedMap
template_field = base_layer.template_field


class FlattenLinear(base_layer.BaseLayer):
  """Tiny network: flattened image -> linear features.

  Attributes:
    input_dims: H * W * 3.
    model_dims: feature width D.
    proj_tpl: the projection.
  """
  input_dims: int = 0
  model_dims: int = 0
  proj_tpl: pax_fiddle.Config = template_field(linears.FeedForward)

  def setup(self):
    self.create_child('proj', self.proj_tpl.clone().set(
        input_dims=self.input_dims, output_dims=self.model_dims))

  def __call__(self, images):
    """[B, H, W, 3] -> [B, D]."""
    return self.proj(jnp.reshape(images, (images.shape[0], -1)))


class TinyExperiment(base_experiment.BaseExperiment):
  """16-way classifier on 8 px images; pjit (mesh) -> GDA checkpoints."""
  IMAGE_SIZE = 8
  NUM_CLASSES = 16
  MESH = [1, 1, 1]
  LOSS_CLS = embedding_softmax.FullSoftmax

  def datasets(self):
    return []

  def get_input_specs_provider_params(self):
    return pax_fiddle.Config(inputs.ImageInputSpecsProvider,
                             image_size=self.IMAGE_SIZE,
                             num_classes=self.NUM_CLASSES, batch_size=1)

  def task(self):
    net = pax_fiddle.Config(FlattenLinear, input_dims=8 * 8 * 3, model_dims=8)
    model = pax_fiddle.Config(
        models.ClassificationModel, name='tiny', network_tpl=net,
        softmax_tpl=pax_fiddle.Config(self.LOSS_CLS, input_dims=8,
                                      num_classes=self.NUM_CLASSES))
    if self.MESH:
      model.ici_mesh_shape = self.MESH
      model.mesh_axis_names = ['replica', 'data', 'mdl']
    opt = pax_fiddle.Config(
        optimizers.Adam, learning_rate=0.1,
        lr_schedule=pax_fiddle.Config(schedules.Constant))
    return pax_fiddle.Config(
        tasks_lib.SingleTask, name='tiny_task', model=model,
        train=pax_fiddle.Config(tasks_lib.SingleTask.Train, learner=(
            pax_fiddle.Config(learners.Learner, loss_name='loss',
                              optimizer=opt))))


class TinyEMA(TinyExperiment):
  """The learner keeps an EMA of the weights: readers get the EMA."""

  def task(self):
    task_p = super().task()
    task_p.train.learner.optimizer.ema_decay = 0.5
    return task_p


class TinySigmoidFlax(TinyExperiment):
  """pmap-style (no mesh) -> FLAX checkpoints; sigmoid head."""
  MESH = None
  NUM_CLASSES = 5
  LOSS_CLS = embedding_softmax.SigmoidCrossEntropy


def _save(exp, job_log_dir, step, seed, discard_opt_states=False,
          states=None):
  """Initialises, perturbs and saves the train state (with the optimizer
  states, as paxml does, unless discard_opt_states); returns mdl_vars (and
  appends the saved train state to `states` if given)."""
  task_p = exp.task()
  jax_task = base_hyperparams.instantiate(task_p)
  specs = base_hyperparams.instantiate(
      exp.get_input_specs_provider_params()).get_input_specs()
  spec = NestedMap(
      image=jax.ShapeDtypeStruct((1,) + specs.image.shape[1:], jnp.float32),
      label_probs=jax.ShapeDtypeStruct((1,) + specs.label_probs.shape[1:],
                                       jnp.float32))
  with base_layer.JaxContext.new_context():
    state, _ = trainer_lib.initialize_model_state(
        jax_task, jax.random.PRNGKey(seed), spec,
        discard_opt_states=discard_opt_states,
        do_init_checkpoint_rules=False)
  # Distinct, non-trivial head bias so a wrong restore cannot pass.
  mdl_vars = jax.tree.map(
      lambda x: x + 0.1 * seed * jnp.arange(x.size, dtype=x.dtype).reshape(
          x.shape) / x.size, state.mdl_vars)
  state = state.replace(mdl_vars=mdl_vars, step=jnp.array(step, jnp.int32))
  ckpt_type = restore.checkpoint_type(task_p)
  checkpoints.save_checkpoint(
      state, os.path.join(job_log_dir, 'checkpoints'),
      checkpoint_type=ckpt_type,
      train_state_unpadded_shape_dtype_struct=jax.tree.map(
          lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), state),
  ).wait_until_finished()
  if states is not None:
    states.append(state)
  return jax_task.model, mdl_vars


def _reference(model, mdl_vars, images, sigmoid):
  batch = NestedMap(image=jnp.asarray(images), label_probs=jnp.zeros(
      (images.shape[0], model.softmax_tpl.num_classes)))
  batch.label = jnp.zeros((images.shape[0],), jnp.int32)

  @jax.jit
  def logits_fn(variables, batch):
    with base_layer.JaxContext.new_context(
        hparams=base_layer.JaxContext.HParams(do_eval=True)):
      return model.apply(variables, batch, method=model.compute_predictions
                         ).softmax_output.logits

  logits = np.asarray(logits_fn(mdl_vars, batch), np.float64)
  if sigmoid:
    return 1 / (1 + np.exp(-logits))
  e = np.exp(logits - logits.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


class RestoreTest(test_utils.TestCase):

  @parameterized.named_parameters(
      ('gda_softmax', TinyExperiment, False),
      ('flax_sigmoid', TinySigmoidFlax, True))
  def test_restore_latest_and_step(self, exp_cls, sigmoid):
    job = tempfile.mkdtemp()
    model, vars3 = _save(exp_cls(), job, step=3, seed=1)
    _, vars7 = _save(exp_cls(), job, step=7, seed=2)
    self.assertEqual(ckpt_lib.steps(job), [3, 7])
    images = np.random.RandomState(0).uniform(
        -1, 1, (4, 8, 8, 3)).astype(np.float32)
    predict, info = restore.restore_predict_fn(exp_cls, job)
    self.assertEqual(info['step'], 7)
    self.assertEqual(info['sigmoid'], sigmoid)
    got = predict(images)
    self.assertEqual(got.shape, (4, exp_cls.NUM_CLASSES))
    np.testing.assert_allclose(got, _reference(model, vars7, images, sigmoid),
                               rtol=1e-5, atol=1e-6)
    predict3, info3 = restore.restore_predict_fn(exp_cls(), job, step=3)
    self.assertEqual(info3['step'], 3)
    np.testing.assert_allclose(predict3(images),
                               _reference(model, vars3, images, sigmoid),
                               rtol=1e-5, atol=1e-6)
    self.assertGreater(np.abs(predict3(images) - got).max(), 1e-4)

  def test_lead_pretrain_experiment(self):
    """The project's CPU pretraining experiment (sigmoid head, Adafactor)."""
    name = "fiddle_configs.pretrain.pretrain(size='smoke')"
    exp = experiment.resolve(name)
    job = tempfile.mkdtemp()
    # Model variables only (fast); the optimizer-state case is covered above.
    model, mdl_vars = _save(exp, job, step=5, seed=1, discard_opt_states=True)
    predict, info = restore.restore_predict_fn(name, job)
    self.assertEqual((info['step'], info['sigmoid']), (5, True))
    size = info['image_size']
    self.assertEqual(size, 16)
    images = np.random.RandomState(1).uniform(
        -1, 1, (2, size, size, 3)).astype(np.float32)
    np.testing.assert_allclose(predict(images),
                               _reference(model, mdl_vars, images, True),
                               rtol=1e-4, atol=1e-6)

  def test_errors_name_path(self):
    job = tempfile.mkdtemp()
    with self.assertRaisesRegex(ValueError, 'No checkpoint found in .*'
                                + os.path.basename(job)):
      restore.restore_predict_fn(TinyExperiment, job)
    _save(TinyExperiment(), job, step=2, seed=1)
    with self.assertRaisesRegex(ValueError, r'step 5 .*available steps: \[2\]'):
      restore.restore_predict_fn(TinyExperiment, job, step=5)
    with self.assertRaisesRegex(ValueError, 'not registered nor'):
      restore.restore_predict_fn('tests.runtime.restore_test.NoSuchExp', job)

  def test_damaged_newest_falls_back(self):
    job = tempfile.mkdtemp()
    model, vars3 = _save(TinyExperiment(), job, step=3, seed=1)
    _save(TinyExperiment(), job, step=7, seed=2)
    chunk = os.path.join(job, 'checkpoints', 'checkpoint_00000007', 'state',
                         'mdl_vars.params.softmax.logits_ffn.linear.w', '0.0')
    os.remove(chunk)
    predict, info = restore.restore_predict_fn(TinyExperiment, job)
    self.assertEqual(info['step'], 3)
    self.assertEqual(info['skipped'], [os.path.join(
        job, 'checkpoints', 'checkpoint_00000007')])
    images = np.random.RandomState(0).uniform(
        -1, 1, (2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(predict(images),
                               _reference(model, vars3, images, False),
                               rtol=1e-5, atol=1e-6)
    with self.assertRaisesRegex(ValueError, f'damaged: .*{chunk}'):
      restore.restore_predict_fn(TinyExperiment, job, step=7)

  def test_every_reader_takes_the_same_intact_step_and_says_so(self):
    # The newest checkpoint (7) is damaged: the one loader, predict_fn,
    # classifier_fn (export), the predict, export and few-shot tools all
    # read step 3, and each says which step it read.
    job = tempfile.mkdtemp()
    model, vars3 = _save(TinyExperiment(), job, step=3, seed=1)
    _save(TinyExperiment(), job, step=7, seed=2)
    newest = os.path.join(job, 'checkpoints', 'checkpoint_00000007')
    os.remove(os.path.join(newest, 'state',
                           'mdl_vars.params.softmax.logits_ffn.linear.w',
                           '0.0'))
    said = (f'restored step 3 of {os.path.join(job, "checkpoints")} '
            f'(skipped damaged newer checkpoint(s) {newest})')
    restored = restore.load(TinyExperiment, job)
    self.assertEqual((restored.step, restored.ema, restored.skipped),
                     (3, False, [newest]))
    self.assertEqual(restored.describe(), said)
    _, info = restore.restore_predict_fn(TinyExperiment, job)
    self.assertEqual((info['step'], info['restored']), (3, said))
    fn = classifier_fn.load(TinyExperiment, job)
    self.assertEqual((fn.step, fn.restored), (3, said))
    jax.tree.map(np.testing.assert_array_equal, fn.variables,
                 jax.tree.map(np.asarray, vars3))
    _, info = fewshot_tool.restore_feature_fn(TinyExperiment, job)
    self.assertEqual((info['step'], info['restored']), (3, said))
    exp = 'tests.runtime.restore_test.TinyExperiment'
    image = os.path.join(job, 'x.png')
    from PIL import Image  # pylint: disable=g-import-not-at-top
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
    out = os.path.join(job, 'saved_model')
    for tool, argv in (
        (predict, [f'--exp={exp}', f'--job_log_dir={job}', image]),
        (export, [f'--exp={exp}', f'--job_log_dir={job}', f'--out={out}'])):
      stdout, stderr = io.StringIO(), io.StringIO()
      with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(
          stderr):
        self.assertEqual(tool.main(argv), 0, stderr.getvalue())
      name = tool.__name__.split('.')[-1]
      self.assertIn(f'[{name}] {said}\n', stderr.getvalue())
      self.assertIn('step 3', stdout.getvalue())
    with open(os.path.join(out, 'export.json')) as f:
      self.assertEqual(json.load(f)['step'], 3)

  def test_ema_weights_are_read_everywhere(self):
    job = tempfile.mkdtemp()
    states = []
    model, mdl_vars = _save(TinyEMA(), job, step=2, seed=3, states=states)
    ema = tasks_lib.extract_ema(states[0]).mdl_vars
    # The saved weights were perturbed after init; the EMA was not.
    self.assertGreater(np.abs(
        np.asarray(mdl_vars['params']['softmax']['logits_ffn']['bias']['b'])
        - np.asarray(ema['params']['softmax']['logits_ffn']['bias']['b'])
    ).max(), 1e-3)
    restored = restore.load(TinyEMA, job)
    self.assertTrue(restored.ema)
    self.assertIn('(EMA weights)', restored.describe())
    jax.tree.map(np.testing.assert_array_equal,
                 jax.tree.map(np.asarray, restored.variables),
                 jax.tree.map(np.asarray, ema))
    fn = classifier_fn.load(TinyEMA, job)  # Formerly refused EMA learners.
    jax.tree.map(np.testing.assert_array_equal, fn.variables,
                 jax.tree.map(np.asarray, ema))
    predict_fn, info = restore.restore_predict_fn(TinyEMA, job)
    self.assertTrue(info['ema'])
    images = np.random.RandomState(2).uniform(
        -1, 1, (3, 8, 8, 3)).astype(np.float32)
    want = _reference(model, ema, images, False)
    np.testing.assert_allclose(predict_fn(images), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jax.jit(fn.probs)(fn.variables, images), want,
                               rtol=1e-5, atol=1e-6)

  def test_run_stimuli_cli(self):
    job = tempfile.mkdtemp()
    _save(TinyExperiment(), job, step=4, seed=3)
    root = tempfile.mkdtemp()
    stimuli_test.texture_coded_stimuli(root)
    out = os.path.join(job, 'responses.csv')
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
      rc = run_stimuli.main([
          '--exp=tests.runtime.restore_test.TinyExperiment',
          f'--job_log_dir={job}', '--stimuli', root, '--out', out,
          '--plot', out + '.png'])
    self.assertEqual(rc, 0)
    self.assertIn('restored step 4', buf.getvalue())
    self.assertIn(f'[run_stimuli] restored step 4 of '
                  f'{os.path.join(job, "checkpoints")}\n', err.getvalue())
    obs = mvh.read_responses(out)['TinyExperiment']
    self.assertLen(obs.stimulus, 32)
    self.assertTrue(os.path.exists(out + '.png'))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
      rc = run_stimuli.main([
          '--exp=tests.runtime.restore_test.TinyExperiment',
          f'--job_log_dir={root}', '--stimuli', root, '--out', out])
    self.assertEqual(rc, 2)
    self.assertIn(os.path.join(root, 'checkpoints'), err.getvalue())


if __name__ == '__main__':
  absltest.main()
