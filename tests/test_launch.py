"""Launch sizes as part of the program: `@kernel(launch=N)`.

The syntax and its checks are in test_parser_checker's tables; here: what
the generator draws, the reference's sampled runs of large launches and how
the forward oracle compares them, the shrink pass that makes a launch
smaller, and (with compilers) the backends running a kernel on its own size.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from faulty import assert_seen_by_alone

from kernel_synth.backends.compare import ACC_TOLERANCE_BASE, acc_scales, compare_outputs
from kernel_synth.backends.inputs import make_inputs
from kernel_synth.backends.outcome import Outcome, Stage, Status
from kernel_synth.backends.reference import run_reference
from kernel_synth.backends.reference_backend import REFERENCE_FULL_LIMIT, SAMPLE_EDGE, SAMPLE_SIZE, ReferenceBackend, sample_threads
from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar.ops import LAUNCH_DECADES, MAX_LAUNCH, launch_decade
from kernel_synth.grammar.productions import productions
from kernel_synth.grammar.sampling import draw_program, draw_programs
from kernel_synth.shrink import shrink
from kernel_synth.shrink.passes import shrink_launch
from kernel_synth.synth.corpus import read_case
from kernel_synth.synth.oracles import ORACLES, Oracle, judge

PROGRAM = """\
@kernel(launch={n})
def k0(x: In[array[float32]], y: Out[array[float32]], io: InOut[array[int32]], tot: Acc[array[float32]]):
    i = tid()
    y[i] = x[i] * 2.0 + x[clamp(i + 1, 0, len(x) - 1)]
    io[i] = io[i] + i % 7
    atomic_add(tot, 0, x[i])
