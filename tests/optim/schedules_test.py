# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests for vit22b_pax.optim.schedules against a numpy reference."""

import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from praxis import base_hyperparams
from praxis import pax_fiddle
from praxis import test_utils

from vit22b_pax.optim import schedules

instantiate = base_hyperparams.instantiate


def np_rsqrt(step, warmup, timescale, cooldown, total):
  """big_vision's rsqrt schedule (base 1), cool-down clipped at 0."""
  step = float(step)
  lr = 1.0
  if step >= warmup:
    lr = 1.0 / math.sqrt(1 + (step - warmup) / timescale)
  if warmup:
    lr *= min(1.0, step / warmup)
  if cooldown:
    lr *= min(1.0, max(0.0, (total - step) / cooldown))
  return lr


class RsqrtScheduleTest(test_utils.TestCase):

  @parameterized.named_parameters(
      ('warmup_cooldown', 10, 20.0, 30, 177),
      ('no_warmup', 0, 20.0, 30, 177),
      ('no_cooldown', 10, 5.0, 0, 100),
      ('plain_rsqrt', 0, 1.0, 0, 50),
  )
  def test_matches_reference(self, warmup, timescale, cooldown, total):
    p = pax_fiddle.Config(
        schedules.RsqrtSchedule, warmup_steps=warmup, timescale=timescale,
        cooldown_steps=cooldown, total_steps=total)
    sched = instantiate(p)
    steps = np.array([0, 1, 5, 9, 10, 11, 30, 99, 120, 147, 160, 176, 177,
                      200], np.int32)
    got = jax.jit(jax.vmap(sched.value_at))(jnp.asarray(steps))
    want = [np_rsqrt(s, warmup, timescale, cooldown, total) for s in steps]
    self.assertAllClose(np.asarray(got), np.asarray(want, np.float32),
                        rtol=1e-6, atol=1e-7)

  def test_paper_defaults(self):
    sched = instantiate(pax_fiddle.Config(schedules.RsqrtSchedule))
    value = lambda s: float(sched.value_at(jnp.asarray(s, jnp.int32)))
    self.assertEqual(value(0), 0.0)            # warm-up starts at 0
    self.assertAlmostEqual(value(5_000), 0.5, places=6)   # mid warm-up
    self.assertAlmostEqual(value(10_000), 1.0, places=6)  # peak
    self.assertAlmostEqual(value(40_000), 0.5, places=6)  # 1/sqrt(1 + 3)
    # Cool-down starts at 147k: rsqrt value, then linear to 0 at 177k.
    at_147k = 1 / math.sqrt(1 + 137_000 / 10_000)
    self.assertAlmostEqual(value(147_000), at_147k, places=6)
    self.assertAlmostEqual(value(162_000), 0.5 / math.sqrt(1 + 15.2), places=6)
    self.assertEqual(value(177_000), 0.0)
    self.assertEqual(value(190_000), 0.0)      # clipped, never negative

  @parameterized.named_parameters(
      ('negative_warmup', dict(warmup_steps=-1), 'warmup_steps=-1'),
      ('negative_cooldown', dict(cooldown_steps=-5), 'cooldown_steps=-5'),
      ('float_total', dict(total_steps=10.5), 'total_steps=10.5'),
      ('zero_total', dict(total_steps=0, warmup_steps=0, cooldown_steps=0),
       'total_steps=0'),
      ('zero_timescale', dict(timescale=0.0), 'timescale=0.0'),
      ('cooldown_over_total', dict(warmup_steps=0, cooldown_steps=200,
                                   total_steps=100), 'cooldown_steps=200'),
      ('warmup_plus_cooldown', dict(warmup_steps=60, cooldown_steps=50,
                                    total_steps=100), 'warmup_steps=60'),
  )
  def test_bad_args(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      instantiate(pax_fiddle.Config(schedules.RsqrtSchedule, **kwargs))


if __name__ == '__main__':
  absltest.main()
