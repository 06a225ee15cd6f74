# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Real videos behind the batch keys of `video.VideoInput`.

* `FrameFolderInput`: `root/<split>/<class>/<clip_id>/frame_*.{png,jpg,jpeg}`
  (frames in sorted file-name order), labels = sorted class folder names.
  The whole layout is checked when the input is built, before anything runs:
  an empty class folder, a clip without exactly `num_frames` frames, or a
  clip whose frames differ in size raises a ValueError naming the folder.
* `TfdsVideoInput`: any prepared TFDS data set with a video feature
  [T0, H, W, 3] uint8 (`download=False`); `num_frames` frames evenly spaced
  over the T0 frames of each video are used.

Frames are resized so the shorter side is `image_size`, then centre-cropped
(`folders.load_image` for files, the same rule in tf.data for TFDS). Names
starting with '.' are ignored, as in image folders.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
from PIL import Image
from praxis import py_utils

from vit22b_pax.data import folders
from vit22b_pax.data import video

NestedMap = py_utils.NestedMap
_STATE_MAGIC = b'vit22b_pax.TfdsVideoInput.v1\0'


@dataclasses.dataclass(frozen=True)
class Clip:
  """One clip folder: its frame files (sorted) and label."""
  path: str
  frames: tuple[str, ...]
  label: int


def list_frame_folders(root: str, split: str, num_frames: int
                       ) -> tuple[list[Clip], tuple[str, ...]]:
  """Lists and checks `root/split/<class>/<clip_id>/frame_*`.

  Args:
    root: data set root.
    split: split folder.
    num_frames: frames every clip must have.

  Returns:
    (clips sorted by class then clip id, class names).

  Raises:
    ValueError: missing split folder, no class folder, an empty class folder,
      a clip with another number of frames, or a clip whose frames differ in
      size; each names the offending folder.
  """
  split_dir = os.path.join(root, split)
  if not os.path.isdir(split_dir):
    raise ValueError(f'Video folder {split_dir!r} does not exist; expected '
                     f'{root}/{split}/<class>/<clip_id>/frame_*.png.')
  classes = tuple(sorted(d for d in os.listdir(split_dir)
                         if not d.startswith('.') and
                         os.path.isdir(os.path.join(split_dir, d))))
  if not classes:
    raise ValueError(f'Video folder {split_dir!r} has no class folders; '
                     f'expected {split_dir}/<class>/<clip_id>/frame_*.png.')
  clips = []
  for label, name in enumerate(classes):
    class_dir = os.path.join(split_dir, name)
    clip_ids = sorted(d for d in os.listdir(class_dir)
                      if not d.startswith('.') and
                      os.path.isdir(os.path.join(class_dir, d)))
    if not clip_ids:
      raise ValueError(f'Class folder {class_dir!r} has no clip folders; '
                       f'expected {class_dir}/<clip_id>/frame_*.png.')
    for clip_id in clip_ids:
      clip_dir = os.path.join(class_dir, clip_id)
      frames = tuple(os.path.join(clip_dir, f)
                     for f in sorted(os.listdir(clip_dir))
                     if f.startswith('frame_') and
                     f.lower().endswith(folders.IMAGE_EXTENSIONS))
      if len(frames) != num_frames:
        raise ValueError(
            f'Clip {clip_dir!r} has {len(frames)} frame_* images, expected '
            f'num_frames={num_frames}.')
      sizes = {}
      for f in frames:
        try:
          with Image.open(f) as img:
            sizes.setdefault(img.size, f)
        except (OSError, SyntaxError) as e:
          raise ValueError(f'Clip {clip_dir!r}: cannot read frame {f!r}: '
                           f'{e}') from e
      if len(sizes) > 1:
        shown = ', '.join(f'{w}x{h} ({os.path.basename(f)})'
                          for (w, h), f in sizes.items())
        raise ValueError(f'Clip {clip_dir!r} has frames of differing sizes: '
                         f'{shown}; every frame of a clip must have the same '
                         'size.')
      clips.append(Clip(clip_dir, frames, label))
  return clips, classes


class FrameFolderInput(video.VideoInputBase):
  """Clips from `root/<split>/<class>/<clip_id>/frame_*.{png,jpg,jpeg}`.

  Attributes:
    root: data set root.
    split: split folder ('train', 'test', ...).
    num_classes: 0 = the number of class folders (else >= it).
  """
  root: str = ''
  split: str = 'train'
  num_classes: int = 0
  class_names: Any = dataclasses.field(init=False, repr=False, default=None)
  _clips: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    self._clips, self.class_names = list_frame_folders(
        self.root, self.split, self.num_frames)
    if self.num_classes == 0:
      self.num_classes = len(self.class_names)
    elif self.num_classes < len(self.class_names):
      raise ValueError(f'num_classes={self.num_classes} < the '
                       f'{len(self.class_names)} class folders in '
                       f'{os.path.join(self.root, self.split)!r}.')
    super().__post_init__()

  def _num_available(self) -> int:
    return len(self._clips)

  def _load(self, indices: np.ndarray) -> NestedMap:
    s, t = self.image_size, self.num_frames
    out = np.empty((len(indices), t, s, s, 3), np.float32)
    for k, i in enumerate(indices):
      clip = self._clips[int(i)]
      for j, f in enumerate(clip.frames):
        out[k, j] = folders.load_image(f, s)
    labels = np.asarray([self._clips[int(i)].label for i in indices],
                        np.int32)
    return NestedMap(video=out, label=labels)


