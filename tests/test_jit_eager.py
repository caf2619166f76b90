"""The jit-eager oracle: a JAX program's jitted outputs against the same
rendering run op by op; the faulty JAX backend it must catch."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from profiles import with_float_call

from kernel_synth.backends.outcome import Outcome
from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.synth.corpus import read_case
from kernel_synth.synth.oracles import ORACLES, Oracle, judge, judge_jit_eager

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")

ALL = frozenset(ORACLES)


def _ran(**outputs) -> Outcome:
    return Outcome("ok", "run", outputs={name: np.asarray(values) for name, values in outputs.items()})


def _jitted(eager: Outcome, **outputs) -> Outcome:
    return Outcome("ok", "run", outputs={name: np.asarray(values) for name, values in outputs.items()}, eager=eager)


def test_the_oracle_on_hand_made_pairs():
    f32 = np.float32
    eager = _ran(o=np.array([1.0, 2.0, np.nan], f32), n=np.array([3, -4], np.int32))
    # a few ulps apart (what fusion and reassociation may do), NaN for NaN: agreement
    close = _jitted(eager, o=np.array([1.0 + 2e-7, 2.0 - 4e-7, np.nan], f32), n=np.array([3, -4], np.int32))
    assert judge_jit_eager("jax-cpu", close, eager) is None
    assert judge("jax-cpu", close, None, ALL) is None
    # an integer one apart: integers are exact under jit
    int_off = _jitted(eager, o=eager.outputs["o"], n=np.array([3, -3], np.int32))
    finding = judge("jax-cpu", int_off, None, ALL)
    assert finding.oracle is Oracle.JIT_EAGER and finding.signature == "jax-cpu:jit-eager:int-value"
    assert "n[1]: expected -4, got -3" in finding.message
    # a number where the eager run gave NaN
    nan_lost = _jitted(eager, o=np.array([1.0, 2.0, 0.0], f32), n=eager.outputs["n"])
    assert judge_jit_eager("jax-cpu", nan_lost, eager).signature == "jax-cpu:jit-eager:nan"
    # a float beyond the tolerance
    far = _jitted(eager, o=np.array([1.0, 2.5, np.nan], f32), n=eager.outputs["n"])
    assert judge_jit_eager("jax-cpu", far, eager).signature == "jax-cpu:jit-eager:float-value"
    # the oracle off, or no eager run: nothing to judge
    assert judge("jax-cpu", far, None, ALL - {"jit-eager"}) is None
    assert judge("jax-cpu", _ran(o=far.outputs["o"]), None, ALL) is None


def test_an_eager_run_that_raises_is_a_finding_with_its_normalised_error():
    failed = Outcome("run_error", "run", "TracerArrayConversionError: called on traced array with shape int32[] at line 31")
    jitted = _jitted(failed, o=np.array([1.0], np.float32))
    finding = judge("jax-cpu", jitted, None, ALL)
    assert finding.signature.startswith("jax-cpu:jit-eager:fails-eager:TracerArrayConversionError")
    assert "31" not in finding.signature  # numbers are the program's, not the bug's


def test_the_forward_oracle_judges_first_and_says_which_run_the_reference_sides_with():
    """A program the reference faults keeps its forward signature whether or
    not it was run eagerly (a campaign samples, a shrink runs every
    candidate): only the message says the eager run agrees."""
    reference = _ran(o=np.array([1.0, 2.0], np.float32))
    jitted = _jitted(reference, o=np.array([1.0, 3.0], np.float32))
    finding = judge("jax-cpu", jitted, reference, ALL)
    assert finding.signature == "jax-cpu:forward:float-value"
    assert "eager run agrees with the reference: jit only" in finding.message
    unsampled = _ran(o=jitted.outputs["o"])
    assert judge("jax-cpu", unsampled, reference, ALL).signature == finding.signature


def test_the_eager_sample_is_chosen_by_the_program_and_near_its_share():
    from kernel_synth.backends.jax_backend import runs_eagerly

    programs = [draw_program(3, i) for i in range(200)]
    chosen = [runs_eagerly(p, 0.25) for p in programs]
    assert chosen == [runs_eagerly(p, 0.25) for p in programs]  # the same program, the same choice
    assert 0.15 < sum(chosen) / len(chosen) < 0.35
    assert all(runs_eagerly(p, 1.0) for p in programs) and not any(runs_eagerly(p, 0.0) for p in programs)
    # a smaller share picks a subset of a larger one's programs
    assert all(runs_eagerly(p, 0.5) for p, c in zip(programs, chosen) if c)


FLOOR_PROGRAM = """\
@kernel
def k(x: In[array[float32]], o: Out[array[float32]], m: Out[array[int32]], s: float32):
    i = tid()
    a = x[i] * s + 1.0
    b = a - 2.0
    for j in range(3):
        b = b + float32(j)
    m[i] = i * 2
    o[i] = floor(x[i]) + b
