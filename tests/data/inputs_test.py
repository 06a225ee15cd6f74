# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Tests for ProceduralInput and ImageInputSpecsProvider."""

import tempfile

from absl import flags
from absl.testing import absltest
from absl.testing import parameterized
import jax
import numpy as np
from etils import epath
from jax import numpy as jnp
from paxml import partitioning
from paxml import programs
from paxml import tasks_lib
from praxis import base_hyperparams
from praxis import base_input
from praxis import base_model
from praxis import layers
from praxis import optimizers
from praxis import pax_fiddle
from praxis import py_utils
from praxis import schedules
from praxis import test_utils
import tensorflow as tf

from tests.data import resume_util
from vit22b_pax.data import captions
from vit22b_pax.data import inputs
from vit22b_pax.data import procedural

instantiate = base_hyperparams.instantiate


def _input(**kw):
  kw.setdefault('batch_size', 4)
  kw.setdefault('image_size', 16)
  kw.setdefault('num_classes', 5)
  return instantiate(pax_fiddle.Config(inputs.ProceduralInput, **kw))


def _eval_pass(inp):
  """Mirrors paxml.programs' eval loop: read until the input is exhausted."""
  batches = []
  while True:
    try:
      batches.append(inp.get_next_padded())
    except (tf.errors.OutOfRangeError, StopIteration):
      return batches