def frame_indices(length, num_frames: int):
  """`num_frames` indices evenly spaced over [0, length) (tf, rounded)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  pos = tf.linspace(0.0, tf.cast(length, tf.float32) - 1.0, num_frames)
  return tf.cast(tf.round(pos), tf.int32)


class TfdsVideoInput(video.VideoInputBase):
  """A prepared TFDS data set with a video feature (never downloads).

  Hosts read `tfds.even_splits(split, num_infeed_hosts, drop_remainder=True)`
  (equal shards; up to num_infeed_hosts - 1 examples are left out).
  `num_examples` > 0 caps the examples per host. Resume: the state is
  tf.data's own iterator checkpoint (`iterator._save()`, as
  `tfds_input.TfdsInput`), prefixed with the step; in training it holds the
  shuffle buffer of still-encoded videos (about shuffle_buffer x mean record
  size). TFDS auto-caching is off so it never holds a cached data set.

  Attributes:
    dataset_name: TFDS name, e.g. 'ucf101/ucf101_1_256:2.0.0'.
    data_dir: TFDS data dir (None = TFDS default).
    split: TFDS split.
    video_key: feature with the video [T0, H, W, 3].
    label_key: feature with the integer label.
    shuffle_buffer: training shuffle buffer size.
  """
  dataset_name: str = ''
  data_dir: str | None = None
  split: str = 'train'
  video_key: str = 'video'
  label_key: str = 'label'
  shuffle_buffer: int = 1000
  _iter: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    if not self.dataset_name:
      raise ValueError('TfdsVideoInput needs dataset_name, e.g. "ucf101".')
    if self.shuffle_buffer <= 0:
      raise ValueError(f'shuffle_buffer={self.shuffle_buffer} must be > 0.')
    self._iter = iter(self._make_dataset())

  def _make_dataset(self):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    host_split = tfds.even_splits(self.split, n=self.num_infeed_hosts,
                                  drop_remainder=True)[self.infeed_host_index]
    try:
      ds = tfds.load(self.dataset_name, split=host_split,
                     data_dir=self.data_dir, download=False,
                     shuffle_files=self.is_training,
                     read_config=tfds.ReadConfig(shuffle_seed=self.seed,
                                                 try_autocache=False))
    except (tfds.core.DatasetNotFoundError, AssertionError) as e:
      raise ValueError(f'TFDS data set {self.dataset_name!r} (split '
                       f'{self.split!r}) not found in data_dir='
                       f'{self.data_dir!r}; prepare it first: {e}') from e
    missing = [k for k in (self.video_key, self.label_key)
               if k not in ds.element_spec]
    if missing:
      raise ValueError(f'TFDS data set {self.dataset_name!r} has no feature '
                       f'{missing}; it has {sorted(ds.element_spec)}.')
    size, t = self.image_size, self.num_frames

    def prepare(ex):
      frames = ex[self.video_key]
      frames = tf.gather(frames, frame_indices(tf.shape(frames)[0], t))
      frames = tf.cast(frames, tf.float32) / 255.0
      hw = tf.cast(tf.shape(frames)[1:3], tf.float32)
      new = tf.cast(tf.math.ceil(hw * size / tf.reduce_min(hw)), tf.int32)
      frames = tf.image.resize(frames, new)
      frames = tf.image.resize_with_crop_or_pad(frames, size, size)
      return frames, tf.cast(ex[self.label_key], tf.int32)

    if self.num_examples:
      ds = ds.take(self.num_examples)
    if self.is_training:
      ds = ds.repeat().shuffle(self.shuffle_buffer, seed=self.seed)
    elif not self.reset_for_eval:
      ds = ds.repeat()
    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return ds.batch(self.batch_size).prefetch(2).with_options(options)

  def _num_available(self) -> int | None:
    return None

  def get_next(self) -> NestedMap:
    # StopIteration (end of data) ends an eval pass.
    frames, label = (x.numpy() for x in next(self._iter))
    b = self.batch_size
    weights = np.zeros(b, np.float32)
    weights[:len(label)] = 1.0
    if len(label) < b:  # Pad the last eval batch.
      pad = b - len(label)
      frames = np.concatenate([frames, np.zeros((pad,) + frames.shape[1:],
                                                frames.dtype)])
      label = np.concatenate([label, np.zeros(pad, label.dtype)])
    batch = self._augment_and_pack(NestedMap(video=frames, label=label),
                                   weights, self._step)
    self._step += 1
    return batch

  def reset(self) -> None:
    super().reset()
    self._iter = iter(self._make_dataset())

  def _get_state_internal(self) -> bytes:
    # pylint: disable-next=g-import-not-at-top
    from vit22b_pax.data import tfds_input
    return tfds_input.iterator_state(_STATE_MAGIC, (self._step,), self._iter)

  def _set_state_internal(self, state: bytes) -> None:
    # pylint: disable-next=g-import-not-at-top
    from vit22b_pax.data import tfds_input
    self._iter, (self._step,) = tfds_input.restore_iterator(
        state, _STATE_MAGIC, 1, lambda: iter(self._make_dataset()), self.name,
        'TfdsVideoInput')
