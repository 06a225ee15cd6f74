# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Pretraining: the paper's JFT recipe, at paper scale and at CPU scale.

Multi-label sigmoid cross-entropy (head bias -log(K-1)), the Adafactor variant
(beta2 = min(0.999, 1 - t^-0.8), bf16 momentum 0.9, gradient-norm clip 1.0,
decoupled weight decay with a larger head multiplier) and the
reciprocal-square-root schedule with linear warm-up and cool-down.

  python -m paxml.main --job_log_dir=runs/pretrain \
      --fdl=config:fiddle_configs.pretrain.pretrain(size='tiny') \
      --fdl=set:task.train.learner.optimizer.learning_rate=3e-4
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from fiddle_configs import common


def pretrain(
    size: str = 'tiny',
    data: str = 'procedural',
    *,
    steps: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    image_size: int | None = None,
    patch: int | None = None,
    model: Mapping[str, Any] | None = None,
    num_classes: int | None = None,
    loss: str = 'sigmoid',
    multi_label: bool = False,
    head_zero_init: bool = True,
    constant_lr: bool = False,
    augment: bool | None = None,
    seed: int = 0,
    texture_prob: float = 0.8,
    data_dir: str | None = None,
    tfds_name: str | None = None,
    train_split: str = 'train',
    eval_split: str | None = None,
    decoder: str = 'tfdata',
    class_names: Sequence[str] | None = None,
    labels_csv: str = '',
    label_key: str = 'label',
    mesh: Sequence[int] | None = None,
    dcn_mesh: Sequence[int] | None = None,
    collective_matmul: str = 'off',
    collective_bidirectional: bool = True,
    dtype: str | None = None,
) -> common.Config:
  """A ViT-22B pretraining experiment.

  Args:
    size: run size, see `common.SCALES`: 'smoke' (seconds), 'tiny' (CPU
      minutes, the `make train` job), 'b16' (ViT-B/16, one accelerator),
      'paper' (ViT-22B/14 on 1024 chips).
    data: 'procedural' (embedded shapes x textures, with a cue-conflict
      split), 'fashion_mnist' (Debian's dataset-fashion-mnist), 'image_folder'
      (data_dir/<split>/<class>/*.png|jpg) or 'tfds' (a prepared TFDS set).
    steps: training steps (schedule, cool-down and last eval follow).
    batch_size: global batch.
    learning_rate: peak learning rate.
    image_size: resolution; default the size's, or the data's native one.
    patch: patch size; default the size's (4 for 28 px Fashion-MNIST).
    model: encoder or block overrides, e.g. {'qk_norm': False,
      'num_layers': 2} (see `variants.encoder_config`).
    num_classes: classes; default the data's.
    loss: 'sigmoid' (the paper's) or 'softmax'.
    multi_label: k-hot targets (image_folder with labels_csv, or a tfds
      sequence label feature) and multi-label metrics (precision@1,
      example mAP); needs loss='sigmoid'.
    head_zero_init: zero-initialised head kernel.
    constant_lr: a constant learning rate instead of the rsqrt schedule.
    augment: inception crop + flip on the train split; default on for
      size='paper' only.
    seed: data seed; the model is initialised with seed 1234 + seed.
    texture_prob: procedural data: P(texture agrees with the shape).
    data_dir: image_folder root, or Fashion-MNIST / TFDS data directory.
    tfds_name: TFDS name for data='tfds' (default 'imagenet2012').
    train_split: train split (image_folder / tfds).
    eval_split: eval split; default 'test' (image_folder), 'validation'
      (tfds).
    decoder: image_folder decoding: 'tfdata' (parallel) or 'numpy' (PIL).
    class_names: image_folder class list (default: the train split's).
    labels_csv: image_folder labels CSV per split (multi-label).
    label_key: tfds label feature.
    mesh: ICI mesh (replica, data, mdl); default the size's.
    dcn_mesh: mesh across hosts/slices (replica, data, mdl).
    collective_matmul: 'off', 'all_gather', 'reduce_scatter' or 'auto': ring
      collective matmuls over 'mdl' in every block.
    collective_bidirectional: rings in both directions (k // 2 steps
      instead of k - 1 on a mesh with mdl >= 3; no difference at mdl = 2).
    dtype: forward dtype ('float32', 'bfloat16'); default the size's.
  """
  scale = common.scale(size)
  run = scale.pretrain
  steps = steps or run.steps
  batch_size = batch_size or run.batch_size
  image_size, patch, num_classes = _data_shape(
      data, size, scale, image_size, patch, num_classes)
  mesh = tuple(mesh or scale.mesh)
  dtype = dtype or scale.dtype
  # 1. Model: the ViT-22B encoder, sharded over the mesh, and a classifier
  #    head.
  model_p = _model(
      scale, image_size, patch, num_classes, model=model, loss=loss,
      head_zero_init=head_zero_init, multi_label=multi_label, mesh=mesh,
      dcn_mesh=dcn_mesh, collective_matmul=collective_matmul,
      collective_bidirectional=collective_bidirectional, dtype=dtype)
  # 2. Task: Adafactor variant with the rsqrt schedule (or constant); run
  #    length, intervals, mesh, dtype.
  learner = common.learner(run, steps, learning_rate=learning_rate,
                           constant_lr=constant_lr)
  task = common.task(
      f'pretrain_{data}_{size}', model_p, learner, run, steps=steps, seed=seed,
      mesh=mesh, dcn_mesh=dcn_mesh, dtype=dtype)
  # 3. Data: train and eval inputs and their input specs.
  inputs = common.dataset(
      data, image_size=image_size, num_classes=num_classes,
      batch_size=batch_size, seed=seed, eval_examples=scale.eval_examples,
      texture_prob=texture_prob, data_dir=data_dir, tfds_name=tfds_name,
      train_split=train_split, eval_split=eval_split, decoder=decoder,
      class_names=class_names, labels_csv=labels_csv, label_key=label_key,
      augment=size == 'paper' if augment is None else augment)
  return common.experiment_config(task, inputs)


