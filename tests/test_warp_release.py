"""The Warp release table: the renderer's spellings for older releases, and
the installed release measured against what the table claims for it."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.inputs import make_inputs
from kernel_synth.backends.warp_release import FEATURES, NEWEST, ReleaseTooOld, WarpRelease, installed
from kernel_synth.backends.warp_render import render_warp
from kernel_synth.grammar import parse

DIVISION = """
@kernel
def k0(x: In[array[int32]], y: In[array[int64]], out: Out[array[int32]], out2: Out[array[int64]], f: Out[array[float32]]):
    i = tid()
    out[i] = x[i] // clamp(x[clamp(i + 1, 0, len(x) - 1)], -5, 5) // 3 if x[i] != 0 else x[i] // -2
    out2[i] = y[i] // int64(-3)
    f[i] = 1.0 if x[i] > 0 else 2.0
"""


def test_release_order_and_features():
    old, new = WarpRelease("1.4.1"), WarpRelease("1.18.0")
    assert old < new < NEWEST and WarpRelease("1.10.0") > WarpRelease("1.9.1")
    assert not old.has("conditional_expressions") and new.has("conditional_expressions") and new.has("floor_division")
    assert not WarpRelease("1.17.0").has("floor_division")
    assert all(NEWEST.has(name) for name in FEATURES)
    with pytest.raises(ReleaseTooOld, match=r"needs warp-lang >= 1\.12\.0 .*1\.8\.0 is installed"):
        WarpRelease("1.8.0").require("driverless_nvrtc", "warp-cuda")


def test_the_newest_spelling_is_plain_python():
    source = render_warp(parse(DIVISION))
    assert " // " in source and " if " in source and "floordiv" not in source and "wp.select" not in source
    assert render_warp(parse(DIVISION), release=WarpRelease("1.18.0")) == source


def test_older_releases_get_equivalent_spellings():
    source = render_warp(parse(DIVISION), release=WarpRelease("1.4.1"))
    assert "wp.select(x[i] > 0, 2.0, 1.0)" in source and " if " not in source.split("def k0")[1]
    assert "def floordiv_int32(" in source and "def floordiv_int64(" in source
    assert "floordiv_int64(y[i], wp.int64(-3))" in source
    compile(source, "old.py", "exec")  # valid Python for the older Warp to parse


# quaternion components by name and negation: spelled `q[k]` and `q * -1.0`
# before 1.8.0 (no component store: 1.0.2 to 1.2.0 have none)
QUATERNIONS = """
@kernel
def k0(x: In[array[quat]], out: Out[array[quat]], f: Out[array[float32]]):
    i = tid()
    q = -x[i] * quat(0.0, 1.0, 0.0, 0.0)
    out[i] = -q + quat_identity() * q.w
    f[i] = q.x - x[i].z
"""


@pytest.mark.compiler
@pytest.mark.skipif(importlib.util.find_spec("warp") is None, reason="warp-lang is not installed")
@pytest.mark.parametrize("source", [DIVISION, QUATERNIONS], ids=["division", "quaternions"])
def test_the_installed_release_behaves_as_the_table_says(tmp_path, source):
    """Each spelling the renderer picks for this release compiles and
    computes what the reference does; run on each release in the matrix."""
    from kernel_synth.backends.warp_backend import WarpCompiler

    program = parse(source)
    compiler = WarpCompiler("cpu", tmp_path)
    (outcome,) = compiler.compile([program], launch=16, seed=3)
    assert outcome.ok, outcome.message
    kernel = program.kernels[0]
    expected = run_reference(program, kernel.name, make_inputs(kernel, 16, 3), 16)
    for name, values in outcome.outputs.items():
        np.testing.assert_array_equal(values, expected[name], err_msg=f"{name} on warp-lang {installed()}")


@pytest.mark.compiler
@pytest.mark.skipif(importlib.util.find_spec("warp") is None, reason="warp-lang is not installed")
def test_generic_and_overloaded_helpers_on_the_installed_release(tmp_path):
    """tests/programs/valid/generics.kernel (a generic helper at float32,
    float64, int32 and vec3, a generic calling a generic, overloads by type
    and by arity) compiles and computes what the reference does on a release
    the table credits with both features, and is unsupported on one it does not."""
    from pathlib import Path

    from kernel_synth.backends.errors import Unsupported
    from kernel_synth.backends.warp_backend import WarpCompiler

    program = parse((Path(__file__).parent / "programs" / "valid" / "generics.kernel").read_text())
    release = installed()
    if not (release.has("generic_helpers") and release.has("overloaded_helpers")):
        with pytest.raises(Unsupported):
            render_warp(program, release=release)
        return
    (outcome,) = WarpCompiler("cpu", tmp_path).compile([program], launch=16, seed=5)
    assert outcome.ok, outcome.message
    kernel = program.kernels[0]
    expected = run_reference(program, kernel.name, make_inputs(kernel, 16, 5), 16)
    assert set(outcome.outputs) >= {"y", "w", "z"}
    for name, values in outcome.outputs.items():
        np.testing.assert_allclose(values, expected[name], rtol=1e-5, err_msg=f"{name} on warp-lang {release}")
