# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Shared check: an input restored from its state resumes bit-identically."""

import numpy as np


def assert_resumes(test, make_input, n: int, m: int):
  """Reads n batches, saves the state, reads m more; a fresh input restored
  from that state must yield exactly those m batches (every key, every bit).

  Args:
    test: the TestCase (for assertions).
    make_input: () -> a new input with the same configuration.
    n: batches read before saving.
    m: batches compared after restoring.
  """
  first = make_input()
  for _ in range(n):
    first.get_next()
  state = first.get_state()
  expected = [first.get_next() for _ in range(m)]
  restored = make_input()
  restored.set_state(state)
  got = [restored.get_next() for _ in range(m)]
  for i, (want, have) in enumerate(zip(expected, got)):
    test.assertEqual(sorted(want.keys()), sorted(have.keys()))
    for key in want.keys():
      np.testing.assert_array_equal(
          have[key], want[key], err_msg=f'batch {n + i}, key {key!r}')
  # The restored input must not simply replay the start of the stream.
  fresh = make_input().get_next()
  test.assertFalse(np.array_equal(fresh.image, expected[0].image))
