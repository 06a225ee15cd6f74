# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Real videos behind the batch keys of `video.VideoInput`.

* `FrameFolderInput`: `root/<split>/<class>/<clip_id>/frame_*.{png,jpg,jpeg}`
  (frames in sorted file-name order), labels = sorted class folder names.
  The whole layout is checked when the input is built, before anything runs:
  an empty class folder, a clip without exactly `num_frames` frames, or a
  clip whose frames differ in size raises a ValueError naming the folder.
* `TfdsVideoInput`: any prepared TFDS data set with a video feature
  [T0, H, W, 3] uint8 (never downloads), on the shared tf.data stream
  (`tfds_stream`); `num_frames` frames evenly spaced over the T0 frames of
  each video are used.

Frames are resized so the shorter side is `image_size`, then centre-cropped
with the package's one crop (`crop.py`; `folders.load_image` for files, its
TensorFlow twin for TFDS). Names
starting with '.' are ignored, as in image folders.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
from PIL import Image
from praxis import py_utils
import tensorflow as tf

from vit22b_pax.data import crop
from vit22b_pax.data import folders
from vit22b_pax.data import tfds_stream
from vit22b_pax.data import video

NestedMap = py_utils.NestedMap


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
  pos = tf.linspace(0.0, tf.cast(length, tf.float32) - 1.0, num_frames)
  return tf.cast(tf.round(pos), tf.int32)


class TfdsVideoInput(tfds_stream.TfdsStreamInput, video.VideoInputBase):
  """A prepared TFDS data set with a video feature (never downloads).

  The stream (host split keeping every eval example, shuffle seeded by
  (seed, input_random_seed, host), eval padding with weight 0, iterator
  state; in training the state holds the shuffle buffer of decoded videos:
  about shuffle_buffer x mean video size) is `tfds_stream.TfdsStreamInput`.
  This class supplies the per-example map: `num_frames` frames evenly
  spaced over the video, the evaluation crop (`crop.tf_resize_small_crop`)
  to image_size.

  Attributes (besides those of `tfds_stream.TfdsStreamInput`):
    video_key: feature with the video [T0, H, W, 3].
    label_key: feature with the integer label.
  """
  _KIND = 'TfdsVideoInput'
  _STATE_MAGIC = b'vit22b_pax.TfdsVideoInput.v2\0'
  _EXAMPLE_NAME = 'ucf101'
  video_key: str = 'video'
  label_key: str = 'label'

  def _feature_keys(self) -> tuple[str, ...]:
    return (self.video_key, self.label_key)

  def _preprocess(self, position, example):
    frames = example[self.video_key]
    frames = tf.gather(frames, frame_indices(tf.shape(frames)[0],
                                             self.num_frames))
    frames = crop.tf_resize_small_crop(
        tf.cast(frames, tf.float32) / 255.0, (self.image_size,) * 2)
    return dict(video=frames, label=tf.cast(example[self.label_key],
                                            tf.int32), position=position)

  def _make_batch(self, arrays: dict[str, np.ndarray],
                  real: np.ndarray) -> NestedMap:
    batch = NestedMap(video=arrays['video'], label=arrays['label'])
    return self._augment_and_pack(batch, real.astype(np.float32), self._step)