"""


def program(n: int | None) -> A.Program:
    text = PROGRAM.format(n=n) if n is not None else PROGRAM.replace("@kernel(launch={n})", "@kernel")
    return parse(text)


def with_launch(p: A.Program, n: int | None) -> A.Program:
    return replace(p, kernels=(replace(p.kernels[0], launch=n),))


# -- the language


def test_launch_round_trips_and_none_keeps_the_old_meaning():
    p = program(4099)
    assert p.kernels[0].launch == 4099 and A.launch_of(p, 16) == 4099
    assert print_program(p).startswith("@kernel(launch=4099)\n")
    assert parse(print_program(p)) == p
    bare = program(None)
    assert bare.kernels[0].launch is None and A.launch_of(bare, 16) == 16
    assert print_program(bare).startswith("@kernel\n")
    assert bare != p and with_launch(bare, 4099) == p


def test_drawn_programs_carry_launch_sizes_from_every_decade():
    programs = list(draw_programs(300, seed=5))
    sizes = [p.kernels[0].launch for p in programs]
    assert all(s is not None and 1 <= s <= MAX_LAUNCH for s in sizes)
    assert {launch_decade(s) for s in sizes} == set(LAUNCH_DECADES)
    assert max(sizes) / min(sizes) >= 10**4
    # odd sizes dominate: most launches leave a remainder for any vector width
    assert sum(s % 2 for s in sizes) > 0.6 * len(sizes)
    assert sum(s % 16 == 0 for s in sizes) < 0.1 * len(sizes)
    # arrays are as long as the launch: every tile a kernel loads fits in them
    tiled = [p for p in programs if any(isinstance(n, A.TileLoad) for n in A.walk(p.kernels[0]))]
    assert tiled and all(n.size <= p.kernels[0].launch for p in tiled for n in A.walk(p.kernels[0]) if isinstance(n, A.TileLoad))
    # the productions the coverage tables count name the decade
    for p in programs[:20]:
        assert ("launch_size", launch_decade(p.kernels[0].launch)) in productions(p)
    # and the printed programs parse back to themselves, launch included
    for p in programs[:20]:
        assert parse(print_program(p)) == p


def test_decades_tile_the_launch_range():
    bounds = list(LAUNCH_DECADES.values())
    assert bounds[0][0] == 1 and bounds[-1][1] == MAX_LAUNCH
    assert all(hi + 1 == lo for (_, hi), (lo, _) in zip(bounds, bounds[1:]))
    with pytest.raises(ValueError):
        launch_decade(MAX_LAUNCH + 1)


# -- the reference on large launches


def test_sample_is_deterministic_and_keeps_the_edges():
    assert sample_threads(REFERENCE_FULL_LIMIT, 0, "k0") is None
    n = 50_001
    sample = sample_threads(n, 3, "k0")
    assert sample == sample_threads(n, 3, "k0")
    assert sample != sample_threads(n, 4, "k0") and sample != sample_threads(n, 3, "k1")
    assert len(sample) == SAMPLE_SIZE and list(sample) == sorted(set(sample))
    assert set(range(SAMPLE_EDGE)) | set(range(n - SAMPLE_EDGE, n)) <= set(sample)
    assert all(0 <= t < n for t in sample)


def test_sampled_reference_is_exact_on_the_threads_it_ran():
    n = 1000
    p = program(n)
    kernel = p.kernels[0]
    outcome = ReferenceBackend().compile([p], launch=16, seed=2)[0]
    assert outcome.ok and outcome.threads == sample_threads(n, 2, kernel.name)
    # the Acc array is left out, and the reason recorded
    assert "tot" not in outcome.outputs and "sample" in outcome.not_compared["tot"]
    full = run_reference(p, kernel.name, make_inputs(kernel, n, 2), n)
    rows = list(outcome.threads)
    for name in ("y", "io"):
        assert outcome.outputs[name].shape == full[name].shape == (n,)
        np.testing.assert_array_equal(outcome.outputs[name][rows], full[name][rows])
    # a small launch runs every thread and keeps its Acc array
    small = ReferenceBackend().compile([program(40)], seed=2)[0]
    assert small.threads is None and "tot" in small.outputs and not small.not_compared


def test_forward_oracle_compares_only_what_the_reference_computed():
    n = 1000
    p = program(n)
    reference = ReferenceBackend().compile([p], seed=0)[0]
    full = run_reference(p, "k0", make_inputs(p.kernels[0], n, 0), n)
    right = {name: full[name] for name in ("y", "io", "tot")}
    oracles = frozenset(ORACLES)
    assert judge("warp-cpu", Outcome(Status.OK, Stage.RUN, outputs=right), reference, oracles) is None
    unsampled = next(t for t in range(n) if t not in reference.threads)
    off_sample = {**right, "y": right["y"].copy()}
    off_sample["y"][unsampled] += 1
    assert judge("warp-cpu", Outcome(Status.OK, Stage.RUN, outputs=off_sample), reference, oracles) is None
    # the Acc array is not compared on a sampled launch, however wrong
    acc = {**right, "tot": right["tot"] + 100}
    assert judge("warp-cpu", Outcome(Status.OK, Stage.RUN, outputs=acc), reference, oracles) is None
    last = {**right, "y": right["y"].copy()}
    last["y"][n - 1] += 1
    found = judge("warp-cpu", Outcome(Status.OK, Stage.RUN, outputs=last), reference, oracles)
    assert found is not None and found.oracle is Oracle.FORWARD and f"y[{n - 1}]" in found.message


def test_compare_outputs_maps_sampled_rows_back_and_scales_tolerance():
    want = {"a": np.zeros(10, np.float32)}
    got = {"a": np.zeros(10, np.float32)}
    got["a"][7] = 1.0
    assert compare_outputs(want, got, threads=(0, 1, 2))  == []
    (mismatch,) = compare_outputs(want, got, threads=(2, 7))
    assert mismatch.index == (7,)
    near = {"a": np.full(10, 5e-4, np.float32)}
    assert compare_outputs(want, near)
    assert compare_outputs(want, near, scales={"a": 8.0}) == []


def test_acc_tolerance_grows_with_the_square_root_of_the_launch():
    kernel = program(16).kernels[0]
    assert acc_scales(kernel, ACC_TOLERANCE_BASE) == {}
    scales = acc_scales(kernel, 64 * ACC_TOLERANCE_BASE)
    assert scales == {"tot": pytest.approx(8.0)}  # only the float Acc array


# -- shrinking


def test_shrink_keeps_a_launch_above_the_size_a_failure_needs():
    p = program(50_001)
    result = shrink(p, lambda q: q.kernels[0].launch > 4096)
    assert result.program.kernels[0].launch == 4097
    result = shrink(p, lambda q: q.kernels[0].launch > 10 and "atomic_add" in print_program(q))
    assert result.program.kernels[0].launch == 11


def test_shrink_launch_proposes_only_smaller_sizes():
    p = program(1000)
    sizes = [q.kernels[0].launch for q in shrink_launch(p)]
    assert sizes == sorted(sizes) and sizes[0] == 1 and max(sizes) < 1000 and 500 in sizes and 999 in sizes
    assert list(shrink_launch(program(None))) == [] and list(shrink_launch(program(1))) == []


# -- backends (compilers)

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
needs_warp = pytest.mark.skipif(importlib.util.find_spec("warp") is None, reason="warp-lang is not installed")

FLOOR_PROGRAM = """\
@kernel(launch=37)
def k(x: In[array[float32]], o: Out[array[float32]], tot: Acc[array[float32]], c: Acc[array[int32]]):
    i = tid()
    o[i] = floor(x[i]) + 0.5
    atomic_add(tot, clamp(i % 4, 0, len(tot) - 1), x[i])
    atomic_max(c, 0, i)
