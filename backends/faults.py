"""A deliberately faulty backend, for testing the harness around real ones.

It wraps warp-cpu, and any batch holding a program with a marker literal
misbehaves the way broken compilers do: 777.0 aborts the process (as a
segfault or an assertion in a native compiler would), 888.0 hangs.

Faults on constructs are chosen through the environment, so that a test can
aim them without touching the registry: KERNEL_SYNTH_FAULTS="crash:atan2,wrong:floor"
aborts on any program calling atan2 and returns a wrong value for any program
calling floor (its first float output is off by one), the way a miscompiled
builtin would; "nondet:cos" makes the two launches of a program calling cos
disagree, as a racy or uninitialised kernel would. `wronggrad:sin` is read by
`faulty_gradient_checker`, the gradient checker the registry names for
faulty-warp-cpu: Warp's first gradient element of any program calling sin is
off by one. `leak:cos` leaks state across batches: from the second batch a
process compiles, the first float output of any program calling cos is off by
one (what the process-state oracle must catch: a fresh worker disagrees).
`reject:sqrt` fails the compile of any program calling sqrt, with a codegen
error, as a front end that rejects a valid program would. `launch-above:4096`
is a fault of size, not of a construct: any program launched on more than
4096 threads gets its last thread's element of its first float Out or InOut
array off by one, as a vectorised remainder loop that only large launches
reach would (the reference samples a large launch's threads, the last ones
always among them).

faulty-jax-cpu wraps jax-cpu the same way. `jit-eager:floor` makes the two
JAX runs of any program calling floor disagree, as a builtin that jit and
op-by-op dispatch lower differently would: the eager run's first float output
is off by one. The wrong value is put on the eager side so that the jitted
outputs, which the forward oracle compares with the reference, stay right:
the jit-eager oracle, and only it, can see the fault. `vmap-loop:floor` puts
the same wrong value on the loop-form run of any program calling floor (the
program's threads in a fori_loop instead of under vmap): the vmap-loop
oracle's to see. `launch-above:N` is faulty-warp-cpu's fault of size on the
jitted run. `xla-config:floor` puts it on the run of any program
calling floor compiled under another XLA configuration, as a pass that
only the default pipeline runs (or skips) would: the xla-config oracle's.
`jvp-vjp:sin` moves the forward-mode side of the jvp-vjp
oracle's evidence of any program calling sin by one (and by its magnitude),
as a wrong JVP rule would; reverse mode and finite differences stay right,
so the oracle must single out jvp; nothing else sees it.

Everything here wraps the real backends from the outside; no production module
imports this one (the registry names its factories as strings).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from kernel_synth.grammar import ast as A

from .outcome import Outcome, Stage, Status
from .compare import nondeterminism
from .gradients import GradientChecker
from .jax_backend import JaxCompiler
from .warp_backend import WarpCompiler

ABORT_MARK = 777.0
HANG_MARK = 888.0


def _has_literal(program: A.Program, value: float) -> bool:
    for definition in program.funcs + program.kernels:
        for node in A.walk(definition):
            # a float literal only: a drawn int32 888 (seed 0, program 27) is no mark
            if isinstance(node, A.Const) and isinstance(node.value, float) and node.value == value:
                return True
    return False


FAULTS_VARIABLE = "KERNEL_SYNTH_FAULTS"


def _calls(program: A.Program, name: str) -> bool:
    return any(isinstance(n, A.Call) and n.func == name for d in program.funcs + program.kernels for n in A.walk(d))


def _faults() -> list[tuple[str, str]]:
    spec = os.environ.get(FAULTS_VARIABLE, "")
    return [tuple(part.split(":", 1)) for part in spec.split(",") if ":" in part]


class FaultyCompiler(WarpCompiler):
    def __init__(self, workdir, **options):
        super().__init__("cpu", workdir, **options)
        self.faults = _faults()
        self.batches = 0  # batches this process compiled: the state a leak reads
        self.launch: int | None = None  # the threads the program at hand ran on

    def compile(self, programs, launch=32, seed=0):
        if any(_has_literal(p, ABORT_MARK) for p in programs):
            os.abort()
        if any(_has_literal(p, HANG_MARK) for p in programs):
            time.sleep(3600)
        for kind, name in self.faults:
            if kind == "crash" and any(_calls(p, name) for p in programs):
                os.abort()
        outcomes = super().compile(programs, launch=launch, seed=seed)
        rejected = [name for kind, name in self.faults if kind == "reject"]
        outcomes = [
            Outcome(Status.CODEGEN_ERROR, Stage.CODEGEN, f"WarpCodegenError: injected rejection of {name}()") if name else o
            for p, o in zip(programs, outcomes)
            for name in [next((n for n in rejected if _calls(p, n)), None)]
        ]
        self.batches += 1
        wrong = []
        for p, o in zip(programs, outcomes):
            self.launch = A.launch_of(p, launch)
            wrong.append(self._wrong(p, o))
        return wrong

    def _wrong(self, program, outcome: Outcome) -> Outcome:
        if not outcome.ok or outcome.outputs is None:
            return outcome
        kinds = {kind for kind, name in self.faults if _calls(program, name)}
        if self.launch is not None and any(kind == "launch-above" and self.launch > int(size) for kind, size in self.faults):
            return replace(outcome, outputs=_last_off_by_one(program.kernels[0], outcome.outputs))
        if "nondet" in kinds:  # as if the second of the two launches came out different
            return nondeterminism(outcome.outputs, _off_by_one(outcome.outputs, program.kernels[0])) or outcome
        if "wrong" in kinds or ("leak" in kinds and self.batches >= 2):
            return replace(outcome, outputs=_off_by_one(outcome.outputs, program.kernels[0]))
        return outcome


def _off_by_one(outputs: dict, kernel: A.Kernel | None = None) -> dict:
    """The outputs with the first element of the first float array off by one.

    Given the kernel, its Acc arrays come last: an Acc array sums every
    thread's atomics, and on a large launch that sum can be big enough for
    one to be inside the tolerance."""
    from kernel_synth.grammar.types import ArrayType, Role

    acc = {p.name for p in kernel.params if isinstance(p.ty, ArrayType) and p.ty.role is Role.ACC} if kernel is not None else set()
    outputs = dict(outputs)
    for name in sorted(outputs, key=lambda n: n in acc):
        values = outputs[name]
        if values.dtype.kind == "f" and values.size:
            values = values.copy()
            values.reshape(-1)[0] += 1
            outputs[name] = values
            break
    return outputs


def _last_off_by_one(kernel: A.Kernel, outputs: dict) -> dict:
    """The outputs with the last thread's element of the first float Out or
    InOut array off by one (unchanged where there is none)."""
    from kernel_synth.grammar.types import ArrayType, Role

    outputs = dict(outputs)
    for p in kernel.params:
        values = outputs.get(p.name)
        if isinstance(p.ty, ArrayType) and p.ty.role in (Role.OUT, Role.INOUT) and values is not None and values.dtype.kind == "f" and len(values):
            values = values.copy()
            values[-1] += 1
            outputs[p.name] = values
            break
    return outputs


def faulty_warp_cpu(workdir, **options) -> FaultyCompiler:
    return FaultyCompiler(workdir, **options)


class FaultyGradientChecker(GradientChecker):
    def __init__(self, workdir=None, **options):
        super().__init__(workdir, **options)
        self.wrong = [name for kind, name in _faults() if kind == "wronggrad"]

    def adjust_warp(self, program, gradients):
        if any(_calls(program, name) for name in self.wrong):
            return _off_by_one(gradients)
        return gradients


def faulty_gradient_checker(workdir=None, **options) -> FaultyGradientChecker:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    return FaultyGradientChecker(workdir, **options)


class FaultyJaxCompiler(JaxCompiler):
    def __init__(self, workdir=None, **options):
        super().__init__("cpu", workdir, **options)
        self.eager_wrong = [name for kind, name in _faults() if kind == "jit-eager"]
        self.loop_wrong = [name for kind, name in _faults() if kind == "vmap-loop"]
        self.config_wrong = [name for kind, name in _faults() if kind == "xla-config"]
        self.jvp_wrong = [name for kind, name in _faults() if kind == "jvp-vjp"]

    def compile(self, programs, launch=32, seed=0):
        outcomes = super().compile(programs, launch=launch, seed=seed)
        return [self._wrong_above(p, self._wrong_eager(p, o), A.launch_of(p, launch)) for p, o in zip(programs, outcomes)]

    def _wrong_above(self, program, outcome: Outcome, launch: int) -> Outcome:
        """`launch-above:N`: the jitted run's last thread off by one on
        launches of more than N threads (as faulty-warp-cpu's)."""
        if not outcome.ok or outcome.outputs is None:
            return outcome
        if any(kind == "launch-above" and launch > int(size) for kind, size in _faults()):
            return replace(outcome, outputs=_last_off_by_one(program.kernels[0], outcome.outputs))
        return outcome

    def _wrong_eager(self, program, outcome: Outcome) -> Outcome:
        directional = outcome.jvp
        if directional is not None and directional.compared and not directional.failed and any(_calls(program, name) for name in self.jvp_wrong):
            outcome = replace(outcome, jvp=replace(directional, jvp=directional.jvp + 1.0 + directional.scale))
        looped = outcome.looped
        if looped is not None and looped.ok and any(_calls(program, name) for name in self.loop_wrong):
            outcome = replace(outcome, looped=replace(looped, outputs=_off_by_one(looped.outputs, program.kernels[0])))
        if any(_calls(program, name) for name in self.config_wrong):
            kernel = program.kernels[0]
            configured = tuple((config, replace(o, outputs=_off_by_one(o.outputs, kernel)) if o.ok else o) for config, o in outcome.configured)
            outcome = replace(outcome, configured=configured)
        eager = outcome.eager
        if eager is None or not eager.ok or not any(_calls(program, name) for name in self.eager_wrong):
            return outcome
        return replace(outcome, eager=replace(eager, outputs=_off_by_one(eager.outputs, program.kernels[0])))


def faulty_jax_cpu(workdir=None, **options) -> FaultyJaxCompiler:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    return FaultyJaxCompiler(workdir, **options)
