"""The xla-config oracle: a JAX program compiled by XLA as configured by
default against the same lowering compiled under another configuration; the
faulty JAX backend it must catch."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from faulty import assert_seen_by_alone
from profiles import with_float_call

from kernel_synth.backends.jax_backend import XLA_CONFIGS, xla_configs
from kernel_synth.backends.outcome import Outcome
from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse
from kernel_synth.grammar.sampling import draw_program, draw_programs
from kernel_synth.synth.corpus import read_case
from kernel_synth.synth.oracles import ORACLES, judge, judge_xla_config

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")

FLOOR_PROGRAM = """\
@kernel
def k(x: In[array[float32]], o: Out[array[float32]], n: Out[array[int32]]):
    i = tid()
    o[i] = floor(x[i]) * 2.0 + x[i] / 3.0
    n[i] = i * 3
"""


def _ran(**outputs) -> Outcome:
    return Outcome("ok", "run", outputs={name: np.asarray(values) for name, values in outputs.items()})


def test_the_oracle_on_hand_made_pairs():
    default = _ran(o=np.float32([1.0, 2.0]), n=np.int32([0, 3]))
    assert judge_xla_config("jax-cpu", default, "sse4", _ran(o=np.float32([1.0, 2.0000002]), n=np.int32([0, 3]))) is None  # an ulp
    found = judge_xla_config("jax-cpu", default, "sse4", _ran(o=np.float32([1.0, 3.0]), n=np.int32([0, 3])))
    # the configuration is in the message, not the signature: a shrink
    # compiles under every configuration and must find the same bucket
    assert found.signature == "jax-cpu:xla-config:float-value" and "sse4" in found.message and found.oracle == "xla-config"
    found = judge_xla_config("jax-cpu", default, "llvm-O0", _ran(o=np.float32([1.0, 2.0]), n=np.int32([0, 4])))
    assert found.signature == "jax-cpu:xla-config:int-value"
    found = judge_xla_config("jax-cpu", default, "llvm-O0", _ran(o=np.float32([1.0, np.nan]), n=np.int32([0, 3])))
    assert found.signature == "jax-cpu:xla-config:nan"
    failed = Outcome("compile_error", "compile", "INTERNAL: something at 0x7f00aa went wrong in line 12")
    found = judge_xla_config("jax-cpu", default, "no-algsimp", failed)
    assert found.signature.startswith("jax-cpu:xla-config:fails-config:") and "0x7f00aa" not in found.signature
    # judged through `judge`, after the forward oracle, only when asked for
    with_config = Outcome("ok", "run", outputs=default.outputs, configured=(("sse4", _ran(o=np.float32([1.0, 3.0]), n=np.int32([0, 3]))),))
    assert judge("jax-cpu", with_config, None, frozenset(ORACLES)).signature == "jax-cpu:xla-config:float-value"
    assert judge("jax-cpu", with_config, None, frozenset(ORACLES) - {"xla-config"}) is None


def test_the_configurations_are_chosen_by_the_program_and_near_the_share():
    programs = list(draw_programs(400, 5))
    assert all(xla_configs(p, 0.0) == () for p in programs[:20])
    assert all(xla_configs(p, 1.0) == tuple(XLA_CONFIGS) for p in programs[:20])
    chosen = [xla_configs(p, 0.25) for p in programs]
    assert chosen == [xla_configs(p, 0.25) for p in programs]  # a function of the program
    sampled = [c for c in chosen if c]
    assert all(len(c) == 1 for c in sampled)
    assert 0.18 < len(sampled) / len(programs) < 0.32, len(sampled)
    counts = Counter(c[0] for c in sampled)
    assert set(counts) == set(XLA_CONFIGS), counts  # every configuration is drawn


@needs_jax
@pytest.mark.compiler
def test_jax_cpu_compiles_under_every_configuration_it_knows_and_they_agree():
    from kernel_synth.backends.jax_backend import available_configs, jax_cpu

    programs = [parse(FLOOR_PROGRAM)] + [draw_program(21, i) for i in range(6)]
    # jax 0.10.2 lacks the thunk switch, 0.4.30 the ISA and emitter options
    # and a string for xla_disable_hlo_passes: a configuration a release
    # lacks is left out, never a failure
    assert len(available_configs()) >= 3 and available_configs() < set(XLA_CONFIGS), available_configs()
    for outcome in jax_cpu(xla=1.0).compile(programs):
        assert outcome.ok, outcome.message
        names = [name for name, _ in outcome.configured]
        assert set(names) == available_configs(), names
        for name, configured in outcome.configured:
            assert judge_xla_config("jax-cpu", outcome, name, configured) is None, (name, configured.message)
    assert all(o.configured == () for o in jax_cpu().compile(programs[:2]))  # off unless asked


@needs_jax
@pytest.mark.compiler
def test_the_faulty_jax_backend_is_seen_by_xla_config_alone(monkeypatch):
    assert_seen_by_alone(
        monkeypatch, "xla-config:floor", "xla-config", FLOOR_PROGRAM, FLOOR_PROGRAM.replace("floor(x[i])", "x[i]"), "faulty-jax-cpu:xla-config:float-value",
    )


@needs_jax
@pytest.mark.compiler
@pytest.mark.slow  # a minute's campaign: CI keeps to 30 minutes; run with -m slow
def test_a_campaign_finds_shrinks_and_stores_the_xla_config_fault(tmp_path):
    corpus = tmp_path / "corpora"
    # a shrink compiles every candidate under every configuration: a minute
    # leaves it time on a loaded machine
    weights = tmp_path / "floor.toml"
    weights.write_text(with_float_call("floor", 30))
    run = subprocess.run(
        [
            sys.executable, "-m", "kernel_synth.synth.cli", "fuzz", "--budget", "60s", "--backend", "faulty-jax-cpu", "--seed", "2",
            "--workers", "1", "--xla-share", "0.5", "--oracles", "compile,crash,timeout,forward,nondeterminism,xla-config",
            "--corpus", str(corpus), "--json", str(tmp_path / "s.json"), "--weights", str(weights),
        ],
        capture_output=True, text=True, timeout=300, env={**os.environ, "KERNEL_SYNTH_FAULTS": "xla-config:floor"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["xla_config"]["compared"]["faulty-jax-cpu"] > 0
    assert "outputs compared with those under another XLA configuration" in run.stderr
    signatures = {b["signature"]: b for b in summary["buckets"]}
    assert list(signatures) == ["faulty-jax-cpu:xla-config:float-value"], list(signatures)
    bucket = signatures["faulty-jax-cpu:xla-config:float-value"]
    case = read_case(Path(bucket["corpus"][0]))
    assert case.signature == bucket["signature"] and case.header.shrunk, case.text
    assert any(isinstance(n, A.Call) and n.func == "floor" for n in A.walk(parse(case.text)))
    assert case.header.size_after < case.header.size_before


@pytest.mark.parametrize("share", ["1.5", "-0.1"])
def test_a_bad_xla_share_is_exit_2(share, capsys):
    from kernel_synth.synth.cli import main

    with pytest.raises(SystemExit) as info:
        main(["fuzz", "--budget", "1m", "--backend", "jax-cpu", "--xla-share", share])
    assert info.value.code == 2
    assert "--xla-share" in capsys.readouterr().err


def test_a_rerun_runs_the_sampled_oracles_its_finding_needs_and_no_other():
    from kernel_synth.synth.oracles import Oracle
    from kernel_synth.synth.triage import rerun_needs

    assert rerun_needs(Oracle.FORWARD) == rerun_needs(Oracle.NONDETERMINISM) == ()
    assert rerun_needs(Oracle.JIT_EAGER) == (Oracle.JIT_EAGER,)
    # an earlier sampled oracle that disagrees would claim the program first;
    # a later one (jvp-vjp, judged last) never decides
    assert rerun_needs(Oracle.XLA_CONFIG) == (Oracle.JIT_EAGER, Oracle.VMAP_LOOP, Oracle.XLA_CONFIG)
    assert rerun_needs(Oracle.JVP_VJP) == rerun_needs(Oracle.CRASH) == (Oracle.JIT_EAGER, Oracle.VMAP_LOOP, Oracle.XLA_CONFIG, Oracle.JVP_VJP)
