# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Pieces every recipe is built from: run sizes (`scales`, re-exported here),
model, optimizer, data, task.

Each function returns a `pax_fiddle.Config` (or a small bundle of them); the
recipes in this package call them top to bottom. Nothing here reads class
constants or depends on the order of anything: a value is set once, where the
recipe passes it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from paxml import learners
from paxml import tasks_lib
from praxis import pax_fiddle
from praxis import schedules as praxis_schedules

from fiddle_configs.scales import Run
from fiddle_configs.scales import SCALES
from fiddle_configs.scales import Scale
from fiddle_configs.scales import scale
from fiddle_configs.scales import with_patch
from vit22b_pax.data import inputs
from vit22b_pax.data import real
from vit22b_pax.data import tfdata
from vit22b_pax.layers import collective_einsum
from vit22b_pax.layers import sharding
from vit22b_pax.layers import variants
from vit22b_pax.models import classifier
from vit22b_pax.optim import adafactor
from vit22b_pax.optim import schedules
from vit22b_pax.runtime import experiment
from vit22b_pax.runtime import train_program
from vit22b_pax.runtime import warm_start as warm_start_lib

Config = pax_fiddle.Config
MESH_AXES = ('replica', 'data', 'mdl')


# -- Model ----------------------------------------------------------------
def encoder(variant: str, image_size: int, **overrides: Any) -> Config:
  """A ViT22BEncoder config (`variants.encoder_config`)."""
  return variants.encoder_config(variant, image_size, **overrides)


def set_collective_matmul(encoder_p: Config, mode: str,
                          bidirectional: bool = True,
                          dtype: str = 'float32') -> Config:
  """Ring collective matmuls on the block's matmuls ('off' = XLA's own);
  in bfloat16 the reduce-scatter partial sums accumulate in float32 (their
  error is then that of a plain bf16 matmul)."""
  if mode != 'off':
    collective_einsum.enable_collective_matmul(
        encoder_p, mode=mode, bidirectional=bidirectional,
        accum_dtype='float32' if dtype == 'bfloat16' else None)
  return encoder_p


def shard(encoder_p: Config, mesh: Sequence[int],
          dcn_mesh: Sequence[int] | None = None) -> Config:
  """The paper's 2-D sharding on an encoder when the mesh has > 1 device."""
  if math.prod(mesh) * math.prod(dcn_mesh or (1,)) > 1:
    sharding.set_sharding(encoder_p, mesh_axis_names=MESH_AXES)
  return encoder_p


def classifier_model(encoder_p: Config, num_classes: int, loss: str,
                     head_zero_init: bool = True,
                     multi_label: bool = False) -> Config:
  return classifier.classifier_config(encoder_p, num_classes, loss=loss,
                                      head_zero_init=head_zero_init,
                                      multi_label=multi_label)


