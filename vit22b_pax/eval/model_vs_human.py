# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Model-vs-human analysis of cue-conflict responses (shape bias etc.).

Reads responses in the model-vs-human raw-data CSV format
(`subj,session,trial,rt,object_response,category,condition,imagename`),
written by human observers and models alike, and computes per observer:

* accuracy: fraction of trials with `object_response == category` (the shape
  category); all trials, as model-vs-human's `SixteenClassAccuracy`.
* shape bias (Geirhos et al., ICLR 2019): over cue-conflict trials (shape
  category != texture category, the texture parsed from the image name
  `..._SHAPE<i>-TEXTURE<j>.png`), shape hits / (shape hits + texture hits);
  also per shape category.
* against each human observer (trials matched by stimulus file name):
  accuracy difference, observed consistency c_obs (both right or both wrong),
  and error consistency (Geirhos et al., NeurIPS 2020): Cohen's kappa
  (c_obs - c_exp) / (1 - c_exp) with c_exp = p1 p2 + (1 - p1)(1 - p2) and
  p1, p2 the two accuracies on the matched trials (kappa = 1 when c_obs = 1,
  as model-vs-human). Averaged over humans; a human is compared with all
  OTHER humans.

A response `na` (no answer, humans) is a valid response that is neither
correct nor a cue hit.
"""

import collections
import csv
import dataclasses
import os
import re
from typing import Iterable, Sequence

import numpy as np

from vit22b_pax.eval.decision_mapping import CATEGORIES

COLUMNS = ('subj', 'session', 'trial', 'rt', 'object_response', 'category',
           'condition', 'imagename')
NO_RESPONSE = 'na'
_STIMULUS = re.compile(
    r'^([a-z]+)(\d+)-([a-z]+)(\d+)\.(png|jpg|jpeg)$', re.IGNORECASE)


def parse_stimulus_name(name: str) -> tuple[str, str, str]:
  """'0001_..._cat1-elephant1.png' -> ('cat1-elephant1.png', 'cat', 'elephant').

  Raises:
    ValueError: the last '_'-separated part is not SHAPE<i>-TEXTURE<j>.<ext>
      or a category is not one of the 16.
  """
  stim = os.path.basename(name).split('_')[-1]
  m = _STIMULUS.match(stim)
  if not m:
    raise ValueError(f'image name {name!r} does not end with '
                     "'SHAPE<i>-TEXTURE<j>.png' (e.g. 'cat1-elephant1.png')")
  shape, texture = m.group(1).lower(), m.group(3).lower()
  for c in (shape, texture):
    if c not in CATEGORIES:
      raise ValueError(f'image name {name!r}: unknown category {c!r}; '
                       f'expected one of {CATEGORIES}')
  return stim, shape, texture


@dataclasses.dataclass
class Observer:
  """The trials of one observer (human or model).

  Attributes:
    name: the `subj` value.
    source: file(s) the trials were read from.
    stimulus: [N] stimulus file names (e.g. 'cat1-elephant1.png').
    response: [N] chosen categories ('na' = no answer).
    shape: [N] shape (= correct) categories.
    texture: [N] texture categories parsed from the image names.
  """
  name: str
  source: str
  stimulus: list[str] = dataclasses.field(default_factory=list)
  response: list[str] = dataclasses.field(default_factory=list)
  shape: list[str] = dataclasses.field(default_factory=list)
  texture: list[str] = dataclasses.field(default_factory=list)

  @property
  def is_human(self) -> bool:
    """model-vs-human names human observers 'subject-XX'."""
    return self.name.startswith('subject-')


def _csv_files(paths: Iterable[str]) -> list[str]:
  files = []
  for p in paths:
    if os.path.isdir(p):
      found = sorted(os.path.join(p, f) for f in os.listdir(p)
                     if f.lower().endswith('.csv'))
      if not found:
        raise ValueError(f'{p}: directory contains no .csv response files')
      files += found
    elif os.path.isfile(p):
      files.append(p)
    else:
      raise ValueError(f'{p}: no such responses file or directory')
  return files


def read_responses(paths: str | Sequence[str]) -> dict[str, Observer]:
  """Reads response CSV files (or directories of them) into observers.

  Args:
    paths: file or directory paths; a directory contributes all its *.csv.

  Returns:
    {subj: Observer}, in order of first appearance.

  Raises:
    ValueError: naming file, line and value, for a missing column, an unknown
      category or response, an image name that does not parse, a category that
      disagrees with the image name, or an image seen twice by one observer.
  """
  if isinstance(paths, (str, os.PathLike)):
    paths = [os.fspath(paths)]
  observers: dict[str, Observer] = {}
  seen = collections.defaultdict(dict)
  for path in _csv_files(paths):
    with open(path, newline='') as f:
      reader = csv.DictReader(f)
      header = reader.fieldnames or []
      missing = [c for c in COLUMNS if c not in header]
      if missing:
        raise ValueError(f'{path}, line 1: missing column(s) {missing}; '
                         f'header is {header}, expected {list(COLUMNS)}')
      for row in reader:
        line = reader.line_num
        where = f'{path}, line {line}'
        subj = (row['subj'] or '').strip()
        if not subj:
          raise ValueError(f'{where}: empty subj')
        category = (row['category'] or '').strip()
        response = (row['object_response'] or '').strip()
        if category not in CATEGORIES:
          raise ValueError(f'{where}: unknown category {category!r}; '
                           f'expected one of {CATEGORIES}')
        if response not in CATEGORIES and response != NO_RESPONSE:
          raise ValueError(f'{where}: unknown object_response {response!r}; '
                           f"expected one of {CATEGORIES} or 'na'")
        try:
          stim, shape, texture = parse_stimulus_name(row['imagename'] or '')
        except ValueError as e:
          raise ValueError(f'{where}: {e}') from None
        if shape != category:
          raise ValueError(f'{where}: category {category!r} disagrees with '
                           f'the shape {shape!r} of image {stim!r}')
        if stim in seen[subj]:
          raise ValueError(f'{where}: image {stim!r} already answered by '
                           f'{subj!r} at {seen[subj][stim]}')
        seen[subj][stim] = where
        obs = observers.setdefault(subj, Observer(subj, path))
        if path not in obs.source.split(', '):
          obs.source += f', {path}'
        obs.stimulus.append(stim)
        obs.response.append(response)
        obs.shape.append(shape)
        obs.texture.append(texture)
  if not observers:
    raise ValueError(f'no trials in {list(paths)}')
  return observers


def accuracy(obs: Observer) -> float:
  return float(np.mean(np.array(obs.response) == np.array(obs.shape)))


def shape_bias_counts(obs: Observer, category: str | None = None):
  """Returns (shape hits, texture hits, cue-conflict trials).

  Args:
    obs: the observer.
    category: restrict to trials of this shape category (None: all).
  """
  r, s, t = (np.array(x) for x in (obs.response, obs.shape, obs.texture))
  keep = s != t
  if category is not None:
    keep &= s == category
  return (int(np.sum(keep & (r == s))), int(np.sum(keep & (r == t))),
          int(np.sum(keep)))


def shape_bias(obs: Observer, category: str | None = None) -> float:
  """Shape hits / (shape + texture hits); NaN without any cue hit."""
  n_shape, n_texture, _ = shape_bias_counts(obs, category)
  total = n_shape + n_texture
  return n_shape / total if total else float('nan')


def _correct_by_stimulus(obs: Observer) -> dict[str, bool]:
  return {st: r == s for st, r, s in zip(obs.stimulus, obs.response,
                                          obs.shape)}


def consistency(a: Observer, b: Observer) -> dict[str, float] | None:
  """Trial-by-trial agreement of a and b on their common stimuli.

  Returns:
    {'n_common', 'accuracy_difference' (acc_a - acc_b), 'observed_consistency',
    'expected_consistency', 'error_consistency' (Cohen's kappa)}, or None when
    they share no stimulus.
  """
  ca, cb = _correct_by_stimulus(a), _correct_by_stimulus(b)
  common = sorted(set(ca) & set(cb))
  if not common:
    return None
  x = np.array([ca[k] for k in common])
  y = np.array([cb[k] for k in common])
  p1, p2 = float(x.mean()), float(y.mean())
  c_exp = p1 * p2 + (1 - p1) * (1 - p2)
  c_obs = float(np.mean(x == y))
  kappa = 1.0 if c_obs == 1.0 else (c_obs - c_exp) / (1 - c_exp)
  return {'n_common': len(common), 'accuracy_difference': p1 - p2,
          'observed_consistency': c_obs, 'expected_consistency': c_exp,
          'error_consistency': kappa}


def _pool(observers: Sequence[Observer], name: str) -> Observer:
  pooled = Observer(name, ', '.join(o.source for o in observers))
  for o in observers:
    pooled.stimulus += o.stimulus
    pooled.response += o.response
    pooled.shape += o.shape
    pooled.texture += o.texture
  return pooled


def _per_category(obs: Observer) -> dict[str, float]:
  return {c: shape_bias(obs, c) for c in CATEGORIES}


def analyse(observers: dict[str, Observer],
            humans: dict[str, Observer] | None = None) -> dict:
  """Computes all metrics.

  Args:
    observers: the observers to report (humans and/or models).
    humans: the human reference observers; None: those observers whose name
      starts with 'subject-'.

  Returns:
    {'observers': {name: metrics}, 'humans': group metrics or None}. Metrics:
    n_trials, accuracy, shape_bias, fraction_shape/texture (over cue-conflict
    trials), per_category_shape_bias and, when humans exist, vs_humans: the
    mean over humans (other than itself) of accuracy_difference,
    squared_accuracy_difference (model-vs-human's), observed_consistency and
    error_consistency, with n_humans compared.
  """
  if humans is None:
    humans = {k: o for k, o in observers.items() if o.is_human}
  out = {'observers': {}, 'humans': None}
  for name, obs in observers.items():
    n_shape, n_texture, n_conflict = shape_bias_counts(obs)
    m = {'source': obs.source, 'n_trials': len(obs.stimulus),
         'n_cue_conflict': n_conflict, 'accuracy': accuracy(obs),
         'shape_bias': shape_bias(obs),
         'fraction_shape': n_shape / n_conflict if n_conflict else np.nan,
         'fraction_texture': n_texture / n_conflict if n_conflict else np.nan,
         'per_category_shape_bias': _per_category(obs)}
    pairs = [consistency(obs, h) for hn, h in humans.items() if hn != name]
    pairs = [p for p in pairs if p is not None]
    if pairs:
      mean = lambda k: float(np.mean([p[k] for p in pairs]))
      m['vs_humans'] = {
          'n_humans': len(pairs),
          'accuracy_difference': mean('accuracy_difference'),
          'squared_accuracy_difference': float(
              np.mean([p['accuracy_difference']**2 for p in pairs])),
          'observed_consistency': mean('observed_consistency'),
          'error_consistency': mean('error_consistency')}
    out['observers'][name] = m
  if humans:
    pooled = _pool(list(humans.values()), 'humans')
    individual = [shape_bias(h) for h in humans.values()]
    group = {'n_humans': len(humans),
             'shape_bias_pooled': shape_bias(pooled),
             'shape_bias_mean': float(np.nanmean(individual)),
             'accuracy_mean': float(np.mean([accuracy(h)
                                             for h in humans.values()])),
             'per_category_shape_bias': _per_category(pooled)}
    if len(humans) > 1:
      ec = [consistency(a, b) for i, a in enumerate(humans.values())
            for j, b in enumerate(humans.values()) if i < j]
      ec = [e['error_consistency'] for e in ec if e is not None]
      group['error_consistency_mean_pairwise'] = float(np.mean(ec))
    out['humans'] = group
  return out


def format_report(result: dict) -> str:
  """A plain-text table of `analyse` results."""
  lines = [f'{"observer":<28} {"trials":>6} {"acc":>6} {"shape":>6} '
           f'{"Δacc":>7} {"c_obs":>6} {"kappa":>6}']
  for name, m in result['observers'].items():
    v = m.get('vs_humans')
    vs = (f'{v["accuracy_difference"]:>7.3f} {v["observed_consistency"]:>6.3f}'
          f' {v["error_consistency"]:>6.3f}') if v else f'{"-":>7} {"-":>6} ' \
        f'{"-":>6}'
    lines.append(f'{name:<28} {m["n_trials"]:>6} {m["accuracy"]:>6.3f} '
                 f'{m["shape_bias"]:>6.3f} {vs}')
  g = result['humans']
  if g:
    lines.append(f'humans ({g["n_humans"]}): shape bias pooled '
                 f'{g["shape_bias_pooled"]:.4f}, mean of observers '
                 f'{g["shape_bias_mean"]:.4f}, accuracy '
                 f'{g["accuracy_mean"]:.4f}' + (
                     f', error consistency (pairwise mean) '
                     f'{g["error_consistency_mean_pairwise"]:.4f}'
                     if 'error_consistency_mean_pairwise' in g else ''))
  lines.append('per-category shape bias:')
  rows = list(result['observers'].items())
  if g:
    rows.append(('humans', g))
  lines.append(f'{"":<28} ' + ' '.join(f'{c[:6]:>6}' for c in CATEGORIES))
  for name, m in rows:
    lines.append(f'{name:<28} ' + ' '.join(
        f'{m["per_category_shape_bias"][c]:>6.2f}' for c in CATEGORIES))
  return '\n'.join(lines)


def plot_shape_bias(result: dict, path: str, individual_humans: bool = False):
  """Writes the per-category shape-bias figure (model-vs-human style).

  Categories on the y axis, fraction of 'shape' decisions on the x axis (top;
  'texture' = 1 - shape at the bottom), one marker series per observer and
  the humans as one group (red diamonds), vertical lines at each series'
  overall shape bias.

  Args:
    result: output of `analyse`.
    path: output image path (e.g. PNG).
    individual_humans: also plot each human observer (else only the group).
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  series = []
  for name, m in result['observers'].items():
    if name.startswith('subject-') and result['humans'] and (
        not individual_humans):
      continue
    series.append((name, m['per_category_shape_bias'], m['shape_bias']))
  g = result['humans']
  cats = list(CATEGORIES)
  if g:
    per = g['per_category_shape_bias']
    cats.sort(key=lambda c: -np.nan_to_num(per[c]))
  fig, ax = plt.subplots(figsize=(7, 8))
  y = np.arange(len(cats))
  markers = 'os^vP*Xh<>p'
  cmap = plt.get_cmap('tab10')
  for i, (name, per, avg) in enumerate(series):
    col = cmap(i % 10)
    ax.scatter([per[c] for c in cats], y, marker=markers[i % len(markers)],
               color=col, s=60, label=name, zorder=3, clip_on=False)
    ax.axvline(avg, color=col, lw=1)
  if g:
    per = g['per_category_shape_bias']
    ax.scatter([per[c] for c in cats], y, marker='D', color='#a51e37', s=70,
               label=f'humans (n={g["n_humans"]})', zorder=4, clip_on=False)
    ax.axvline(g['shape_bias_pooled'], color='#a51e37', lw=1.5)
  ax.set_yticks(y)
  ax.set_yticklabels(cats)
  ax.set_ylim(-0.5, len(cats) - 0.5)
  ax.set_xlim(0, 1)
  ax.invert_yaxis()
  ax.set_xlabel("Fraction of 'shape' decisions")
  top = ax.secondary_xaxis('top', functions=(lambda x: 1 - x,
                                             lambda x: 1 - x))
  top.set_xlabel("Fraction of 'texture' decisions")
  for k in range(len(cats) - 1):
    ax.axhline(k + 0.5, color='gray', ls=':', alpha=0.4)
  ax.legend(loc='lower left', fontsize=8, framealpha=0.8)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
