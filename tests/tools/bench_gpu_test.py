# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The pure-JAX accelerator benchmark: smoke mode on CPU, ring compute."""

import json
import os
import subprocess
import sys
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax import numpy as jnp
import numpy as np

from vit22b_pax.tools import bench_gpu


class BenchGpuTest(parameterized.TestCase):

  @parameterized.parameters('all_gather', 'reduce_scatter')
  def test_ring_compute_is_the_matmul(self, form):
    rng = np.random.default_rng(0)
    if form == 'all_gather':
      x, w, eqn = rng.normal(size=(6, 16)), rng.normal(size=(16, 5)), (
          'md,dk->mk')
    else:
      x, w, eqn = rng.normal(size=(6, 5)), rng.normal(size=(5, 16)), (
          'mk,kd->md')
    x, w = jnp.asarray(x, jnp.float32), jnp.asarray(w, jnp.float32)
    got = jax.jit(lambda x, w: bench_gpu.ring_compute(x, w, 4, form))(x, w)
    np.testing.assert_allclose(got, np.einsum(eqn, x, w), rtol=1e-5,
                               atol=1e-5)

  def test_smoke_run(self):
    # The smoke mode as a user runs it: a fresh process, 8 CPU devices.
    with tempfile.TemporaryDirectory() as tmp:
      out = os.path.join(tmp, 'smoke.json')
      env = dict(os.environ, PYTHONPATH=os.getcwd(), JAX_PLATFORMS='cpu',
                 XLA_FLAGS='--xla_force_host_platform_device_count=8')
      proc = subprocess.run(
          [sys.executable, '-m', 'vit22b_pax.tools.bench_gpu', '--smoke',
           '--json', out], env=env, capture_output=True, text=True,
          check=False, timeout=300)
      self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
      with open(out) as f:
        report = json.load(f)
    self.assertIn('device: cpu x8', proc.stdout)
    self.assertIn('(a) one block', proc.stdout)
    self.assertEqual(report['dtype'], 'float32')
    (row,) = report['a']
    for model in ('parallel', 'sequential'):
      self.assertLen(row[model]['times_s'], 7)
      self.assertGreater(row[model]['mfu_best'], 0)
    self.assertLen(row['parallel_over_sequential']['per_round'], 7)
    cols = report['b']['real']['columns']
    # 5 rings of k - 1 = 7 permutes in the fused block's fwd+bwd.
    self.assertEqual(cols['ring']['collectives']['collective-permute'], 35)
    self.assertEqual(cols['xla']['collectives']['collective-permute'], 0)
    self.assertIn('n/a', report['b']['mocked'])
    self.assertLen(report['b']['per_device_compute'], 2)

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, '--steps must be >= 7'):
      bench_gpu.main(['--smoke', '--steps', '3'])
    with self.assertRaisesRegex(ValueError, r"--parts entries \['c'\]"):
      bench_gpu.main(['--smoke', '--parts', 'c'])


if __name__ == '__main__':
  absltest.main()
