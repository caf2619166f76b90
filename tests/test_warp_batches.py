"""A batch that fails to build: the programs to blame are found from the
native compiler's own diagnostics, so that one bad program costs one more
compile, not one per halving."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kernel_synth.backends.warp_backend import _culprits

GENERATED = """\
// header
static CUDA_CALLABLE wp::float32 f1_p2(
    wp::float32 var_a)
{
    return var_a;
}

void k0_p2_cpu_kernel_forward(
    wp::launch_bounds_t dim)
{
    goto for_end_4;
}

void k0_p7_5584adb_cpu_kernel_forward(
    wp::launch_bounds_t dim)
{
    wp::array_store(var_0, var_1);
}
"""


def test_errors_are_traced_to_the_function_and_program_they_lie_in(tmp_path):
    source = tmp_path / "kernel-cache" / "gen" / "wp_ks_batch_1_0.cpp"
    source.parent.mkdir(parents=True)
    source.write_text(GENERATED)
    diagnostics = "\n".join([
        f"{source}:11:18: error: use of undeclared label 'for_end_4'",
        "            goto for_end_4;",
        f"{source}:5:5: warning: unused",  # a warning blames no one
        f"{source}:17:5: error: no matching function for call to 'array_store'",
        f"{source}:11:3: error: a second error in program 2",
        f"{source}:1:1: error: in the header, no program's",
        "2 errors generated.",
    ])
    assert _culprits(diagnostics, tmp_path) == {2: "use of undeclared label 'for_end_4'", 7: "no matching function for call to 'array_store'"}
    # NVRTC's form, with a file name relative to where Warp wrote it
    assert _culprits("wp_ks_batch_1_0.cpp(4): error: identifier is undefined", tmp_path) == {2: "identifier is undefined"}
    assert _culprits("clang: error: no input files", tmp_path) == {}
    assert _culprits(f"{tmp_path}/missing.cpp:3:1: error: gone", tmp_path) == {}


@pytest.mark.compiler
@pytest.mark.skipif(importlib.util.find_spec("warp") is None, reason="warp-lang is not installed")
def test_a_native_build_failure_costs_one_more_compile(tmp_path):
    """A program Warp's CPU compiler rejects (a corpus case: an int64 atomic
    with an int32 loop variable on 1.19.0), among programs that build: two
    builds in all, the culprit's own error, every other program run."""
    from kernel_synth.backends.warp_backend import WarpCompiler
    from kernel_synth.backends.warp_release import installed
    from kernel_synth.grammar import ast as A
    from kernel_synth.grammar import parse
    from kernel_synth.grammar.sampling import draw_program
    from kernel_synth.grammar.weights import default_weights

    bad = parse("""
@kernel
def k0(acc0: Acc[array[int64]], out0: Out[array[int32]]):
    i = tid()
    for j1 in range(1):
        out0[i] = j1
        atomic_max(acc0, 0, int64(j1))
""")
    # five draws that build: none with a parallel assignment, which the known
    # aliasing bug of every release can make Warp refuse (corpora/)
    draws = (draw_program(0, i, default_weights()) for i in range(50))
    programs = [p for p in draws if not any(isinstance(n, A.Unpack) for n in A.walk(p))][:5]
    programs.insert(3, bad)
    compiler = WarpCompiler("cpu", tmp_path)
    builds = []
    build = compiler._build
    compiler._build = lambda module: (builds.append(module), build(module))[1]
    outcomes = compiler.compile(programs, launch=8, seed=0)
    if outcomes[3].ok:
        pytest.skip(f"warp-lang {installed()} builds this program")
    assert outcomes[3].message == "RuntimeError: CPU kernel build failed with error code -1: no matching function for call to 'array_store'"
    assert [o.ok for i, o in enumerate(outcomes) if i != 3] == [True] * 5
    assert len(builds) == 2
