"""JAX backends: StableHLO of each program's forward function and of its grad.

`jax-cpu` lowers with `jax.jit(...).lower`, compiles with XLA and runs on the
CPU. `jax-cuda` lowers for CUDA with `jax.export` (cross-platform lowering, no
GPU needed) and runs only where a CUDA device exists. JAX has no notion of a
multi-kernel module, so programs are lowered one at a time; the worker pool
still runs many per process.

Asked for it (option `eager`, a share of the programs), a backend that runs
its programs also runs the same rendering eagerly, op by op under
`jax.disable_jit()`, on the same inputs: the jit-eager oracle's evidence
(`Outcome.eager`). Which programs is decided by each program's text, so the
same program is always run the same way, whatever batch it is in.

A program runs on its kernel's own launch size where it has one. Its threads
run under `jax.vmap` (jax_render's vmap form), except on a launch of more
than VMAP_ACC_LIMIT threads of a kernel with an Acc array, whose vmap form
would hold n * n contributions: that one runs in the loop form (a fori_loop
over thread ids). Asked for it (option `loop`, a share of the programs), a
backend also runs a program the vmap form ran in the loop form, jitted, on
the same inputs (launches up to LOOP_ORACLE_LIMIT threads: the loop runs its
threads one after the other): the vmap-loop oracle's evidence
(`Outcome.looped`).

Asked for it (option `xla`, a share of the programs), a backend also compiles
the lowered program under another XLA configuration (`XLA_CONFIGS`: an HLO
pass switched off, another optimisation level, another vector ISA, the
older CPU emitters) and runs it on the same inputs: the xla-config oracle's
evidence (`Outcome.configured`). A sampled program gets one configuration,
chosen by its text; at share 1 (shrinks, replays) it gets every one the
installed jaxlib knows.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import traceback
from dataclasses import replace

import numpy as np

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import flat_params
from kernel_synth.grammar.printer import print_program
from kernel_synth.grammar.queries import in_share
from kernel_synth.grammar.types import ArrayType

from .compare import acc_scales, nondeterminism
from .errors import RenderError
from .inputs import DEFAULT_LAUNCH, make_inputs, written_arrays
from .jax_render import VMAP_ACC_LIMIT, render_jax, thread_form  # noqa: F401 (VMAP_ACC_LIMIT: the backend's rule)
from .jax_release import NEWEST
from .jax_release import installed as installed_release
from .jax_run import load_kernel
from .jvp_vjp import jvp_vjp, unit_roundoff
from .outcome import SOURCE_ARTIFACT, Outcome, Stage, Status


def _message(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def _is_float_param(param: A.Param) -> bool:
    ty = param.ty.elem if isinstance(param.ty, ArrayType) else param.ty
    return ty.is_float or ty.is_vector or ty.is_matrix


def runs_eagerly(program: A.Program | str, share: float, salt: str = "") -> bool:
    """Whether `program` (or its printed text) is among the `share` of
    programs run eagerly too: chosen by a hash of its text, so a replay
    chooses as the campaign did. (`salt` draws another sample the same way:
    the vmap-loop oracle's.)"""
    return in_share(program, share, salt)


# The vmap-loop oracle compares launches of at most this many threads (its
# loop form runs them one by one), the jit-eager oracle runs at most this
# many op by op (jax 0.4.30 took over a minute on 51,839 threads: the batch
# timed out and the worker was killed, a crash that was ours)
LOOP_ORACLE_LIMIT = 4096
EAGER_ORACLE_LIMIT = 4096
# and the jvp-vjp oracle differentiates launches of at most this many
JVP_ORACLE_LIMIT = 4096

# The xla-config oracle's configurations: XLA compile options (debug options,
# set per executable by `Lowered.compile(compiler_options=...)`, so one worker
# holds both sides and no second pool is needed), each changing one stage of
# the CPU compiler. Measured on jax 0.10.2: every one compiled and agreed with
# the default on 300 drawn programs (seeds 3 and 4, 150 each), its compile
# time 0.6 to 1.2 times the default's. `xla_disable_all_hlo_passes` is not
# among them: XLA's CPU backend needs some passes (it aborts the process,
# "Check failed: const_instr == nullptr", or refuses scatter), which is no bug.
XLA_CONFIGS: dict[str, dict[str, object]] = {
    # the algebraic simplifier off: what it rewrites is computed as written
    "no-algsimp": {"xla_disable_hlo_passes": "algsimp"},
    # LLVM at -O0 instead of -O2 on the emitted IR
    "llvm-O0": {"xla_backend_optimization_level": 0},
    # vectorised for SSE4.2 (128-bit) instead of the host's widest ISA:
    # other vector widths, other remainder loops
    "sse4": {"xla_cpu_max_isa": "SSE4_2"},
    # the CPU backend's older elemental emitters instead of its fusion emitters
    "no-fusion-emitters": {"xla_cpu_use_fusion_emitters": False},
    # the CPU runtime with and without thunks, on the jaxlib releases that
    # have the switch (0.4.30 has it, 0.10.2 not): one of the two is the
    # release's default, the other its other runtime
    "thunks": {"xla_cpu_use_thunk_runtime": True},
    "no-thunks": {"xla_cpu_use_thunk_runtime": False},
}


def xla_configs(program: A.Program | str, share: float) -> tuple[str, ...]:
    """The XLA configurations the xla-config oracle compiles `program` (or
    its printed text) under: none outside the sampled `share`, one chosen by
    the program's text inside it, all of them at share 1 (a shrink keeps the
    finding of whichever configuration showed it)."""
    if share >= 1.0:
        return tuple(XLA_CONFIGS)
    text = program if isinstance(program, str) else print_program(program)
    if not runs_eagerly(text, share, "xla:"):
        return ()
    digest = hashlib.sha256(("xla-config:" + text).encode()).digest()
    return (list(XLA_CONFIGS)[digest[0] % len(XLA_CONFIGS)],)


@functools.cache
def available_configs() -> frozenset[str]:
    """The configurations the installed jaxlib compiles a trivial program
    under: an option a release does not know is refused ("No such compile
    option"; jaxlib 0.4.30 refuses `xla_disable_hlo_passes` given as a
    string), and such a configuration is left out, never a finding."""
    import jax

    lowered = jax.jit(lambda x: x * 2.0 + 1.0).lower(np.zeros(4, np.float32))
    available = set()
    for name, options in XLA_CONFIGS.items():
        try:
            lowered.compile(compiler_options=options)
        except Exception:
            continue
        available.add(name)
    return frozenset(available)



class JaxCompiler:
    def __init__(
        self, target: str, workdir=None, *, backward: bool = False, run: bool = True, ir: bool = False, eager: float = 0.0, loop: float = 0.0,
        xla: float = 0.0, jvp: float = 0.0, **_ignored,
    ):
        if target not in ("cpu", "cuda"):
            raise ValueError(f"unknown JAX target {target!r}")
        import jax

        release = installed_release() or NEWEST
        if target == "cuda":
            release.require("export", "backend 'jax-cuda'")  # its lowering for CUDA
            if not release.has("export_imported"):
                import jax.export  # noqa: F401 (a submodule this release does not import with jax)
        self.jax = jax
        self.target = target
        self.backward = backward
        self.ir = ir  # the rendered source joins the StableHLO among the artifacts
        # jax-cuda runs where JAX has a CUDA device; elsewhere it lowers only
        self.gpu = _cuda_device(jax) if target == "cuda" and run else None
        self.run_kernels = run and (target == "cpu" or self.gpu is not None)
        self.eager_share = eager  # the share of programs also run op by op (jit-eager oracle)
        self.loop_share = loop  # the share of programs also run in the loop form (vmap-loop oracle)
        self.xla_share = xla  # the share of programs also compiled under another XLA configuration (xla-config oracle)
        self.jvp_share = jvp  # the share of programs also differentiated both ways (jvp-vjp oracle)

    def compile(self, programs, launch: int = DEFAULT_LAUNCH, seed: int = 0) -> list[Outcome]:
        return [self._one(p, launch, seed) for p in programs]

    def _one(self, program: A.Program, launch: int, seed: int) -> Outcome:
        jax = self.jax
        kernel = program.kernels[0]
        launch = A.launch_of(program, launch)  # the kernel's own launch size, if it has one
        form = thread_form(kernel, launch)
        try:
            source = render_jax(program, form)
        except RenderError as exc:
            return Outcome(Status.RENDER_ERROR, Stage.RENDER, str(exc))
        except Exception as exc:  # a renderer crash is our bug: keep its trace
            return Outcome(Status.RENDER_ERROR, Stage.RENDER, _message(exc) + "\n" + traceback.format_exc(limit=4))
        try:
            function = load_kernel(source, kernel)
        except Exception as exc:
            return Outcome(Status.RENDER_ERROR, Stage.RENDER, _message(exc))
        inputs = make_inputs(kernel, launch, seed)
        args = [np.asarray(inputs[p.name]) for p in flat_params(kernel.params)]
        jitted = jax.jit(function)
        artifacts: dict[str, str] = {SOURCE_ARTIFACT: source} if self.ir else {}
        try:
            if self.target == "cpu":
                lowered = jitted.lower(*args)
                artifacts["forward.mlir"] = lowered.as_text()
            else:
                specs = [jax.ShapeDtypeStruct(np.shape(a), np.asarray(a).dtype) for a in args]
                artifacts["forward.mlir"] = jax.export.export(jitted, platforms=["cuda"])(*specs).mlir_module()
            if self.backward:
                artifacts["backward.mlir"] = self._grad_ir(function, kernel, args)
        except Exception as exc:
            return Outcome(Status.COMPILE_ERROR, Stage.LOWER, _message(exc), artifacts=artifacts)
        if self.target != "cpu":
            if self.gpu is None:
                return Outcome(Status.OK, Stage.COMPILE, artifacts=artifacts)
            args = [jax.device_put(a, self.gpu) for a in args]
        try:
            if self.target != "cpu":
                lowered = jitted.lower(*args)
            compiled = lowered.compile()
        except Exception as exc:
            return Outcome(Status.COMPILE_ERROR, Stage.COMPILE, _message(exc), artifacts=artifacts)
        if not self.run_kernels:
            return Outcome(Status.OK, Stage.COMPILE, artifacts=artifacts)
        try:
            runs = []
            for _ in range(2):  # twice: the nondeterminism oracle's evidence
                result = compiled(*args)
                runs.append({name: np.asarray(result[name]) for name in written_arrays(kernel)})
        except Exception as exc:
            return Outcome(Status.RUN_ERROR, Stage.RUN, _message(exc), artifacts=artifacts)
        scales = acc_scales(kernel, launch)
        differs = nondeterminism(runs[0], runs[1], scales)
        if differs is not None:
            return replace(differs, artifacts=artifacts)
        # every sampled oracle chooses its programs by a hash of the text: printed once
        text = print_program(program)
        # the loop form runs its threads one by one: op by op, a large launch
        # would take minutes, so only the vmap form is run eagerly
        eager = self._eager(function, kernel, args) if form == "vmap" and launch <= EAGER_ORACLE_LIMIT and runs_eagerly(text, self.eager_share) else None
        looped = None
        if form == "vmap" and launch <= LOOP_ORACLE_LIMIT and runs_eagerly(text, self.loop_share, "loop:"):
            looped = self._looped(program, kernel, args)
        # the configurations are the CPU compiler's (jax-cuda: none)
        configured = self._configured(lowered, kernel, args, xla_configs(text, self.xla_share)) if self.target == "cpu" else ()
        directional = None
        if form == "vmap" and launch <= JVP_ORACLE_LIMIT and runs_eagerly(text, self.jvp_share, "jvp:"):
            place = (lambda a: jax.device_put(a, self.gpu)) if self.target != "cpu" else None
            directional = jvp_vjp(jax, function, kernel, args, compiled, seed, unit_roundoff(program), place)
        return Outcome(
            Status.OK, Stage.RUN, outputs=runs[0], artifacts=artifacts, eager=eager, scales=scales, looped=looped, configured=configured, jvp=directional,
        )

    def _configured(self, lowered, kernel: A.Kernel, args, names: tuple[str, ...]) -> tuple[tuple[str, Outcome], ...]:
        """The lowered program compiled under each named XLA configuration
        and run on the same inputs (the xla-config oracle's other sides);
        a configuration the installed jaxlib does not know is left out."""
        configured = []
        for name in names:
            if name not in available_configs():
                continue
            try:
                compiled = lowered.compile(compiler_options=XLA_CONFIGS[name])
            except Exception as exc:
                configured.append((name, Outcome(Status.COMPILE_ERROR, Stage.COMPILE, _message(exc))))
                continue
            try:
                result = compiled(*args)
                outputs = {array: np.asarray(result[array]) for array in written_arrays(kernel)}
            except Exception as exc:
                configured.append((name, Outcome(Status.RUN_ERROR, Stage.RUN, _message(exc))))
                continue
            configured.append((name, Outcome(Status.OK, Stage.RUN, outputs=outputs)))
        return tuple(configured)

    def _looped(self, program: A.Program, kernel: A.Kernel, args) -> Outcome:
        """The program rendered in the loop form, jitted and run on the same
        inputs (the vmap-loop oracle's other side)."""
        jax = self.jax
        try:
            function = load_kernel(render_jax(program, "loop"), kernel)
            result = jax.jit(function)(*args)
            outputs = {name: np.asarray(result[name]) for name in written_arrays(kernel)}
        except Exception as exc:
            return Outcome(Status.RUN_ERROR, Stage.RUN, _message(exc))
        return Outcome(Status.OK, Stage.RUN, outputs=outputs)

    def _eager(self, function, kernel: A.Kernel, args) -> Outcome:
        """The rendering run op by op: each primitive dispatched on its own,
        nothing fused or rewritten across operations (control flow under vmap
        still runs as one primitive: JAX cannot unroll a loop whose trip
        count differs between threads)."""
        jax = self.jax
        try:
            with jax.disable_jit():
                # as JAX arrays: a NumPy array indexed by a vmapped thread id
                # would ask the tracer for its value
                result = function(*[jax.numpy.asarray(a) for a in args])
                outputs = {name: np.asarray(result[name]) for name in written_arrays(kernel)}
        except Exception as exc:
            return Outcome(Status.RUN_ERROR, Stage.RUN, _message(exc))
        return Outcome(Status.OK, Stage.RUN, outputs=outputs)

    def _grad_ir(self, function, kernel: A.Kernel, args) -> str:
        """StableHLO of d(sum of every float output)/d(every float input)."""
        jax = self.jax
        import jax.numpy as jnp

        positions = tuple(k for k, p in enumerate(flat_params(kernel.params)) if _is_float_param(p))  # as `args` are
        outputs = [p.name for p in flat_params(kernel.params) if isinstance(p.ty, ArrayType) and _is_float_param(p) and p.name in written_arrays(kernel)]
        if not positions or not outputs:
            return ""

        def loss(*values):
            result = function(*values)
            return sum(jnp.sum(result[name]) for name in outputs)

        grad = jax.jit(jax.grad(loss, argnums=positions))
        if self.target == "cpu":
            return grad.lower(*args).as_text()
        specs = [jax.ShapeDtypeStruct(np.shape(a), np.asarray(a).dtype) for a in args]
        return jax.export.export(grad, platforms=["cuda"])(*specs).mlir_module()


def jax_cpu(workdir=None, **options) -> JaxCompiler:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    return JaxCompiler("cpu", workdir, **options)


def _cuda_device(jax):
    """JAX's first CUDA device, or None."""
    try:
        devices = jax.devices("cuda")
    except RuntimeError:  # no CUDA backend here
        return None
    return devices[0] if devices else None


def jax_cuda(workdir=None, **options) -> JaxCompiler:
    # Every worker is a process with its own client: by default each would
    # take three quarters of the GPU's memory at its first launch
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if importlib.util.find_spec("jax_cuda12_plugin") is None and importlib.util.find_spec("jax_cuda13_plugin") is None:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # lowering for CUDA needs no CUDA device
    return JaxCompiler("cuda", workdir, **options)
