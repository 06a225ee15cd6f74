# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Tests for image-folder listing, labels CSVs, PIL modes, unreadable files."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from PIL import Image

from vit22b_pax.data import folders


def _touch_image(path, rgb=(10, 20, 30), size=(6, 5)):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(np.full(size + (3,), rgb, np.uint8)).save(path)


class ListingTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.root = tmp.name

  def test_class_list_comes_from_train_split(self):
    for c in ('cat', 'dog'):
      _touch_image(f'{self.root}/train/{c}/a.png')
    _touch_image(f'{self.root}/test/dog/b.png')
    # A checkpoint folder and a hidden file never become classes or images.
    _touch_image(f'{self.root}/train/.ipynb_checkpoints/x.png')
    _touch_image(f'{self.root}/train/cat/.hidden.png')
    train = folders.list_split(self.root, 'train')
    self.assertEqual(train.class_names, ('cat', 'dog'))
    self.assertLen(train.files, 2)
    test = folders.list_split(self.root, 'test')
    # 'dog' keeps the train id 1 although it is the only test class.
    self.assertEqual(test.labels.tolist(), [1])
    self.assertIsNone(test.khot)

  def test_unknown_class_folder_is_named(self):
    for c in ('cat', 'dog'):
      _touch_image(f'{self.root}/train/{c}/a.png')
    _touch_image(f'{self.root}/test/zebra/a.png')
    with self.assertRaisesRegex(ValueError, r"\['zebra'\].*not in the class"):
      folders.list_split(self.root, 'test')

  def test_explicit_class_names(self):
    _touch_image(f'{self.root}/val/dog/a.png')
    listing = folders.list_split(self.root, 'val',
                                 class_names=['zebra', 'dog'])
    self.assertEqual(listing.labels.tolist(), [1])
    with self.assertRaisesRegex(ValueError, 'does not exist.*class_names'):
      folders.list_split(self.root, 'val')  # No train split to take from.
    with self.assertRaisesRegex(ValueError, 'duplicates'):
      folders.list_split(self.root, 'val', class_names=['dog', 'dog'])

  def test_labels_csv(self):
    for name in ('a.jpg', 'b.png', 'sub/c.png'):
      _touch_image(f'{self.root}/train/{name}')
    with open(f'{self.root}/train/labels.csv', 'w') as f:
      f.write('path,labels\na.jpg,dog;cat\nb.png, cat ;cat\nsub/c.png,\n')
    listing = folders.list_split(self.root, 'train', labels_csv='labels.csv')
    self.assertEqual(listing.class_names, ('cat', 'dog'))
    self.assertEqual(listing.files[2], f'{self.root}/train/sub/c.png')
    np.testing.assert_array_equal(listing.khot, [[1, 1], [1, 0], [0, 0]])
    np.testing.assert_array_equal(listing.labels, [0, 0, -1])

  @parameterized.named_parameters(
      ('header', 'file,labels\na.jpg,cat\n', 'header row'),
      ('columns', 'path,labels\na.jpg,cat,dog\n', r'labels.csv:2: expected'),
      ('duplicate', 'path,labels\na.jpg,cat\na.jpg,dog\n',
       'already listed on line 2'),
      ('missing', 'path,labels\nnope.jpg,cat\n', "labels.csv:2: image .* "
       'does not exist'),
      ('unknown', 'path,labels\na.jpg,cat;yak\n', r"\['yak'\] are not in"),
  )
  def test_bad_csv(self, text, message):
    _touch_image(f'{self.root}/train/a.jpg')
    with open(f'{self.root}/train/labels.csv', 'w') as f:
      f.write(text)
    with self.assertRaisesRegex(ValueError, message):
      folders.list_split(self.root, 'train', class_names=['cat', 'dog'],
                         labels_csv='labels.csv')

  def test_csv_split_placeholder_and_class_split(self):
    _touch_image(f'{self.root}/imgs/a.jpg')
    for split, row in (('train', 'imgs/a.jpg,dog'), ('test', 'imgs/a.jpg,x')):
      with open(f'{self.root}/{split}.csv', 'w') as f:
        f.write(f'path,labels\n{row}\n')
    # An absolute template; paths are relative to the CSV's folder.
    template = os.path.join(self.root, '{split}.csv')
    with self.assertRaisesRegex(ValueError, r"\['x'\] are not in the class "
                                r"list \['dog'\]"):
      folders.list_split(self.root, 'test', labels_csv=template)
    listing = folders.list_split(self.root, 'train', labels_csv=template)
    self.assertEqual(listing.files, (f'{self.root}/imgs/a.jpg',))


class ModesTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.dir = tmp.name
    self.rgb = (np.random.default_rng(0).random((6, 5, 3)) * 255).astype(
        np.uint8)

  def test_16_bit_png_is_scaled_not_clipped(self):
    grey = np.array([[0, 1000, 32768], [40000, 65535, 255]], np.uint16)
    path = os.path.join(self.dir, 'g16.png')
    Image.fromarray(grey).save(path)
    with Image.open(path) as img:
      self.assertIn(img.mode, ('I;16', 'I'))
      got = folders.to_float_rgb(img)
    np.testing.assert_allclose(got[..., 0], grey / 65535.0, rtol=1e-6)
    np.testing.assert_array_equal(got[..., 0], got[..., 2])

  @parameterized.parameters('L', 'LA', 'P', 'RGBA', 'RGB')
  def test_8_bit_modes(self, mode):
    img = Image.fromarray(self.rgb).convert(mode)
    path = os.path.join(self.dir, f'x_{mode}.png')
    img.save(path)
    # Reference: the stored pixels, alpha dropped, grey replicated, palette
    # looked up.
    stored = np.asarray(Image.open(path))
    if mode == 'P':
      pal = np.asarray(Image.open(path).getpalette(), np.uint8).reshape(-1, 3)
      expected = pal[stored]
    elif mode in ('L', 'LA'):
      g = stored if mode == 'L' else stored[..., 0]
      expected = np.repeat(g[..., None], 3, -1)
    else:
      expected = stored[..., :3]
    with Image.open(path) as loaded:
      got = folders.to_float_rgb(loaded)
    np.testing.assert_allclose(got, expected / 255.0, atol=1e-7)

  def test_cmyk_jpeg(self):
    path = os.path.join(self.dir, 'cmyk.jpg')
    Image.fromarray(self.rgb).convert('CMYK').save(path, quality=100)
    with Image.open(path) as img:
      self.assertEqual(img.mode, 'CMYK')
      got = folders.to_float_rgb(img)
    # Round trip RGB -> CMYK JPEG -> RGB stays within JPEG error.
    self.assertLess(np.abs(got - self.rgb / 255.0).mean(), 0.03)

  def test_load_image_16_bit_full_scale(self):
    path = os.path.join(self.dir, 'white16.png')
    Image.fromarray(np.full((9, 12), 65535, np.uint16)).save(path)
    np.testing.assert_allclose(folders.load_image(path, 4), 1.0, atol=1e-6)
    path = os.path.join(self.dir, 'mid16.png')
    Image.fromarray(np.full((9, 12), 16384, np.uint16)).save(path)
    np.testing.assert_allclose(folders.load_image(path, 4), 16384 / 65535,
                               atol=1e-5)

  def test_load_image_box_and_centre_crop(self):
    # Left half red, right half blue; the box picks one half.
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, :40, 0] = 255
    img[:, 40:, 2] = 255
    path = os.path.join(self.dir, 'halves.png')
    Image.fromarray(img).save(path)
    right = folders.load_image(path, 8, box_fn=lambda h, w: (0, 50, 40, 30))
    np.testing.assert_allclose(right[..., 2], 1.0)
    # Centre crop at 0.5: the centre 20 x 20 of the 40-px-high image, i.e.
    # columns 30..50, half red / half blue.
    centre = folders.load_image(path, 8, crop_fraction=0.5)
    np.testing.assert_allclose(centre[:, :3, 0], 1.0)
    np.testing.assert_allclose(centre[:, -3:, 2], 1.0)


class UnreadableTrackerTest(absltest.TestCase):

  def test_threshold(self):
    paths = [f'f{i}' for i in range(20)]
    t = folders.UnreadableTracker('in', '/d', 20, 0.5)
    t.record(range(8), [False] * 8, paths)  # < MIN_CHECKED tried: no check.
    t.record(range(8, 16), [True] * 8, paths)  # 8 of 16: not more than half.
    with self.assertRaisesRegex(ValueError, r"in: 9 of the 17 .* '/d' .*"
                                r'max_unreadable_fraction=0.5.*first: f0'):
      t.record([16], [False], paths)
    lenient = folders.UnreadableTracker('in', '/d', 3, 1.0)
    lenient.record(range(3), [False] * 3, paths)
    self.assertEqual(lenient.num_bad, 3)
    strict = folders.UnreadableTracker('in', '/d', 3, 0.0)
    with self.assertRaisesRegex(ValueError, '1 of the 3'):
      strict.record(range(3), [True, False, True], paths)
    with self.assertRaisesRegex(ValueError, 'max_unreadable_fraction=2'):
      folders.UnreadableTracker('in', '/d', 3, 2)

  def test_fill_unreadable(self):
    np.testing.assert_array_equal(
        folders.fill_unreadable([False, True, False, True, False]),
        [1, 1, 3, 3, 1])
    with self.assertRaisesRegex(ValueError, 'every image'):
      folders.fill_unreadable([False, False])


if __name__ == '__main__':
  absltest.main()
