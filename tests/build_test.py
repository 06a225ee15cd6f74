# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""BUILD is generated from the tree, must not be stale, and must build:
every dependency label names a target and the target graph is acyclic
(Bazel refuses cyclic targets)."""

import collections
import pathlib
import re
import tempfile

from absl.testing import absltest

from vit22b_pax.tools import gen_build

ROOT = pathlib.Path(__file__).resolve().parents[1]


def target_graph(text: str) -> dict[str, list[str]]:
  """{target name: [internal dependency labels ':name']} of a BUILD text."""
  graph = {}
  for m in re.finditer(r'^py_(?:library|test)\(\n    name = "([^"]+)",'
                       r'(.*?)^\)', text, re.S | re.M):
    if m.group(1) in graph:
      raise AssertionError(f'target {m.group(1)!r} is defined twice')
    graph[m.group(1)] = re.findall(r'^        "(:[^"]+)",', m.group(2),
                                   re.M)
  return graph


def unresolved(graph: dict[str, list[str]]) -> list[str]:
  """'target -> :label' for every label that names no target."""
  return [f'{name} -> {label}' for name, deps in sorted(graph.items())
          for label in deps if label[1:] not in graph]


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
  """Every cycle's targets (strongly connected components of more than one
  target, or a target depending on itself), Tarjan's algorithm without
  recursion; each as a path a -> b -> ... -> a through the component."""
  index, low, on_stack, stack, found = {}, {}, set(), [], []
  for root in sorted(graph):
    if root in index:
      continue
    work = [(root, 0)]
    while work:
      v, i = work.pop()
      if i == 0:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
      deps = [d[1:] for d in graph.get(v, ()) if d[1:] in graph]
      if i < len(deps):
        work.append((v, i + 1))
        w = deps[i]
        if w not in index:
          work.append((w, 0))
        elif w in on_stack:
          low[v] = min(low[v], index[w])
        continue
      if low[v] == index[v]:
        comp = []
        while True:
          w = stack.pop()
          on_stack.discard(w)
          comp.append(w)
          if w == v:
            break
        if len(comp) > 1 or f':{v}' in graph[v]:
          found.append(_cycle_path(graph, set(comp)))
      for parent, _ in work[-1:]:
        low[parent] = min(low[parent], low[v])
  return found


def _cycle_path(graph, comp: set[str]) -> list[str]:
  """A shortest closed path a -> ... -> a inside one strongly connected
  component (breadth-first from its first target back to it)."""
  start = min(comp)
  previous, todo = {}, collections.deque([start])
  while todo:
    v = todo.popleft()
    for w in sorted(d[1:] for d in graph[v]):
      if w == start:
        path = [v]
        while path[-1] != start:
          path.append(previous[path[-1]])
        return path[::-1] + [start]
      if w in comp and w not in previous:
        previous[w] = v
        todo.append(w)
  raise AssertionError(f'no cycle through {start}')


class BuildFileTest(absltest.TestCase):

  def test_build_is_up_to_date(self):
    self.assertEqual(
        (ROOT / 'BUILD').read_text(), gen_build.generate(),
        'BUILD is stale: run .venv/bin/python -m vit22b_pax.tools.gen_build')

  def test_every_module_and_test_has_a_target(self):
    srcs = set(re.findall(r'srcs = \["([^"]+)"\]', gen_build.generate()))
    for pkg in ('vit22b_pax', 'fiddle_configs', 'tests'):
      for path in sorted((ROOT / pkg).rglob('*.py')):
        rel = path.relative_to(ROOT).as_posix()
        self.assertIn(rel, srcs)
    tests = re.findall(r'py_test\(\n    name = "[^"]+",\n    srcs = \["([^"]+)"',
                       gen_build.generate())
    self.assertEqual(sorted(tests), sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / 'tests').rglob(
            '*_test.py')))

  def test_dependencies_come_from_imports(self):
    modules = gen_build._module_files()  # pylint: disable=protected-access
    internal, pip = gen_build.dependencies(
        'vit22b_pax/runtime/train_program.py', modules)
    self.assertEqual(internal, {':vit22b_pax_runtime_console',
                                ':vit22b_pax_runtime_guard',
                                ':vit22b_pax_runtime_mfu',
                                ':vit22b_pax_runtime_preemption'})
    self.assertEqual(pip, {'jax', 'numpy'})

  def test_unknown_package_is_an_error(self):
    with tempfile.NamedTemporaryFile('w', suffix='.py', dir=ROOT / 'tests',
                                     delete=True) as f:
      f.write('import somepackage_not_in_the_lock\n')
      f.flush()
      rel = pathlib.Path(f.name).relative_to(ROOT).as_posix()
      with self.assertRaisesRegex(ValueError, 'somepackage_not_in_the_lock'):
        gen_build.dependencies(rel, {})

  def test_requirements_come_from_the_lock_file(self):
    module = (ROOT / 'MODULE.bazel').read_text()
    self.assertIn('requirements_lock = "//:requirements-lock.txt"', module)
    locked = {
        line.split('==')[0].lower().replace('_', '-')
        for line in (ROOT / 'requirements-lock.txt').read_text().splitlines()
        if '==' in line and not line.startswith('#')
    }
    for req in set(gen_build.PIP_NAMES.values()):
      self.assertIn(req.lower().replace('_', '-'), locked)

  def test_every_dependency_resolves(self):
    graph = target_graph(gen_build.generate())
    self.assertGreater(len(graph), 100)
    self.assertEqual(unresolved(graph), [],
                     'dependency labels that name no target')

  def test_target_graph_is_acyclic(self):
    found = cycles(target_graph(gen_build.generate()))
    self.assertEqual(found, [], 'BUILD has import cycles (Bazel refuses '
                     'cyclic targets):\n' + '\n'.join(
                         ' -> '.join(c) for c in found))

  def test_graph_checks_find_cycles_and_dangling_labels(self):
    text = '\n'.join(
        f'py_library(\n    name = "{n}",\n    srcs = ["{n}.py"],\n'
        + ('    deps = [\n' + ''.join(f'        ":{d}",\n' for d in deps)
           + '        requirement("jax"),\n    ],\n' if deps else '')
        + ')' for n, deps in [('a', ['b']), ('b', ['c', 'x']), ('c', ['a']),
                              ('d', ['d']), ('e', ['a'])])
    graph = target_graph(text)
    self.assertEqual(graph['b'], [':c', ':x'])
    self.assertEqual(unresolved(graph), ['b -> :x'])
    self.assertEqual(cycles(graph), [['a', 'b', 'c', 'a'], ['d', 'd']])
    self.assertEqual(cycles({'a': [':b'], 'b': []}), [])

  def test_check_mode(self):
    self.assertEqual(gen_build.main(['--check']), 0)


if __name__ == '__main__':
  absltest.main()
