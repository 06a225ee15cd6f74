# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""OOD label maps; evaluation on tiny image directories with known answers."""

import json
import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image

from vit22b_pax.eval import decision_mapping
from vit22b_pax.eval import ood

DATA = os.path.join(os.path.dirname(ood.__file__), 'data')


def save(path, code):
  """A constant image whose red channel carries `code` (0..255)."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  img = np.zeros((12, 20, 3), np.uint8)
  img[..., 0] = code
  Image.fromarray(img).save(path)


def coded_predict(table):
  """predict_fn: red code -> scores from `table[code]` (dict idx -> score)."""
  def fn(images):
    assert images.shape[1:] == (8, 8, 3)
    codes = np.round((images[..., 0].mean(axis=(1, 2)) + 1) * 127.5)
    out = np.zeros((len(images), 1000))
    for b, c in enumerate(codes.astype(int)):
      for i, s in table[c].items():
        out[b, i] = s
    return out
  return fn


class LabelMapTest(absltest.TestCase):

  def test_subsets_match_tfds_wnids(self):
    wnids = decision_mapping.imagenet2012_wnids()
    for name in ('imagenet_a', 'imagenet_r'):
      idx = ood.subset_indices(name)
      with open(os.path.join(DATA, f'{name}_synsets.txt')) as f:
        self.assertEqual([wnids[i] for i in idx], f.read().split())
      self.assertLen(idx, 200)

  def test_real_labels(self):
    labels = ood.real_labels()
    self.assertLen(labels, 50000)
    self.assertEqual(sum(1 for x in labels if not x), 3163)  # 46,837 labelled
    self.assertEqual(labels[1], (970, 795))
    self.assertTrue(all(0 <= i < 1000 for x in labels for i in x))


class ImageFolderTest(absltest.TestCase):

  def test_imagenet_a_restricts_to_subset(self):
    root = tempfile.mkdtemp()
    a = ood.subset_indices('imagenet_a')
    wnids = decision_mapping.imagenet2012_wnids()
    assert 0 not in a and 1 not in a
    # code 1: right (subset max = target, global max = 0 outside the subset);
    # code 2: wrong within the subset; code 3: right, folder as index string.
    save(f'{root}/{wnids[a[0]]}/x1.png', 1)
    save(f'{root}/{wnids[a[1]]}/x2.png', 2)
    save(f'{root}/{a[2]}/x3.png', 3)
    table = {1: {0: 9.0, a[0]: 5.0, a[1]: 4.0},
             2: {1: 9.0, a[0]: 5.0, a[1]: 4.0},
             3: {0: 9.0, a[2]: 1.0}}
    ex = ood.image_folder_examples(root, 'imagenet_a')
    self.assertEqual(sorted(t for _, t in ex), sorted(a[:3].tolist()))
    res = ood.evaluate(coded_predict(table), ex, ood.Benchmark('imagenet_a'),
                       image_size=8, batch_size=2)
    self.assertEqual(res['n'], 3)
    self.assertAlmostEqual(res['accuracy'], 2 / 3)
    # Unrestricted (v2 rule) all three would be wrong.
    res = ood.evaluate(coded_predict(table), ex, ood.Benchmark('v2'), 8)
    self.assertEqual(res['accuracy'], 0.0)

  def test_imagenet_r_target_outside_subset(self):
    r = ood.subset_indices('imagenet_r')
    outside = next(i for i in range(1000) if i not in set(r.tolist()))
    with self.assertRaisesRegex(ValueError, f'class {outside} is not one'):
      ood.Benchmark('imagenet_r').correct(np.zeros((1, 1000)), [outside])

  def test_objectnet_many_to_one(self):
    d = tempfile.mkdtemp()
    path = os.path.join(d, 'map.json')
    wnids = decision_mapping.imagenet2012_wnids()
    with open(path, 'w') as f:
      json.dump({'chair': [423, 559, 765], 'dog': [wnids[151], 152],
                 'mug': [504]}, f)
    mapping = ood.load_objectnet_mapping(path)
    self.assertEqual(mapping['dog'], (151, 152))
    root = os.path.join(d, 'images')
    save(f'{root}/chair/a.png', 1)   # 765 top among mapped -> chair: right
    save(f'{root}/dog/b.png', 2)     # 152 top -> dog: right
    save(f'{root}/mug/c.png', 3)     # 559 (chair) beats 504 -> wrong
    table = {1: {765: 3.0, 504: 2.0, 7: 99.0}, 2: {152: 1.0},
             3: {559: 2.0, 504: 1.0}}
    ex = ood.image_folder_examples(root, 'objectnet')
    res = ood.evaluate(coded_predict(table), ex,
                       ood.Benchmark('objectnet', mapping), 8)
    self.assertEqual((res['n'], res['accuracy']), (3, 2 / 3))
    save(f'{root}/sofa/d.png', 1)
    with self.assertRaisesRegex(ValueError, "'sofa' is not in the mapping"):
      ood.evaluate(coded_predict(table), ood.image_folder_examples(
          root, 'objectnet'), ood.Benchmark('objectnet', mapping), 8)
    with open(path, 'w') as f:
      json.dump({'chair': ['n99999999']}, f)
    with self.assertRaisesRegex(ValueError, "map.json: class 'chair'.*n9999"):
      ood.load_objectnet_mapping(path)

  def test_objectnet_release_mapping_folder(self):
    d = tempfile.mkdtemp()
    names = [f'name{i}' for i in range(1000)]
    pytorch_to_id = {str(i): i for i in range(1000)}
    pytorch_to_id['5'], pytorch_to_id['6'] = 6, 5  # id 5 <-> index 6
    files = {
        'folder_to_objectnet_label.json': {'alarm_clock': 'Alarm clock',
                                           'tie': 'Tie'},
        'objectnet_to_imagenet_1k.json': {'Alarm clock': 'name5; name7',
                                          'Tie': 'name9'},
        'pytorch_to_imagenet_2012_id.json': pytorch_to_id}
    for k, v in files.items():
      with open(os.path.join(d, k), 'w') as f:
        json.dump(v, f)
    with open(os.path.join(d, 'imagenet_to_label_2012_v2'), 'w') as f:
      f.write('\n'.join(names) + '\n')
    self.assertEqual(ood.load_objectnet_mapping(d),
                     {'alarm_clock': (6, 7), 'tie': (9,)})

  def test_real_multilabel_skips_empty(self):
    root = tempfile.mkdtemp()
    save(f'{root}/val/ILSVRC2012_val_00000001.JPEG.png', 1)  # [] -> skipped
    save(f'{root}/val/ILSVRC2012_val_00000002.png', 2)  # {970, 795}
    save(f'{root}/ILSVRC2012_val_00000003.png', 3)      # {230, 231}
    table = {1: {0: 1.0}, 2: {795: 1.0}, 3: {229: 1.0}}
    ex = ood.image_folder_examples(root, 'real')
    res = ood.evaluate(coded_predict(table), ex, ood.Benchmark('real'), 8)
    self.assertEqual(res, {'benchmark': 'real', 'accuracy': 0.5, 'n': 2,
                           'n_skipped': 1})

  def test_bad_folders(self):
    root = tempfile.mkdtemp()
    save(f'{root}/n00000000/x.png', 1)
    with self.assertRaisesRegex(ValueError, "x.png: class 'n00000000'"):
      ood.image_folder_examples(root, 'v2')
    with self.assertRaisesRegex(ValueError, 'benchmark .*expected one of'):
      ood.Benchmark('imagenet_c')


class TfdsTest(absltest.TestCase):

  def test_mock_tfds_v2_and_real(self):
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    with tfds.testing.mock_data(num_examples=6,
                                policy=tfds.testing.MockPolicy.USE_CODE):
      ex = list(ood.tfds_examples('imagenet_v2', 'test', '/nonexistent',
                                  'v2', max_examples=5))
      self.assertLen(ex, 5)
      targets = [t for _, t in ex]
      self.assertTrue(all(isinstance(t, int) and 0 <= t < 1000
                          for t in targets))
      answers = iter(targets[:3] + [(t + 1) % 1000 for t in targets[3:]])
      predict = lambda x: np.eye(1000)[[next(answers) for _ in x]]
      res = ood.evaluate(predict, ex, ood.Benchmark('v2'), 8, batch_size=2)
      self.assertAlmostEqual(res['accuracy'], 3 / 5)
      ex = list(ood.tfds_examples('imagenet2012_real', 'validation',
                                  '/nonexistent', 'real', max_examples=3))
      self.assertTrue(all(isinstance(t, tuple) for _, t in ex))


if __name__ == '__main__':
  absltest.main()
