# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Shared helper of the input tests."""


def read_all(inp):
  """Every batch of a finite (evaluation) input, until StopIteration."""
  batches = []
  while True:
    try:
      batches.append(inp.get_next())
    except StopIteration:
      return batches


def write_tfds(data_dir: str, name: str, features: dict, splits: dict):
  """Prepares TFDS data set `name` (version 1.0.0) in data_dir.

  Args:
    data_dir: TFDS data dir.
    name: data set name (read back as `name`).
    features: feature name -> tfds feature.
    splits: split name -> list of examples (dicts of numpy values).
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  feats = tfds.features.FeaturesDict(features)
  signature = feats.get_tensor_spec()
  datasets = {
      split: tf.data.Dataset.from_generator(
          lambda exs=exs: iter(exs), output_signature=signature)
      for split, exs in splits.items()}
  tfds.dataset_builders.TfDataBuilder(
      name=name, version='1.0.0', data_dir=data_dir, features=feats,
      split_datasets=datasets).download_and_prepare()