class ProceduralInputTest(test_utils.TestCase):

  @parameterized.parameters(False, True)
  def test_keys_match_specs_provider(self, with_captions):
    inp = _input(with_captions=with_captions, caption_length=24)
    batch = inp.get_next()
    spec_p = pax_fiddle.Config(
        inputs.ImageInputSpecsProvider, image_size=16, num_classes=5,
        batch_size=4, with_captions=with_captions, caption_length=24)
    specs = instantiate(spec_p).get_input_specs()
    self.assertEqual(sorted(batch.keys()), sorted(specs.keys()))
    for key, spec in specs.items():
      self.assertEqual(batch[key].shape, spec.shape, key)
      self.assertEqual(batch[key].dtype, spec.dtype, key)
    # paxml's fallback provider, built from the pipeline, agrees.
    from_data = instantiate(pax_fiddle.Config(
        base_input.DatasetInputSpecsProvider,
        input_p=pax_fiddle.Config(
            inputs.ProceduralInput, batch_size=4, image_size=16,
            num_classes=5, with_captions=with_captions,
            caption_length=24))).get_input_specs()
    self.assertEqual(jax.tree_util.tree_structure(from_data),
                     jax.tree_util.tree_structure(specs))
    self.assertEqual(jax.tree_util.tree_leaves(from_data),
                     jax.tree_util.tree_leaves(specs))

  def test_values_match_generator(self):
    inp = _input(seed=7, split='test')
    inp.get_next()
    batch = inp.get_next()
    ref = procedural.ShapeTextureGenerator(
        num_classes=5, image_size=16, seed=7).generate(np.arange(4, 8), 'test')
    self.assertAllClose(batch.image, ref['image'] * 2 - 1)
    self.assertArraysEqual(batch.label, ref['label'])
    self.assertArraysEqual(batch.texture_label, ref['texture_label'])
    self.assertArraysEqual(batch.subgroup, ref['subgroup'])
    self.assertArraysEqual(batch.label_probs,
                           np.eye(5, dtype=np.float32)[ref['label']])
    self.assertArraysEqual(batch.eval_sample_weights,
                           np.ones(4, np.float32))

  def test_hosts_do_not_overlap(self):
    single = _input(batch_size=6)
    hosts = [_input(batch_size=3, num_infeed_hosts=2, infeed_host_index=h)
             for h in range(2)]
    for _ in range(2):
      full = single.get_next()
      parts = [h.get_next() for h in hosts]
      self.assertAllClose(np.concatenate([p.image for p in parts]),
                          full.image)
      self.assertFalse(np.array_equal(parts[0].image, parts[1].image))

  def test_eval_pass_pads_and_stops_then_resets(self):
    inp = _input(num_examples=10, reset_for_eval=True)
    self.assertEqual(inp.num_eval_batches(), 3)
    batches = _eval_pass(inp)
    self.assertLen(batches, 3)
    self.assertArraysEqual(batches[-1].eval_sample_weights,
                           np.float32([1, 1, 0, 0]))
    self.assertEqual(sum(b.eval_sample_weights.sum() for b in batches), 10)
    inp.reset()
    again = _eval_pass(inp)
    self.assertAllClose(again[0].image, batches[0].image)
    # Two hosts: same number of batches, 10 real examples in total.
    hosts = [_eval_pass(_input(num_examples=10, reset_for_eval=True,
                               batch_size=2, num_infeed_hosts=2,
                               infeed_host_index=h)) for h in range(2)]
    self.assertEqual(len(hosts[0]), len(hosts[1]))
    self.assertEqual(sum(b.eval_sample_weights.sum()
                         for bs in hosts for b in bs), 10)

  def test_finite_train_cycles_through_permutations(self):
    inp = _input(num_examples=8, is_training=True)
    seen = [inp._indices(step)[0] for step in range(6)]  # 3 epochs.
    for epoch in range(3):
      ids = np.concatenate(seen[2 * epoch:2 * epoch + 2])
      self.assertArraysEqual(np.sort(ids), np.arange(8))
    self.assertFalse(np.array_equal(np.concatenate(seen[:2]),
                                    np.concatenate(seen[2:4])))
    # Not reset_for_eval: eval data cycles and never raises.
    inp = _input(num_examples=5)
    for _ in range(4):
      inp.get_next()

  def test_state_round_trip(self):
    inp = _input()
    inp.get_next()
    state = inp.get_state()
    expected = inp.get_next()
    other = _input()
    other.set_state(state)
    self.assertAllClose(other.get_next().image, expected.image)

  def test_exact_resume(self):
    resume_util.assert_resumes(
        self, lambda: _input(is_training=True, inception_crop=True, flip=True,
                             mixup_alpha=0.3, with_captions=True), n=3, m=3)
    with self.assertRaisesRegex(ValueError, 'not a {"step": N} state'):
      _input().set_state(b'garbage')

  def test_peek_keeps_order(self):
    inp = _input()
    peeked = inp.peek_padded()
    self.assertAllClose(inp.get_next_padded().image, peeked.image)

  def test_training_augmentations(self):
    base = _input(split='train').get_next()
    aug = _input(is_training=True, inception_crop=True, flip=True,
                 mixup_alpha=0.5).get_next()
    self.assertEqual(aug.image.shape, base.image.shape)
    self.assertFalse(np.allclose(aug.image, base.image))
    self.assertAllClose(aug.label_probs.sum(-1), np.ones(4, np.float32))
    self.assertGreater(np.sum((aug.label_probs > 0) & (aug.label_probs < 1)),
                       0)
    self.assertGreaterEqual(aug.image.min(), -1.0)
    self.assertLessEqual(aug.image.max(), 1.0)
    # Eval ignores augmentation fields.
    ev = _input(inception_crop=True, flip=True, mixup_alpha=0.5).get_next()
    self.assertAllClose(ev.image, base.image)

  def test_captions(self):
    inp = _input(with_captions=True, caption_length=40)
    batch = inp.get_next()
    gen = procedural.ShapeTextureGenerator(num_classes=5, image_size=16)
    expected = captions.captions_for(gen.names(gen.sample_attributes(
        np.arange(4))))
    self.assertEqual(captions.detokenize(batch.caption_ids), expected)

  def test_reshard_for_spmd_on_8_devices(self):
    inp = _input(batch_size=8, with_captions=True)
    batch = inp.get_next()
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:8]), ('data',))
    pspecs = jax.tree_util.tree_map(
        lambda _: jax.sharding.PartitionSpec('data'), batch)
    arrays = inp.reshard_for_spmd(batch, mesh, pspecs)
    self.assertLen(arrays.image.addressable_shards, 8)
    self.assertAllClose(np.asarray(arrays.image), batch.image)

  @parameterized.named_parameters(
      ('split', dict(split='val'), "split='val'"),
      ('classes', dict(num_classes=11), 'num_classes=11'),
      ('size', dict(image_size=8), 'minimum is 16'),
      ('prob', dict(texture_prob=2.0), 'texture_prob=2.0'),
      ('corr', dict(subgroup_corr=-1.0), 'subgroup_corr=-1.0'),
      ('examples', dict(num_examples=-1), 'num_examples=-1'),
      ('infinite_eval', dict(reset_for_eval=True), 'finite num_examples'),
      ('host', dict(num_infeed_hosts=2, infeed_host_index=2),
       'infeed_host_index=2'),
  )
  def test_bad_arguments(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      _input(**kwargs)

  def test_bad_specs(self):
    spec = inputs.ImageInputSpecsProvider(batch_size=0)
    with self.assertRaisesRegex(ValueError, 'batch_size=0'):
      spec.get_input_specs()


class _PooledLinear(base_model.BaseModel):
  """Mean-pooled pixels -> logits; reports the eval weight mass it saw."""
  num_classes: int = 5

  def setup(self):
    self.create_child('proj', pax_fiddle.Config(
        layers.FeedForward, input_dims=3, output_dims=self.num_classes))

  def compute_predictions(self, input_batch):
    return self.proj(jnp.mean(input_batch.image, axis=(1, 2)))

  def compute_loss(self, predictions, input_batch):
    w = input_batch.eval_sample_weights
    xent = -jnp.sum(input_batch.label_probs
                    * jax.nn.log_softmax(predictions), -1)
    loss = jnp.sum(xent * w) / jnp.maximum(jnp.sum(w), 1.0)
    return py_utils.NestedMap(loss=(loss, 1.0), seen=(jnp.sum(w), 1.0)), (
        py_utils.NestedMap())


class PaxEvalProgramTest(test_utils.TestCase):

  def test_eval_program_runs_to_exhaustion(self):
    if not flags.FLAGS.is_parsed():  # paxml reads flags; pytest never parses.
      flags.FLAGS.mark_as_parsed()
    n = jax.device_count()  # 8 fake CPU devices (tests/conftest.py).
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ('data',))
    task_p = pax_fiddle.Config(tasks_lib.SingleTask, name='t')
    task_p.model = pax_fiddle.Config(_PooledLinear, name='m',
                                     ici_mesh_shape=[n],
                                     mesh_axis_names=mesh.axis_names)
    learner = task_p.train.learner
    learner.loss_name = 'loss'
    learner.optimizer = pax_fiddle.Config(
        optimizers.Adam, learning_rate=0.0,
        lr_schedule=pax_fiddle.Config(schedules.Constant))
    task = instantiate(task_p)
    eval_p = pax_fiddle.Config(
        inputs.ProceduralInput, name='shapes', batch_size=n, image_size=16,
        num_classes=5, num_examples=2 * n + 3, reset_for_eval=True,
        eval_loop_num_batches=-1)
    specs = instantiate(pax_fiddle.Config(
        inputs.ImageInputSpecsProvider, image_size=16, num_classes=5,
        batch_size=n)).get_input_specs()
    partitioner = partitioning.PjitPartitioner(
        init_is_eval=True, reshard_inputs=True, task=task)
    key = jax.random.PRNGKey(0)
    partitioner.setup(task, key, specs)
    _, state, _ = partitioner.initialize_prng_key_and_train_state(
        key, None, None, discard_opt_states=True)
    program = programs.SingleTaskEvalProgram(eval_p)
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    program.setup(task, partitioner, epath.Path(tmp.name), key,
                  enable_summary_writer=False)
    out = program.run(state, 0)
    self.assertEqual(out.num_eval_steps, 3)
    self.assertAllClose(out.eval_metrics['seen'] * 3, 2.0 * n + 3)


if __name__ == '__main__':
  absltest.main()
