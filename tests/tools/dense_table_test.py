# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The dense comparison table: job commands, summary, resume."""

from absl.testing import absltest

from fiddle_configs import dense
from vit22b_pax.tools import dense_table


def _record(task, backbone, seed, **metrics):
  return dict(task=task, backbone=backbone, seed=seed, ok=True,
              command='python x', wall_seconds=100.0 + seed,
              cpu_seconds=50.0, metrics=metrics)


class DenseTableTest(absltest.TestCase):

  def test_job_call(self):
    self.assertEqual(
        dense_table.job_call(dense.depth, 'tiny', 'random', 1, '/p', 'dpt'),
        "fiddle_configs.dense.depth(size='tiny',backbone='random',seed=1,"
        "decoder='dpt')")
    self.assertIn("pretrain_dir='/p'", dense_table.job_call(
        dense.segmentation, 'tiny', 'trained', 0, '/p', 'linear'))

  def test_summary_mean_and_spread(self):
    records = [_record('segmentation', 'pretrained', 0, miou=0.2,
                       pixel_accuracy=0.8),
               _record('segmentation', 'pretrained', 1, miou=0.3,
                       pixel_accuracy=0.9),
               _record('segmentation', 'random', 0, miou=0.1,
                       pixel_accuracy=0.7)]
    text = dense_table.summarize(records)
    self.assertIn('**segmentation**, linear decoder', text)
    self.assertIn('| pretrained | 2 | 0.2500 ± 0.1000 | 0.8500 ± 0.1000 '
                  '| 100 | 50 |', text)
    self.assertIn('| random | 1 | 0.1000 ± 0.0000 | 0.7000 ± 0.0000 | 100 '
                  '| 50 |', text)
    self.assertNotIn('depth', text)

  def test_done_jobs_are_not_rerun(self):
    call = dense_table.job_call(dense.segmentation, 'tiny', 'random', 0,
                                '/p', 'linear')
    done = [dict(_record('segmentation', 'random', 0, miou=0.1,
                         pixel_accuracy=0.5), command=f'python -m x {call}')]
    records = dense_table.run_grid('/p', '/tmp/unused', [0],
                                   tasks=['segmentation'],
                                   backbones=['random'], done=done)
    self.assertEqual(records, done)

  def test_unknown_task(self):
    with self.assertRaisesRegex(ValueError, r"Unknown tasks \['pose'\]"):
      dense_table.run_grid('/p', '/tmp/unused', [0], tasks=['pose'])


if __name__ == '__main__':
  absltest.main()
