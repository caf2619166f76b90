"""Components updated in place: a vector local's (`v[k] += e`), a local
matrix's row and element (`m[r] *= s`, `m[r][c] /= e`), a local struct's
fields (`s.a += e`, `s.v[k] -= e`), and the thread's own InOut element's (`io[i].y += e`, `g[i, c][k] -= e`): hand-computed reference
values, the checker's rules at line and column, the Warp renderer's spelling
of `*=` on an element's component where the release refuses it, the
generator's draws of every kind, and agreement of warp-cpu and jax-cpu on
drawn programs. The hand-written program is
tests/programs/valid/component_updates.kernel; its renderings are goldens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drawn import drawn_with, findings_on_cpu_backends

from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.warp_release import WarpRelease
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse
from kernel_synth.grammar.errors import CheckError
from kernel_synth.grammar.sampling import draw_programs

VALID = Path(__file__).parent / "programs" / "valid" / "component_updates.kernel"


def test_reference_values_computed_by_hand():
    n, columns = 3, 2
    x = np.array([2.0, -1.0, 0.5], np.float32)
    io = np.arange(9, dtype=np.float32).reshape(n, 3)
    g = np.arange(n * columns * 3, dtype=np.float32).reshape(n, columns, 3)
    out = run_reference(parse(VALID.read_text()), None, {"x": x, "io": io, "g": g, "y": np.zeros(n, np.float32)}, n)
    for t in range(n):
        c = t + 1
        v = [1.0, 2.0, 3.0]
        v[min(c, 2)] += x[t]
        v[2] -= 0.5
        m = [[1.0, 2.0, 3.0], [4.0 * x[t], 5.0 * x[t], 6.0 * x[t]], [7.0 / 2.0, 8.0, 9.0]]
        m[0][2] += v[0]
        m[1][2] -= v[1]
        a, w = 3.0 * (1.0 + x[t]), [x[t], 0.0, 0.0]
        w[min(c, 2)] -= 2.0
        w = [0.5 * e for e in w]
        assert out["y"][t] == pytest.approx(sum(v) + m[1][1] + m[0][2] + m[2][0] + m[1][2] + a + w[0] * 10.0 + w[2] * 100.0, rel=1e-6)
        element = list(io[t])
        element[1] += x[t]
        element[min(c, 2)] -= 1.0
        element[0] *= 2.0
        assert out["io"][t].tolist() == pytest.approx(element)
        row = [list(r) for r in g[t]]
        row[1][2] += x[t]
        row[min(c, columns - 1)][min(t, 2)] -= v[2]
        assert out["g"][t].ravel().tolist() == pytest.approx(np.ravel(row).tolist())


HEAD = "@kernel\ndef k(x: In[array[float32]], o: Out[array[vec3]], io: InOut[array[vec3]]):\n    i = tid()\n"


@pytest.mark.parametrize(
    "body, rule, line, column",
    [
        ("    o[i].x += 1.0\n", "role", 4, 5),  # an update reads: an Out array's element is never read
        ("    io[clamp(i + 1, 0, len(io) - 1)].y -= x[i]\n", "race", 4, 8),  # another thread's element
        ("    io[i][i] += 1.0\n", "component", 4, 11),  # a computed component index must be proven below 3
        ("    io[i].x += io[i]\n", "operand-types", 4, 5),  # float32 += vec3
    ],
)
def test_rules_are_located_errors(body, rule, line, column):
    with pytest.raises(CheckError) as error:
        parse(HEAD + body)
    assert (error.value.rule, error.value.line, error.value.column) == (rule, line, column), str(error.value)


def test_products_on_an_elements_component_are_spelled_out_where_warp_refuses_them():
    program = parse(VALID.read_text())
    refusing, accepting = render_warp(program, release=WarpRelease("1.18.0")), render_warp(program, release=WarpRelease("1.17.0"))
    assert "io[i].x = io[i].x * 2.0" in refusing and "io[i].x *= 2.0" not in refusing
    assert "io[i].x *= 2.0" in accepting
    for source in (refusing, accepting):  # sums, and products on locals, keep their spelling
        assert "io[i].y += x[i]" in source and "m[1] *= x[i]" in source and "m[2][0] /= 2.0" in source


def _kind(target) -> str:
    if isinstance(target, A.Field) or isinstance(target.value, A.Field):
        return "field"
    if isinstance(target.value, A.ArrayRead):
        return "element"
    if getattr(target.value.ty, "is_matrix", False):
        return "matrix-row"
    if isinstance(target.value, (A.Component, A.ComponentAt)):
        return "matrix-element"
    return "vector-local"


def test_the_generator_updates_every_kind_of_component():
    kinds = set()
    for program in draw_programs(1500, seed=3):  # an InOut vector array (for `io[i].x += e`) is rare
        for node in (n for d in program.funcs + program.kernels for n in A.walk(d)):
            if isinstance(node, A.AugAssign) and isinstance(node.target, (A.Component, A.ComponentAt, A.Field)):
                kinds.add(_kind(node.target))
                if isinstance(node.target.value, A.ArrayRead):
                    assert node.target.value.array in {p.name for p in program.kernels[0].params}
    assert kinds == {"element", "matrix-row", "matrix-element", "vector-local", "field"}


@pytest.mark.compiler
def test_drawn_programs_agree_on_warp_cpu_and_jax_cpu():
    drawn = drawn_with("component-update", 300, seed=5, most=8)
    assert len(drawn) >= 6
    assert findings_on_cpu_backends(drawn) == [None] * (2 * len(drawn))