"""


@needs_jax
@pytest.mark.compiler
def test_jax_thread_forms_agree_and_large_acc_launches_run_as_a_loop():
    from kernel_synth.backends.jax_backend import VMAP_ACC_LIMIT, jax_cpu, thread_form
    from kernel_synth.backends.jax_render import render_jax
    from kernel_synth.synth.oracles import judge_vmap_loop

    programs = [parse(FLOOR_PROGRAM)] + [with_launch(draw_program(13, i), 1 + 7 * i) for i in range(8)]
    backend = jax_cpu(loop=1.0)
    for p, outcome in zip(programs, backend.compile(programs)):
        assert outcome.ok, outcome.message
        assert outcome.looped is not None and outcome.looped.ok, outcome.looped
        assert judge_vmap_loop("jax-cpu", outcome, outcome.looped) is None
        n = p.kernels[0].launch
        assert all(len(v) == n for v in outcome.outputs.values())  # the kernel's own launch size
    assert all(o.looped is None for o in jax_cpu().compile(programs[:2]))  # off unless asked
    big = with_launch(parse(FLOOR_PROGRAM), 20_001)
    assert thread_form(big.kernels[0], 20_001) == "loop" and thread_form(big.kernels[0], VMAP_ACC_LIMIT) == "vmap"
    assert "fori_loop" in render_jax(big, "loop") and "jax.vmap" not in render_jax(big, "loop")
    (outcome,) = backend.compile([big])
    assert outcome.ok and outcome.looped is None  # the loop form ran it: no second form to compare
    x = make_inputs(big.kernels[0], 20_001, 0)["x"]
    assert outcome.outputs["c"][0] == 20_000
    np.testing.assert_allclose(outcome.outputs["tot"][:4], [x[k::4].astype(np.float64).sum() for k in range(4)], rtol=1e-4, atol=1e-2)
    reference = ReferenceBackend().compile([big])[0]
    assert judge("jax-cpu", outcome, reference, frozenset(ORACLES)) is None


@needs_jax
@pytest.mark.compiler
def test_the_faulty_jax_backend_is_seen_by_vmap_loop_alone(monkeypatch):
    assert_seen_by_alone(
        monkeypatch, "vmap-loop:floor", "vmap-loop", FLOOR_PROGRAM, FLOOR_PROGRAM.replace("floor(x[i])", "x[i]"), "faulty-jax-cpu:vmap-loop:float-value",
    )


@needs_warp
@pytest.mark.compiler
def test_warp_and_jax_agree_on_a_large_launch_with_atomics(tmp_path):
    from kernel_synth.backends.jax_backend import jax_cpu
    from kernel_synth.backends.warp_backend import warp_cpu

    big = with_launch(parse(FLOOR_PROGRAM), 20_001)
    (warp,) = warp_cpu(tmp_path).compile([big], launch=16)
    (jax,) = jax_cpu().compile([big], launch=16)
    assert warp.ok and jax.ok, (warp.message, jax.message)
    assert warp.outputs["o"].shape == (20_001,)
    assert compare_outputs(warp.outputs, jax.outputs, scales=warp.scales) == []
    assert warp.scales == jax.scales == acc_scales(big.kernels[0], 20_001)


@needs_jax
@pytest.mark.compiler
@pytest.mark.slow  # a minute's campaign: CI keeps to 30 minutes; run with -m slow
def test_a_jax_campaign_finds_shrinks_and_stores_a_fault_of_large_launches(tmp_path):
    """faulty-jax-cpu with `launch-above:4096`: the jitted run's last thread
    is wrong only on launches of more than 4096 threads; a short campaign
    finds it and stores a case that keeps its launch above that size."""
    corpus = tmp_path / "corpora"
    run = subprocess.run(
        [
            sys.executable, "-m", "kernel_synth.synth.cli", "fuzz", "--budget", "60s", "--backend", "faulty-jax-cpu", "--seed", "1",
            "--workers", "1", "--oracles", "forward", "--corpus", str(corpus), "--json", str(tmp_path / "s.json"),
        ],
        capture_output=True, text=True, timeout=300, env={**os.environ, "KERNEL_SYNTH_FAULTS": "launch-above:4096"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads((tmp_path / "s.json").read_text())
    signatures = {b["signature"]: b for b in summary["buckets"]}
    assert list(signatures) == ["faulty-jax-cpu:forward:float-value"], list(signatures)
    case = read_case(Path(signatures["faulty-jax-cpu:forward:float-value"]["corpus"][0]))
    assert case.header.shrunk, case.text
    assert 4096 < parse(case.text).kernels[0].launch < 8192
    assert case.header.size_after < case.header.size_before


@needs_warp
@pytest.mark.compiler
def test_a_campaign_finds_shrinks_and_stores_a_fault_of_large_launches(tmp_path):
    """faulty-warp-cpu with `launch-above:4096` is wrong only on launches of
    more than 4096 threads: a short campaign finds it, and the stored case
    keeps a launch above that size (the shrink pass gets as close as 4097)."""
    corpus = tmp_path / "corpora"
    run = subprocess.run(
        [
            sys.executable, "-m", "kernel_synth.synth.cli", "fuzz", "--budget", "45s", "--backend", "faulty-warp-cpu", "--seed", "1",
            "--workers", "1", "--oracles", "forward", "--corpus", str(corpus), "--json", str(tmp_path / "s.json"),
        ],
        capture_output=True, text=True, timeout=300, env={**os.environ, "KERNEL_SYNTH_FAULTS": "launch-above:4096"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert set(summary["launch_sizes"]) == set(LAUNCH_DECADES)
    partly = summary["forward"]["faulty-warp-cpu"]["partly_compared"]
    assert any("sampled threads" in reason for reason in partly)
    signatures = {b["signature"]: b for b in summary["buckets"]}
    assert list(signatures) == ["faulty-warp-cpu:forward:float-value"], list(signatures)
    case = read_case(Path(signatures["faulty-warp-cpu:forward:float-value"]["corpus"][0]))
    assert case.header.shrunk, case.text
    program = parse(case.text)
    assert 4096 < program.kernels[0].launch < 8192
    assert case.header.size_after < case.header.size_before
    # replay runs the case on its own launch size: failing while the fault
    # is there, fixed without it
    replay = [sys.executable, "-m", "kernel_synth.synth.cli", "replay", str(case.path.parent)]
    faulty = subprocess.run(replay, capture_output=True, text=True, timeout=300, env={**os.environ, "KERNEL_SYNTH_FAULTS": "launch-above:4096"})
    assert faulty.returncode == 1, faulty.stdout + faulty.stderr[-2000:]
    fixed = subprocess.run(replay, capture_output=True, text=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "KERNEL_SYNTH_FAULTS"})
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr[-2000:]