"""


@needs_jax
@pytest.mark.compiler
def test_jax_cpu_runs_eagerly_where_asked_and_the_runs_agree():
    from kernel_synth.backends.jax_backend import EAGER_ORACLE_LIMIT, jax_cpu, thread_form

    programs = [parse(FLOOR_PROGRAM)] + [draw_program(11, i) for i in range(6)]
    eager = jax_cpu(eager=1.0).compile(programs, launch=16)
    ran = 0
    for program, outcome in zip(programs, eager):
        assert outcome.ok, outcome.message
        launch = A.launch_of(program, 16)
        if thread_form(program.kernels[0], launch) != "vmap" or launch > EAGER_ORACLE_LIMIT:
            assert outcome.eager is None  # op by op, a launch this large takes minutes
            continue
        assert outcome.eager is not None and outcome.eager.ok, outcome.eager
        assert set(outcome.eager.outputs) == set(outcome.outputs)
        assert judge_jit_eager("jax-cpu", outcome, outcome.eager) is None
        ran += 1
    assert ran >= 4, ran
    assert all(o.eager is None for o in jax_cpu().compile(programs[:2], launch=16))  # off unless asked


@needs_jax
@pytest.mark.compiler
def test_the_faulty_jax_backend_is_seen_by_jit_eager_alone(monkeypatch):
    from kernel_synth.synth.triage import Launch, Triage

    monkeypatch.setenv("KERNEL_SYNTH_FAULTS", "jit-eager:floor")
    with Triage(ALL, Launch(threads=8)) as triage:
        finding = triage.first_finding("faulty-jax-cpu", parse(FLOOR_PROGRAM))
        assert finding is not None and finding.signature == "faulty-jax-cpu:jit-eager:float-value"
        assert triage.confirm(finding, parse(FLOOR_PROGRAM)) == finding
        assert triage.first_finding("faulty-jax-cpu", parse(FLOOR_PROGRAM.replace("floor(x[i])", "x[i]"))) is None
    with Triage(ALL - {"jit-eager"}, Launch(threads=8)) as triage:
        assert triage.first_finding("faulty-jax-cpu", parse(FLOOR_PROGRAM)) is None  # the forward oracle cannot see it
    # a campaign's judge that runs no program eagerly misses it, but its
    # confirmations (a fresh worker) run every program both ways: a shrunk
    # candidate never escapes the sample
    with Triage(ALL, Launch(threads=8), eager_share=0.0) as triage:
        assert triage.first_finding("faulty-jax-cpu", parse(FLOOR_PROGRAM)) is None
        assert triage.confirm(finding, parse(FLOOR_PROGRAM)) == finding


@needs_jax
@pytest.mark.compiler
def test_a_campaign_finds_shrinks_and_stores_the_jit_eager_fault(tmp_path):
    corpus = tmp_path / "corpora"
    # floor drawn as often as every other builtin together: at the default
    # weights one program in 64 calls it, too few for 50 s on a loaded machine
    # (50: in 40 s, a loaded machine once left the shrink unfinished)
    weights = tmp_path / "floor.toml"
    weights.write_text(with_float_call("floor", 30))
    run = subprocess.run(
        [
            sys.executable, "-m", "kernel_synth.synth.cli", "fuzz", "--budget", "50s", "--backend", "faulty-jax-cpu", "--seed", "1",
            # every program run eagerly (the sample has its own test)
            "--workers", "1", "--eager-share", "1", "--corpus", str(corpus), "--json", str(tmp_path / "s.json"), "--weights", str(weights),
            # the oracle under test alone among the sampled ones: the others'
            # compiles would take the shrink's time on a loaded machine
            "--oracles", "compile,crash,timeout,forward,nondeterminism,jit-eager",
        ],
        capture_output=True, text=True, timeout=300, env={**os.environ, "KERNEL_SYNTH_FAULTS": "jit-eager:floor"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert "jit-eager" in summary["oracles"] and summary["jit_eager"]["compared"]["faulty-jax-cpu"] > 0
    signatures = {b["signature"]: b for b in summary["buckets"]}
    assert "faulty-jax-cpu:jit-eager:float-value" in signatures, list(signatures)
    assert not [s for s in signatures if ":forward:" in s]  # the jitted outputs are right
    bucket = signatures["faulty-jax-cpu:jit-eager:float-value"]
    case = read_case(Path(bucket["corpus"][0]))
    assert case.signature == bucket["signature"] and case.header.shrunk, case.text
    program = parse(case.text)
    assert any(isinstance(n, A.Call) and n.func == "floor" for n in A.walk(program))
    assert case.header.size_after < case.header.size_before
    assert Path(bucket["corpus"][0]).with_suffix(".py").exists()


@pytest.mark.parametrize("share", ["1.5", "-0.1", "half"])
def test_a_bad_eager_share_is_exit_2(share, capsys):
    from kernel_synth.synth.cli import main

    with pytest.raises(SystemExit) as info:
        main(["fuzz", "--budget", "1m", "--backend", "jax-cpu", "--eager-share", share])
    assert info.value.code == 2
    assert "is not a share between 0 and 1" in capsys.readouterr().err


def test_progress_shows_what_the_oracle_compared():
    import io

    from rich.console import Console

    from kernel_synth.synth.progress import CampaignDisplay

    class Config:
        backends = ("jax-cpu",)

    progress = {
        "programs": 64, "rate": 6.0, "findings": 0, "buckets": 0, "unrecognised": 0, "left": 40, "elapsed": 20,
        "compiled": {"jax-cpu": 64}, "eager_compared": {"jax-cpu": 16}, "eager_share": 0.25, "top_buckets": [], "history": [],
    }
    display = CampaignDisplay(Config(), io.StringIO())
    display.last = progress
    assert "jax-cpu 16 jit-vs-eager" in display._line(progress)
    out = io.StringIO()
    Console(file=out, width=160).print(display._panel())
    assert "jit-eager (jax-cpu)" in out.getvalue() and "not sampled: 75% of programs" in out.getvalue()