# -- Optimizer ------------------------------------------------------------
def rsqrt_schedule(steps: int, run: Run) -> Config:
  """The paper's schedule over `steps`: the run's warm-up, rsqrt timescale
  and cool-down, both shortened to 10% / 20% of a run shorter than the
  size's own."""
  warmup, cooldown = run.warmup, run.cooldown
  if steps < run.steps:
    warmup, cooldown = min(warmup, steps // 10), min(cooldown, steps // 5)
  return Config(schedules.RsqrtSchedule, warmup_steps=warmup,
                timescale=run.timescale, cooldown_steps=cooldown,
                total_steps=steps)


def constant_schedule() -> Config:
  """A constant learning rate (no warm-up or cool-down)."""
  return Config(praxis_schedules.Constant)


def learner(run: Run, steps: int, *, learning_rate: float | None = None,
            constant_lr: bool = False, weight_decay: float | None = None,
            trainable: str | None = None,
            frozen: str | None = None) -> Config:
  """The paper's Adafactor variant in a paxml Learner.

  Args:
    run: the run's peak learning rate, schedule shape and weight decays.
    steps: training steps (the schedule ends there).
    learning_rate: peak learning rate; default the run's.
    constant_lr: a constant learning rate instead of the rsqrt schedule.
    weight_decay: decoupled decay of the body; default the run's.
    trainable: regex of the only trained variables (linear probes).
    frozen: regex of variables that get no gradient (teachers, towers).
  """
  schedule = (constant_schedule() if constant_lr else
              rsqrt_schedule(steps, run))
  optimizer = Config(
      adafactor.ViT22BAdafactor,
      learning_rate=run.learning_rate if learning_rate is None
      else learning_rate, lr_schedule=schedule, clip_gradient_norm_to_value=1.0,
      weight_decay=run.weight_decay if weight_decay is None else weight_decay,
      head_weight_decay=run.head_weight_decay)
  learner_p = Config(learners.Learner, name='learner',
                     loss_name='total_loss', optimizer=optimizer)
  if trainable:
    learner_p.bprop_variable_inclusion = [trainable]
  if frozen:
    learner_p.bprop_variable_exclusion = [frozen]
  return learner_p


# -- Task -----------------------------------------------------------------
def task(name: str, model: Config, learner_p: Config, run: Run, *,
         steps: int, seed: int, mesh: Sequence[int] = (1, 1, 1),
         dcn_mesh: Sequence[int] | None = None, dtype: str = 'float32',
         keep_checkpoints: int = 3) -> Config:
  """A paxml SingleTask: run length, intervals, mesh and dtype.

  Summary, eval and checkpoint intervals are the run's, capped at `steps`;
  the model is initialised with seed 1234 + seed (`seed` is also the data
  seed). Input checkpointing is on: a resumed run continues the data stream
  where the checkpoint left it.
  """
  if len(mesh) != 3 or (dcn_mesh is not None and len(dcn_mesh) != 3):
    raise ValueError(f'mesh {list(mesh)} / dcn_mesh {dcn_mesh} must have 3 '
                     f'dims {MESH_AXES}.')
  model.ici_mesh_shape = list(mesh)
  model.dcn_mesh_shape = list(dcn_mesh) if dcn_mesh else None
  model.mesh_axis_names = list(MESH_AXES)
  model.fprop_dtype = jnp.dtype(dtype)
  train = Config(
      tasks_lib.SingleTask.Train, learner=learner_p, num_train_steps=steps,
      summary_interval_steps=min(run.summary_every, steps),
      eval_interval_steps=min(run.eval_every, steps),
      save_interval_steps=min(run.checkpoint_every, steps),
      save_max_to_keep=keep_checkpoints, random_seed=1234 + seed,
      eval_skip_train=True, enable_input_checkpointing=True)
  return Config(tasks_lib.SingleTask, name=name, model=model, train=train)


def warm_start(task_p: Config, source: Config, pretrain_dir: str | None,
               load_rules: Sequence[tuple[str, str]],
               ignore_rules: Sequence[str] = (),
               step: int | None = None) -> Config:
  """Loads a source run's checkpoint into `task_p` at its first start.

  Args:
    task_p: the new task (mutated).
    source: the source experiment's config (its recipe call): its task
      builds the train state orbax restores.
    pretrain_dir: the source run's job_log_dir; None = not given yet
      (validate() then stops before anything runs, saying how to give it).
    load_rules: (target_regex, source_format) pairs, first match wins.
    ignore_rules: target regexes left to their initialisers.
    step: source step; None = its latest checkpoint.
  """
  rules = warm_start_lib.loading_rules(
      source.task, source.input_specs_provider, load_rules, ignore_rules,
      step)
  warm_start_lib.set_source(task_p, pretrain_dir, rules)
  return task_p


# -- Data -----------------------------------------------------------------
@dataclasses.dataclass
class Data:
  """The inputs of one experiment.

  Attributes:
    train: the train input (is_training=True).
    evals: eval inputs (one eval program each).
    specs: input specs without building a pipeline.
  """

  train: Config
  evals: list[Config]
  specs: Config


def per_host(global_batch: int) -> int:
  """Global batch -> this host's share (paxml inputs take per-host batches)."""
  hosts = jax.process_count()
  if global_batch <= 0 or global_batch % hosts:
    raise ValueError(f'Global batch {global_batch} must be a positive '
                     f'multiple of the number of hosts {hosts}.')
  return global_batch // hosts


def specs(image_size: int, num_classes: int, batch_size: int,
          captions: int = 0) -> Config:
  return Config(inputs.ImageInputSpecsProvider, image_size=image_size,
                num_classes=num_classes, batch_size=per_host(batch_size),
                with_captions=bool(captions), caption_length=captions or 32)


def _eval(input_p: Config) -> Config:
  """One full pass, padded with weight 0, then StopIteration."""
  input_p.is_training = False
  input_p.reset_for_eval = True
  input_p.eval_loop_num_batches = -1
  return input_p


def procedural_data(*, image_size: int, num_classes: int, batch_size: int,
                    eval_examples: int, seed: int, texture_prob: float = 0.8,
                    subgroup_corr: float = 0.0, conflict: bool = True,
                    captions: int = 0, inception_crop: bool = False,
                    flip: bool = False, mixup_alpha: float = 0.0) -> Data:
  """The procedural shape x texture data (no files).

  Splits: train (shape and its preferred texture agree with probability
  `texture_prob`), test (held out, same statistics) and, with `conflict`,
  the cue-conflict split (every image wears another class's texture).
  """
  common = dict(num_classes=num_classes, image_size=image_size,
                texture_prob=texture_prob, subgroup_corr=subgroup_corr,
                seed=seed, with_captions=bool(captions),
                caption_length=captions or 32)
  train = Config(inputs.ProceduralInput, name='train', split='train',
                 is_training=True, batch_size=per_host(batch_size),
                 inception_crop=inception_crop, flip=flip,
                 mixup_alpha=mixup_alpha, **common)
  evals = [_eval(Config(inputs.ProceduralInput, name=split, split=split,
                        batch_size=per_host(batch_size),
                        num_examples=eval_examples, **common))
           for split in (('test', 'conflict') if conflict else ('test',))]
  return Data(train, evals, specs(image_size, num_classes, batch_size,
                                  captions))


def fashion_mnist_data(*, image_size: int, batch_size: int, seed: int,
                       data_dir: str = real.FASHION_MNIST_DIR,
                       eval_examples: int = 2000, flip: bool = False,
                       mixup_alpha: float = 0.0) -> Data:
  """Fashion-MNIST from Debian's dataset-fashion-mnist (real images)."""
  common = dict(data_dir=data_dir, image_size=image_size, num_classes=10,
                seed=seed)
  train = Config(real.FashionMnistInput, name='train', split='train',
                 is_training=True, batch_size=per_host(batch_size), flip=flip,
                 mixup_alpha=mixup_alpha, **common)
  test = _eval(Config(real.FashionMnistInput, name='test', split='test',
                      batch_size=per_host(batch_size),
                      num_examples=eval_examples, **common))
  return Data(train, [test], specs(image_size, 10, batch_size))


def image_folder_data(*, data_dir: str | None, image_size: int,
                      num_classes: int, batch_size: int, seed: int,
                      train_split: str = 'train', eval_split: str = 'test',
                      decoder: str = 'tfdata',
                      class_names: Sequence[str] | None = None,
                      labels_csv: str = '', inception_crop: bool = False,
                      flip: bool = False, mixup_alpha: float = 0.0) -> Data:
  """Your images: `data_dir/<split>/<class>/*.{png,jpg,jpeg}`, or a labels
  CSV per split (multi-label); classes from the train split (or
  `class_names`), every split checked against them.

  Args:
    decoder: 'tfdata' (parallel tf.data decode and crop) or 'numpy' (PIL on
      the calling thread).
  """
  if not data_dir:
    raise ValueError('image_folder data needs data_dir (a directory holding '
                     f'{train_split}/<class>/*.png|jpg), got {data_dir!r}.')
  decoders = {'tfdata': tfdata.TfDataImageFolderInput,
              'numpy': real.ImageFolderInput}
  if decoder not in decoders:
    raise ValueError(f'Unknown decoder {decoder!r}; expected one of '
                     f'{sorted(decoders)}.')
  common = dict(root=data_dir, image_size=image_size,
                num_classes=num_classes, seed=seed, class_split=train_split,
                class_names=list(class_names) if class_names else None,
                labels_csv=labels_csv)
  train = Config(decoders[decoder], name='train', split=train_split,
                 is_training=True, batch_size=per_host(batch_size),
                 inception_crop=inception_crop, flip=flip,
                 mixup_alpha=mixup_alpha, **common)
  test = _eval(Config(decoders[decoder], name=eval_split,
                      split=eval_split, batch_size=per_host(batch_size),
                      **common))
  return Data(train, [test], specs(image_size, num_classes, batch_size))


def tfds_data(*, name: str | None, data_dir: str | None, image_size: int,
              num_classes: int, batch_size: int, seed: int,
              train_split: str = 'train', eval_split: str = 'validation',
              label_key: str = 'label', inception_crop: bool = True,
              flip: bool = True, mixup_alpha: float = 0.0) -> Data:
  """A prepared TFDS image-classification data set (no download); a label
  feature that is a sequence of class ids gives k-hot targets."""
  if not name:
    raise ValueError(f'tfds data needs tfds_name (e.g. "imagenet2012"), got '
                     f'{name!r}.')
  common = dict(dataset_name=name, data_dir=data_dir, image_size=image_size,
                num_classes=num_classes, seed=seed, label_key=label_key)
  train = Config(real.TfdsInput, name='train', split=train_split,
                 is_training=True, batch_size=per_host(batch_size),
                 inception_crop=inception_crop, flip=flip,
                 mixup_alpha=mixup_alpha, **common)
  test = _eval(Config(real.TfdsInput, name=eval_split, split=eval_split,
                      batch_size=per_host(batch_size), **common))
  return Data(train, [test], specs(image_size, num_classes, batch_size))


# (native image size or None, number of classes or None) of each data kind.
DATASETS = {'procedural': (None, 8), 'fashion_mnist': (28, 10),
            'image_folder': (None, None), 'tfds': (None, 1000)}


def dataset(data: str, *, image_size: int, num_classes: int, batch_size: int,
            seed: int, eval_examples: int, texture_prob: float = 0.8,
            data_dir: str | None = None, tfds_name: str | None = None,
            train_split: str = 'train', eval_split: str | None = None,
            decoder: str = 'tfdata', class_names: Sequence[str] | None = None,
            labels_csv: str = '', label_key: str = 'label',
            augment: bool = False, mixup_alpha: float = 0.0,
            captions: int = 0) -> Data:
  """The inputs of one data kind (see DATASETS), by name.

  Args:
    data: 'procedural', 'fashion_mnist', 'image_folder' or 'tfds'.
    image_size: resolution.
    num_classes: classes (width of the targets).
    batch_size: global batch.
    seed: data seed.
    eval_examples: images per procedural eval split.
    texture_prob: procedural: P(texture agrees with the shape).
    data_dir: image_folder root, or Fashion-MNIST / TFDS data directory.
    tfds_name: TFDS name (data='tfds').
    train_split: train split (image_folder, tfds).
    eval_split: eval split; default 'test' (image_folder), 'validation'
      (tfds).
    decoder: image_folder: 'tfdata' or 'numpy'.
    class_names: image_folder: the class list (default: the train split's
      class folders, or the names in its labels CSV).
    labels_csv: image_folder: per-split labels CSV (multi-label), see
      docs/data.md.
    label_key: tfds: the label feature (a sequence feature is multi-label).
    augment: inception crop + flip on the train split.
    mixup_alpha: mixup on the train split (0 = off).
    captions: procedural only: caption token length (0 = no captions).
  """
  if data not in DATASETS:
    raise ValueError(f'Unknown data {data!r}; expected one of '
                     f'{sorted(DATASETS)}.')
  if captions and data != 'procedural':
    raise ValueError(f'Captions exist for the procedural data only, not '
                     f'{data!r}.')
  aug = dict(flip=augment, mixup_alpha=mixup_alpha)
  if data == 'procedural':
    return procedural_data(
        image_size=image_size, num_classes=num_classes,
        batch_size=batch_size, eval_examples=eval_examples, seed=seed,
        texture_prob=texture_prob, captions=captions, inception_crop=augment,
        **aug)
  if data == 'fashion_mnist':
    return fashion_mnist_data(
        image_size=image_size, batch_size=batch_size, seed=seed,
        **({'data_dir': data_dir} if data_dir else {}), **aug)
  if data == 'image_folder':
    return image_folder_data(
        data_dir=data_dir, image_size=image_size, num_classes=num_classes,
        batch_size=batch_size, seed=seed, train_split=train_split,
        eval_split=eval_split or 'test', decoder=decoder,
        class_names=class_names, labels_csv=labels_csv,
        inception_crop=augment, **aug)
  return tfds_data(
      name=tfds_name or 'imagenet2012', data_dir=data_dir,
      image_size=image_size, num_classes=num_classes, batch_size=batch_size,
      seed=seed, train_split=train_split,
      eval_split=eval_split or 'validation', label_key=label_key,
      inception_crop=augment, **aug)


# -- Experiment -----------------------------------------------------------
def experiment_config(task_p: Config, data: Data, *,
                      extra_eval_programs: Sequence[Config] = (),
                      peak_flops_per_chip: float | None = None,
                      frozen_encoder: bool = False) -> Config:
  """The experiment a recipe returns (`frozen_encoder`: only the classifier
  trains, counted so by the MFU summaries)."""
  return Config(
      experiment.ViT22BExperiment, task=task_p, train_datasets=[data.train],
      eval_datasets=list(data.evals), input_specs_provider=data.specs,
      train_program=Config(train_program.ViT22BTrainProgram,
                           peak_flops_per_chip=peak_flops_per_chip,
                           frozen_encoder=frozen_encoder),
      extra_eval_programs=list(extra_eval_programs))


__all__ = ['Config', 'DATASETS', 'Data', 'Run', 'dataset', 'SCALES', 'Scale', 'classifier_model',
           'encoder', 'experiment_config', 'fashion_mnist_data',
           'image_folder_data', 'learner', 'per_host', 'procedural_data',
           'rsqrt_schedule', 'constant_schedule', 'scale', 'set_collective_matmul', 'shard',
           'specs', 'task', 'tfds_data', 'warm_start', 'with_patch']
