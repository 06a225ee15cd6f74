# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Frame-folder and TFDS video inputs on data the test writes."""

import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import test_utils

from tests.data import input_util
from vit22b_pax.data import video_real

instantiate = base_hyperparams.instantiate
_T = 3


def _frame_value(label, clip, frame):
  return 40 * label + 10 * clip + 3 * frame


def _write_clip(clip_dir, label, clip, size=(10, 14), frames=_T):
  os.makedirs(clip_dir)
  for j in range(frames):
    value = _frame_value(label, clip, j)
    img = np.full((size[1], size[0], 3), value, np.uint8)
    Image.fromarray(img).save(os.path.join(clip_dir, f'frame_{j:03d}.png'))



class FrameFolderInputTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.root = tmp.name
    for label, name in enumerate(('jump', 'wave')):
      for clip in range(2 + label):
        _write_clip(os.path.join(self.root, 'train', name, f'c{clip}'), label,
                    clip)
    with open(os.path.join(self.root, 'train', 'jump', 'c0', 'notes.txt'),
              'w') as f:
      f.write('not a frame')

  def _input(self, **kw):
    kw.setdefault('batch_size', 2)
    kw.setdefault('image_size', 8)
    kw.setdefault('num_frames', _T)
    return instantiate(pax_fiddle.Config(video_real.FrameFolderInput,
                                         root=self.root, **kw))

  def test_eval_pass_in_order(self):
    inp = self._input(reset_for_eval=True)
    self.assertEqual(inp.class_names, ('jump', 'wave'))
    self.assertEqual(inp.num_classes, 2)
    batches = input_util.read_all(inp)
    self.assertLen(batches, 3)  # 5 clips, batch 2.
    labels = np.concatenate([b.label for b in batches])
    weights = np.concatenate([b.eval_sample_weights for b in batches])
    np.testing.assert_array_equal(labels[:5], [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(weights, [1, 1, 1, 1, 1, 0])
    videos = np.concatenate([b.video for b in batches])
    self.assertEqual(videos.shape, (6, _T, 8, 8, 3))
    for i, (label, clip) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1),
                                       (1, 2)]):
      for j in range(_T):
        want = _frame_value(label, clip, j) / 255 * 2 - 1
        np.testing.assert_allclose(videos[i, j], want, atol=1e-5)
    np.testing.assert_array_equal(batches[0].label_probs, np.eye(2)[[0, 0]])

  def test_wrong_number_of_frames_names_the_clip(self):
    bad = os.path.join(self.root, 'train', 'wave', 'c9')
    _write_clip(bad, 1, 9, frames=_T + 1)
    with self.assertRaisesRegex(ValueError,
                                f"Clip '{bad}' has 4 frame_.*num_frames=3"):
      self._input()

  def test_frames_of_differing_sizes_name_the_clip(self):
    bad = os.path.join(self.root, 'train', 'jump', 'c0')
    Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(
        os.path.join(bad, 'frame_001.png'))
    with self.assertRaisesRegex(
        ValueError, f"Clip '{bad}' has frames of differing sizes: 10x14 "
        r'\(frame_000.png\), 6x6 \(frame_001.png\)'):
      self._input()

  def test_empty_class_names_the_folder(self):
    empty = os.path.join(self.root, 'train', 'sit')
    os.makedirs(empty)
    with self.assertRaisesRegex(ValueError,
                                f"Class folder '{empty}' has no clip"):
      self._input()

  def test_missing_split(self):
    with self.assertRaisesRegex(ValueError, 'does not exist'):
      self._input(split='test')

  def test_unreadable_frame_names_the_clip(self):
    clip = os.path.join(self.root, 'train', 'wave', 'c1')
    with open(os.path.join(clip, 'frame_001.png'), 'wb') as f:
      f.write(b'\x89PNG not really')
    with self.assertRaisesRegex(ValueError, f"Clip '{clip}': cannot read"):
      self._input()


class TfdsVideoInputTest(test_utils.TestCase):

  def _write(self, ds_name, lengths):
    """Prepares TFDS data set `ds_name`: clip i has lengths[i] frames of
    value 20 i + 10 f and label i % 3."""
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

    class TinyClips(tfds.core.GeneratorBasedBuilder):
      name = ds_name
      VERSION = tfds.core.Version('1.0.0')

      def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, features=tfds.features.FeaturesDict({
                'video': tfds.features.Video(shape=(None, 12, 16, 3)),
                'label': tfds.features.ClassLabel(num_classes=3)}))

      def _split_generators(self, dl_manager):
        del dl_manager
        return {'test': self._generate_examples()}

      def _generate_examples(self):
        for i, n in enumerate(lengths):
          frames = np.stack([np.full((12, 16, 3), 20 * i + 10 * f, np.uint8)
                             for f in range(n)])
          yield i, {'video': frames, 'label': i % 3}

    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    TinyClips(data_dir=tmp.name).download_and_prepare()
    return tmp.name

  def test_written_dataset_eval_pass(self):
    lengths = (5, 7, 4)
    data_dir = self._write('tiny_clips', lengths)
    inp = instantiate(pax_fiddle.Config(
        video_real.TfdsVideoInput, dataset_name='tiny_clips',
        data_dir=data_dir, split='test', batch_size=2, num_frames=3,
        image_size=6, num_classes=3, reset_for_eval=True))
    batches = input_util.read_all(inp)
    self.assertLen(batches, 2)
    np.testing.assert_array_equal(batches[1].eval_sample_weights, [1, 0])
    videos = np.concatenate([b.video for b in batches])[:3]
    labels = np.concatenate([b.label for b in batches])[:3]
    self.assertEqual(videos.shape, (3, 3, 6, 6, 3))
    for v, label in zip(videos, labels):
      n = lengths[label]
      idx = np.round(np.linspace(0, n - 1, 3)).astype(int)
      want = (20 * label + 10 * idx) / 255 * 2 - 1
      np.testing.assert_allclose(v[:, 0, 0, 0], want, atol=1e-5)

  def test_training_resumes_from_state(self):
    data_dir = self._write('tiny_clips_train', (3, 4, 5, 6, 7, 8))
    make = lambda: instantiate(pax_fiddle.Config(
        video_real.TfdsVideoInput, dataset_name='tiny_clips_train',
        data_dir=data_dir, split='test', batch_size=2, num_frames=3,
        image_size=6, num_classes=3, is_training=True, shuffle_buffer=4))
    inp = make()
    inp.get_next()
    state = inp.get_state()
    want = [inp.get_next() for _ in range(3)]
    other = make()
    other.set_state(state)
    for w in want:
      got = other.get_next()
      np.testing.assert_array_equal(got.video, w.video)
      np.testing.assert_array_equal(got.label, w.label)
    with self.assertRaisesRegex(ValueError, 'not a TfdsVideoInput state'):
      make().set_state(b'{"step": 3}')

  def test_missing_dataset(self):
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    with self.assertRaisesRegex(ValueError, "'nothing_here'.*not found"):
      video_real.TfdsVideoInput(dataset_name='nothing_here',
                                data_dir=tmp.name, batch_size=2)


if __name__ == '__main__':
  absltest.main()
