"""The jvp-vjp oracle: JAX's forward-mode derivative of a program's loss
along a direction against its reverse-mode gradient dotted with it; the
faulty JAX backend it must catch."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from faulty import assert_seen_by_alone
from profiles import with_float_call

from kernel_synth.backends.jvp_vjp import BOTH_FAIL, JVP_VJP_ROUNDINGS, NOT_FINITE, direction, tolerance, unit_roundoff, verdict
from kernel_synth.backends.outcome import JvpVjp, Outcome
from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.synth.corpus import read_case
from kernel_synth.synth.oracles import ORACLES, Oracle, judge, judge_jvp_vjp

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")

ALL = frozenset(ORACLES)
F32 = float(np.finfo(np.float32).eps)


def _ran(evidence: JvpVjp) -> Outcome:
    return Outcome("ok", "run", outputs={"o": np.zeros(4, np.float32)}, jvp=evidence)


def test_the_tolerance_is_roundings_on_the_magnitudes():
    evidence = JvpVjp(jvp=10.0, vjp=10.0, scale=20.0, eps=F32, fd=10.0)
    assert tolerance(evidence) == pytest.approx(JVP_VJP_ROUNDINGS * F32 * 20.0)
    # just inside and just outside it (finite differences siding with neither)
    inside = replace(evidence, vjp=10.0 + 0.9 * tolerance(evidence))
    assert verdict(inside) is None and judge("jax-cpu", _ran(inside), None, ALL) is None
    outside = replace(evidence, vjp=10.0 + 1.1 * tolerance(evidence), fd=math.nan)
    assert verdict(outside) == "unresolved"
    # the magnitude, not the result, sizes it: a sum that cancels to 0 keeps
    # the rounding of its terms
    cancelled = JvpVjp(jvp=0.0, vjp=1e-5, scale=1e3, eps=F32, fd=0.0)
    assert verdict(cancelled) is None
    # and the direction's size: reverse mode's rounding of a derivative that
    # cancels to zero (jax 0.4.30, seed 61: cross(x, c) . c / (s + 1),
    # forward mode 0, reverse 6.0e-8 on a magnitude of 6.0e-8, finite
    # differences 0 +- 0; v over one vec3, so sum |v| >= 0.75)
    cancelling = JvpVjp(jvp=0.0, vjp=5.960464477539063e-08, scale=5.96e-08, reach=0.75, eps=F32, fd=0.0, fd_error=0.0)
    assert tolerance(cancelling) == pytest.approx(JVP_VJP_ROUNDINGS * F32 * (5.96e-08 + 0.75))
    assert verdict(cancelling) is None
    assert verdict(replace(cancelling, reach=0.0)) == "vjp-differs"
    assert verdict(replace(cancelling, vjp=0.1)) == "vjp-differs"  # a wrong rule is no rounding
    # float64 programs are held to float64's epsilon
    wide = JvpVjp(jvp=1.0, vjp=1.0 + 1e-9, scale=1.0, eps=float(np.finfo(np.float64).eps), fd=math.nan)
    assert verdict(wide) == "unresolved"
    assert verdict(replace(wide, eps=F32)) is None


def test_finite_differences_name_the_odd_side():
    right = JvpVjp(jvp=2.0, vjp=2.0, scale=3.0, eps=F32, fd=2.001, fd_error=1e-4)
    assert verdict(right) is None
    assert verdict(replace(right, jvp=3.0)) == "jvp-differs"
    assert verdict(replace(right, vjp=-1.0)) == "vjp-differs"
    assert verdict(replace(right, jvp=3.0, vjp=5.0)) == "unresolved"  # neither near them
    # both near finite differences (a difference inside their rounding): unresolved, not blamed on one
    assert verdict(replace(right, jvp=2.0, vjp=2.01)) == "unresolved"
    # closer than finite differences' own rounding: nothing tells a wrong
    # rule from rounding inside the program (jax 0.10.2, seed 50: a
    # normalize whose Jacobian cancels, 1.0e-6 against 8.3e-7 on a magnitude
    # of 7.4e-6, finite differences -4.6e-5 +- 0.015)
    below = JvpVjp(jvp=1.0001821557636958e-06, vjp=8.274508767058819e-07, scale=7.38e-06, eps=F32, fd=-4.57763671875e-05, fd_error=0.015)
    assert verdict(below) is None
    assert verdict(replace(below, fd_error=1e-8, fd=1e-6)) == "vjp-differs"
    # and so where finite differences side with neither, stepping across
    # normalize's jump at zero (jax 0.10.2, seed 60: -7.5e-8 against -6.7e-8
    # on a magnitude of 3.7e-7, finite differences -128 +- 0.0021)
    across = JvpVjp(jvp=-7.450580596923828e-08, vjp=-6.705522537231445e-08, scale=3.65e-07, eps=F32, fd=-128.00000381469727, fd_error=0.00208)
    assert verdict(across) is None
    assert verdict(replace(across, fd_error=1e-9)) == "unresolved"
    # the finding's signature and message
    finding = judge("jax-cpu", _ran(replace(right, jvp=3.0)), None, ALL)
    assert finding.oracle is Oracle.JVP_VJP and finding.signature == "jax-cpu:jvp-vjp:jvp-differs"
    assert "forward mode gives 3.0" in finding.message and "reverse mode 2.0" in finding.message
    # the oracle off: nothing
    assert judge("jax-cpu", _ran(replace(right, jvp=3.0)), None, ALL - {"jvp-vjp"}) is None


def test_skipped_programs_are_no_finding_and_a_mode_that_raises_alone_is():
    for reason in (NOT_FINITE, BOTH_FAIL, "integer-only"):
        assert judge("jax-cpu", _ran(JvpVjp(jvp=1.0, vjp=5.0, scale=5.0, eps=F32, skipped=reason)), None, ALL) is None
    # a side that is not finite is never compared, even where the backend did not skip it
    assert verdict(JvpVjp(jvp=math.nan, vjp=1.0, scale=1.0, eps=F32)) is None
    failed = JvpVjp(failed="vjp", message="NotImplementedError: Transpose rule (for reverse-mode differentiation) for 'foo' not implemented at line 31")
    finding = judge_jvp_vjp("jax-cpu", _ran(failed), failed)
    assert finding.signature.startswith("jax-cpu:jvp-vjp:fails-vjp:NotImplementedError: Transpose rule"), finding.signature
    assert "31" not in finding.signature and finding.message.startswith("jvp ran, vjp failed")
    # an outcome that did not run is judged by the other oracles only
    assert judge_jvp_vjp("jax-cpu", Outcome("run_error", "run", "boom"), failed) is None


def test_the_direction_is_seeded_nonzero_and_on_a_quarter_grid():
    shapes = [((8,), np.dtype(np.float32)), ((8, 3), np.dtype(np.float64))]
    first, again, other = direction(shapes, 0), direction(shapes, 0), direction(shapes, 1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    for values, (shape, dtype) in zip(first, shapes):
        assert values.shape == shape and values.dtype == dtype
        assert np.all(values != 0) and np.all(np.abs(values) <= 1) and np.all(values * 4 == np.round(values * 4))


def test_the_unit_roundoff_is_float64s_only_for_a_float64_program():
    narrow = parse("@kernel\ndef k(x: In[array[float32]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = x[i] * 2.0\n")
    wide = parse("@kernel\ndef k(x: In[array[float64]], o: Out[array[float64]]):\n    i = tid()\n    o[i] = x[i] * float64(2.0)\n")
    mixed = parse("@kernel\ndef k(x: In[array[float64]], o: Out[array[float32]]):\n    i = tid()\n    o[i] = float32(x[i])\n")
    assert unit_roundoff(narrow) == F32 and unit_roundoff(mixed) == F32
    assert unit_roundoff(wide) == float(np.finfo(np.float64).eps)


def test_the_jvp_sample_is_its_own():
    from kernel_synth.backends.jax_backend import runs_eagerly

    programs = [draw_program(3, i) for i in range(200)]
    chosen = [runs_eagerly(p, 0.25, "jvp:") for p in programs]
    assert 0.15 < sum(chosen) / len(chosen) < 0.35
    assert chosen != [runs_eagerly(p, 0.25) for p in programs]  # not the jit-eager sample
    assert chosen != [runs_eagerly(p, 0.25, "loop:") for p in programs]  # nor the vmap-loop one


SIN_PROGRAM = """\
@kernel
def k(x: In[array[float32]], y: In[array[vec3]], o: Out[array[float32]], m: Out[array[int32]], tot: Acc[array[float32]], s: float32):
    i = tid()
    a = x[i] * s + 1.0
    b = dot(y[i], vec3(a, 1.0, -0.5))
    for j in range(3):
        b = b * 0.5 + sin(a * float32(j))
    m[i] = i * 2
    o[i] = b + length(y[i])
    atomic_add(tot, 0, a * b)