def _data_shape(data: str, size: str, scale: common.Scale,
                image_size: int | None, patch: int | None,
                num_classes: int | None) -> tuple[int, int | None, int]:
  """(image_size, patch, num_classes): the arguments, else the data's
  native resolution and classes, else the size's resolution; patch 4 for
  28 px data at the small sizes (28 is not divisible by their 8)."""
  if data not in common.DATASETS:
    raise ValueError(f'Unknown data {data!r}; expected one of '
                     f'{sorted(common.DATASETS)}.')
  native_size, native_classes = common.DATASETS[data]
  image_size = image_size or native_size or scale.image_size
  if patch is None and image_size == 28 and size in ('smoke', 'tiny'):
    patch = 4
  num_classes = num_classes or native_classes
  if not num_classes:
    raise ValueError(f'data={data!r} needs num_classes.')
  return image_size, patch, num_classes


def _model(scale: common.Scale, image_size: int, patch: int | None,
           num_classes: int, *, model: Mapping[str, Any] | None, loss: str,
           head_zero_init: bool, multi_label: bool, mesh: tuple[int, ...],
           dcn_mesh: Sequence[int] | None, collective_matmul: str,
           collective_bidirectional: bool, dtype: str) -> common.Config:
  """The classifier: the size's encoder with `model` overrides, collective
  matmuls as asked, sharded over the mesh, and the head."""
  encoder = common.encoder(common.with_patch(scale.variant, patch),
                           image_size, **{**scale.model, **(model or {})})
  common.set_collective_matmul(encoder, collective_matmul,
                               collective_bidirectional, dtype)
  common.shard(encoder, mesh, dcn_mesh)
  return common.classifier_model(encoder, num_classes, loss,
                                 head_zero_init=head_zero_init,
                                 multi_label=multi_label)
