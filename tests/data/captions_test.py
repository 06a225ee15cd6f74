# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Tests for captions, prompts and byte tokenisation."""

from absl.testing import absltest
import numpy as np
from praxis import test_utils

from vit22b_pax.data import captions
from vit22b_pax.data import procedural


class CaptionsTest(test_utils.TestCase):

  def test_caption(self):
    self.assertEqual(captions.caption('triangle', 'stripes', 'red'),
                     'a striped red triangle')
    self.assertEqual(captions.caption('ring', 'dots', 'orange'),
                     'a dotted orange ring')
    for t in procedural.TEXTURES:
      self.assertTrue(captions.caption('circle', t, 'blue').endswith(
          ' blue circle'))
    with self.assertRaisesRegex(ValueError, "texture='plaid'"):
      captions.caption('circle', 'plaid', 'red')

  def test_zero_shot_prompts(self):
    prompts = captions.zero_shot_prompts(['circle', 'star'])
    self.assertLen(prompts, 2)
    self.assertLen(prompts[0], len(captions.PROMPT_TEMPLATES))
    self.assertIn('a photo of a star.', prompts[1])
    with self.assertRaisesRegex(ValueError, 'placeholder'):
      captions.zero_shot_prompts(['circle'], ['a {}'])

  def test_tokenize_round_trip(self):
    texts = ['a striped red triangle', 'a star', '']
    ids = captions.tokenize(texts, 32)
    self.assertEqual(ids.shape, (3, 32))
    self.assertEqual(ids.dtype, np.int32)
    # Byte ids are UTF-8 bytes + 3, padding is 0.
    expected = np.frombuffer(b'a star', np.uint8).astype(np.int32) + 3
    self.assertArraysEqual(ids[1, :6], expected)
    self.assertTrue(np.all(ids[1, 6:] == 0))
    self.assertEqual(captions.detokenize(ids), texts)

  def test_truncate_and_eos(self):
    ids = captions.tokenize(['abcdef'], 4)
    self.assertEqual(captions.detokenize(ids), ['abcd'])
    ids = captions.tokenize(['abcdef'], 4, add_eos=True)
    self.assertEqual(ids[0, 3], captions.EOS_ID)
    self.assertEqual(captions.detokenize(ids), ['abc'])
    ids = captions.tokenize(['ab'], 4, add_eos=True)
    self.assertArraysEqual(ids[0], np.int32([100, 101, captions.EOS_ID, 0]))

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, 'length=0'):
      captions.tokenize(['a'], 0)
    with self.assertRaisesRegex(ValueError, 'not a str'):
      captions.tokenize('abc', 4)


if __name__ == '__main__':
  absltest.main()