"""


@needs_jax
@pytest.mark.compiler
def test_jax_cpu_modes_agree_on_drawn_programs():
    """64 drawn programs on clean jax-cpu, each differentiated both ways: no
    finding, and most of those with float arrays compared."""
    from kernel_synth.backends.jax_backend import JVP_ORACLE_LIMIT, jax_cpu, thread_form

    programs = [parse(SIN_PROGRAM)] + [draw_program(11, i) for i in range(64)]
    outcomes = jax_cpu(jvp=1.0).compile(programs, launch=16)
    compared = moving = 0
    for program, outcome in zip(programs, outcomes):
        assert outcome.ok, outcome.message
        evidence = outcome.jvp
        launch = A.launch_of(program, 16)
        if thread_form(program.kernels[0], launch) != "vmap" or launch > JVP_ORACLE_LIMIT:
            assert evidence is None  # a launch too large for both modes' cost
            continue
        assert evidence is not None  # every other program, at share 1
        assert not evidence.failed, evidence.message
        assert judge_jvp_vjp("jax-cpu", outcome, evidence) is None, (evidence, program)
        if evidence.compared:
            compared += 1
            moving += evidence.scale > 0  # 0: the loss does not depend on the inputs
            assert math.isfinite(evidence.fd)
            assert abs(evidence.jvp - evidence.vjp) <= tolerance(evidence)
        else:
            assert evidence.skipped in ("integer-only", NOT_FINITE), evidence
    assert outcomes[0].jvp.compared
    assert compared >= 20 and moving >= 15, (compared, moving)
    assert all(o.jvp is None for o in jax_cpu().compile(programs[:2], launch=16))  # off unless asked


@needs_jax
@pytest.mark.compiler
def test_the_faulty_jax_backend_is_seen_by_jvp_vjp_alone(monkeypatch):
    # finite differences side with reverse mode: the fault is forward mode's
    assert_seen_by_alone(
        monkeypatch, "jvp-vjp:sin", "jvp-vjp", SIN_PROGRAM, SIN_PROGRAM.replace("sin(a * float32(j))", "a * float32(j)"), "faulty-jax-cpu:jvp-vjp:jvp-differs",
    )


@needs_jax
@pytest.mark.compiler
@pytest.mark.slow  # a minute's campaign: CI keeps to 30 minutes; run with -m slow
def test_a_campaign_counts_finds_and_shrinks_the_jvp_vjp_fault(tmp_path):
    corpus = tmp_path / "corpora"
    weights = tmp_path / "sin.toml"
    weights.write_text(with_float_call("sin", 30))
    run = subprocess.run(
        [
            sys.executable, "-m", "kernel_synth.synth.cli", "fuzz", "--budget", "40s", "--backend", "faulty-jax-cpu", "--seed", "1",
            "--workers", "1", "--jvp-share", "1", "--eager-share", "0", "--loop-share", "0", "--corpus", str(corpus),
            "--json", str(tmp_path / "s.json"), "--weights", str(weights),
        ],
        capture_output=True, text=True, timeout=300, env={**os.environ, "KERNEL_SYNTH_FAULTS": "jvp-vjp:sin"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert "jvp-vjp" in summary["oracles"] and summary["jvp_vjp"]["compared"]["faulty-jax-cpu"] > 0
    assert summary["jvp_vjp"]["share"] == 1.0 and summary["jvp_vjp"]["findings"] > 0
    signatures = {b["signature"]: b for b in summary["buckets"]}
    assert "faulty-jax-cpu:jvp-vjp:jvp-differs" in signatures, list(signatures)
    # the fault is forward mode's: finite differences side with reverse mode,
    # or, where their step crosses a branch (seed 1's program 37), with
    # neither; never with forward mode
    others = {s for s in signatures if ":jvp-vjp:" in s} - {"faulty-jax-cpu:jvp-vjp:jvp-differs", "faulty-jax-cpu:jvp-vjp:unresolved"}
    assert not others, others
    case = read_case(Path(signatures["faulty-jax-cpu:jvp-vjp:jvp-differs"]["corpus"][0]))
    assert any(isinstance(n, A.Call) and n.func == "sin" for n in A.walk(parse(case.text)))
    assert "jvp-vjp: forward mode compared with reverse mode" in run.stdout + run.stderr


@pytest.mark.parametrize("share", ["1.5", "-0.1", "half"])
def test_a_bad_jvp_share_is_exit_2(share, capsys):
    from kernel_synth.synth.cli import main

    with pytest.raises(SystemExit) as info:
        main(["fuzz", "--budget", "1m", "--backend", "jax-cpu", "--jvp-share", share])
    assert info.value.code == 2
    assert "is not a share between 0 and 1" in capsys.readouterr().err


def test_the_state_keeps_the_counts_across_a_resume():
    from kernel_synth.synth.campaign import State

    state = State(seed=3)
    state.jvp_compared = {"jax-cpu": 7}
    state.jvp_skipped = {"jax-cpu": {"integer-only": 2}}
    again = State.from_json(json.loads(json.dumps(state.to_json())))
    assert again.jvp_compared == {"jax-cpu": 7} and again.jvp_skipped == {"jax-cpu": {"integer-only": 2}}


def test_progress_shows_what_the_oracle_compared_and_skipped():
    import io

    from rich.console import Console

    from kernel_synth.synth.progress import CampaignDisplay

    class Config:
        backends = ("jax-cpu",)

    progress = {
        "programs": 64, "rate": 6.0, "findings": 0, "buckets": 0, "unrecognised": 0, "left": 40, "elapsed": 20,
        "compiled": {"jax-cpu": 64}, "jvp_compared": {"jax-cpu": 11}, "jvp_skipped": {"jax-cpu": {"integer-only": 5}},
        "jvp_share": 0.25, "top_buckets": [], "history": [],
    }
    display = CampaignDisplay(Config(), io.StringIO())
    display.last = progress
    assert "jax-cpu 11 jvp-vs-vjp" in display._line(progress)
    out = io.StringIO()
    Console(file=out, width=160).print(display._panel())
    assert "jvp-vjp (jax-cpu)" in out.getvalue() and "not sampled: 75% of programs; integer-only: 5" in out.getvalue()
    summary = io.StringIO()
    CampaignDisplay(Config(), summary).print_summary({
        "programs": 64, "wall_seconds": 20, "throughput": 3.2, "compiled": {"jax-cpu": 64}, "findings": {}, "buckets": [],
        "shrink": {"count": 0}, "jvp_vjp": {"share": 0.25, "compared": {"jax-cpu": 11}, "not_compared": {"jax-cpu": {"integer-only": 5}}, "findings": 0},
    })
    assert "jvp-vjp: forward mode compared with reverse mode for jax-cpu 11 programs (share 0.25), 0 findings; not compared: jax-cpu integer-only: 5" in summary.getvalue()
