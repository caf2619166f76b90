"""The gradient oracle: Warp's adjoint against JAX's grad and finite differences.

For the first kernel of a program, the loss is the sum of every element of
every float Out and Acc array, and the gradients are those of the loss with
respect to every float input array (In, and InOut arrays the kernel never
writes). Three sources compute them on the same launch inputs
(`backends.inputs.make_inputs`):

- `warp_gradients`: the kernel compiled with `enable_backward`, launched under
  a `wp.Tape` with gradient buffers on the float arrays, and the tape's
  backward pass with an adjoint of one on every output element;
- `jax_gradients`: `jax.grad` of the loss through the JAX rendering;
- `fd_gradients`: central finite differences of the loss on the reference
  interpreter, in the program's own types (float32 mostly: the reference
  checks dtypes strictly), with a power-of-two step so that `x +- h` is exact.

Float scalar parameters take no part: a Warp launch does not return their
adjoints.

Only programs inside the rules of `backends.differentiability` are compared.

`GradientChecker` is a backend in the sense of `backends.pool`: built in a
worker process (its own Warp kernel cache; a crash costs the worker only),
`compile(programs, launch=, seed=)` answers one `GradientResult` per program,
holding the sources' gradients and the reasons of those that gave none (JAX
is asked only where Warp and finite differences disagree).
`synth.oracles.judge_gradient` compares them.
"""

from __future__ import annotations

import math
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import flat_params, lower
from kernel_synth.grammar.ops import TILE_SIZES

from .differentiability import float_array, differentiability, gradient_inputs, gradient_outputs
from .inputs import make_inputs
from .outcome import GRADIENT_SOURCES, GradientResult, Outcome, Stage, Status

GRADIENT_LAUNCH = 4  # threads per gradient check: finite differences cost O(launch * elements) runs
GRADIENT_OPTIMIZATION_LEVEL = 0  # the backward module's native optimisation (see GradientChecker)
FD_STEP = 2.0**-7  # exact in float32 for inputs in [-4, 4]

# (rtol, atol); atol is relative to the largest gradient of the array (and 1)
ANALYTIC_TOLERANCE = (1e-3, 1e-4)
FD_TOLERANCE = (5e-2, 1e-2)


# ------------------------------------------------------------------ the sources


def gradient_launch(program: A.Program, launch: int = GRADIENT_LAUNCH) -> int:
    """The launch a program's gradients are checked on: `launch`, or the
    longest tile where the program loads tiles (arrays are as long as the
    launch, and a tile is loaded whole from one: on a shorter array Warp's
    offset goes negative and its adjoint writes outside the gradient buffer)."""
    if any(isinstance(n, A.TILE_NODES) for n in A.walk(program)):
        return max(launch, max(TILE_SIZES))
    return launch


class GradientUnavailable(Exception):
    """A source could not give gradients for a program (not a finding by itself)."""


class BesideGradCall(GradientUnavailable):
    """Finite differences see through grad(f, x), which the adjoints hold
    constant, so they give no gradient; but the points where a step of +-h
    changes a decision (`skipped`) are still where Warp and JAX may rightly
    differ (a clamp's bound: Warp's derivative 0, JAX's 0.5)."""

    def __init__(self, message: str, skipped: dict[str, np.ndarray]):
        super().__init__(message)
        self.skipped = skipped


class GradientUndefined(GradientUnavailable):
    """The reference found the program's behaviour undefined on the gradient
    launch's inputs (a builtin of NaN after a division by zero, say): no
    source is compared, since there is nothing the language says they
    should compute."""


def warp_gradients(program: A.Program, n: int = GRADIENT_LAUNCH, seed: int = 0, workdir=None, compiler=None) -> dict[str, np.ndarray]:
    """Warp's adjoint of the loss, {input array: gradient}. Compiles its own
    module with `enable_backward` (or uses `compiler`, a backward WarpCompiler)."""
    if compiler is None:
        from .warp_backend import WarpCompiler

        compiler = WarpCompiler("cpu", workdir or _tempdir(), backward=True, run=False)
    result = warp_gradients_batch(compiler, [program], n, seed)[0]
    if isinstance(result, Outcome):
        raise GradientUnavailable(f"warp {result.stage}: {result.message}")
    return result


def warp_gradients_batch(compiler, programs: list[A.Program], n: int, seed: int) -> list[dict[str, np.ndarray] | Outcome]:
    """Per program, Warp's gradients or the Outcome of what failed (render,
    codegen, compile: one module for the batch, split on failure; run)."""
    if not compiler.backward:
        raise ValueError("warp_gradients_batch needs a WarpCompiler built with backward=True")
    failures, modules = compiler.build(programs)
    results: list = list(failures)
    for index, (module, names) in modules.items():
        try:
            results[index] = _warp_launch(compiler, module, names, programs[index], gradient_launch(programs[index], n), seed)
        except Exception as exc:
            results[index] = Outcome(Status.RUN_ERROR, Stage.BACKWARD, f"{type(exc).__name__}: {exc}")
    return results


def _warp_launch(compiler, module, names, program: A.Program, n: int, seed: int) -> dict[str, np.ndarray]:
    from .warp_backend import launch_kernel

    wp = compiler.wp
    kernel = program.kernels[0]
    inputs, outputs = gradient_inputs(kernel), gradient_outputs(kernel)
    float_arrays = frozenset(p.name for p in flat_params(kernel.params) if float_array(p))
    args, arrays = compiler.launch_args(kernel, make_inputs(kernel, n, seed), compiler.device, requires_grad=float_arrays, module=module, names=names)
    tape = wp.Tape()
    with tape:
        launch_kernel(wp, getattr(module, names[kernel.name]), kernel, n, args, compiler.device)
    tape.backward(grads={arrays[name]: wp.ones_like(arrays[name], requires_grad=False) for name in outputs})
    wp.synchronize()
    gradients = {name: arrays[name].grad.numpy().copy() for name in inputs}
    tape.reset()
    return gradients


def jax_gradients(program: A.Program, n: int = GRADIENT_LAUNCH, seed: int = 0) -> dict[str, np.ndarray]:
    """`jax.grad` of the loss through the JAX rendering, {input array: gradient}."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp

    from .jax_render import render_jax
    from .jax_run import load_kernel

    kernel = program.kernels[0]
    inputs, outputs = gradient_inputs(kernel), gradient_outputs(kernel)
    try:
        function = load_kernel(render_jax(program), kernel)
    except Exception as exc:
        raise GradientUnavailable(f"jax render: {type(exc).__name__}: {exc}") from exc
    values = make_inputs(kernel, n, seed)
    args = [np.asarray(values[p.name]) for p in flat_params(kernel.params)]
    positions = tuple(k for k, p in enumerate(flat_params(kernel.params)) if p.name in inputs)
    if not positions or not outputs:
        return {}

    def loss(*arguments):
        result = function(*arguments)
        return sum(jnp.sum(result[name]) for name in outputs)

    try:
        grads = jax.jit(jax.grad(loss, argnums=positions))(*args)
    except Exception as exc:
        raise GradientUnavailable(f"jax grad: {type(exc).__name__}: {exc}") from exc
    # positions index the flattened parameters: a struct parameter before an array shifts them
    return {flat_params(kernel.params)[k].name: np.asarray(g) for k, g in zip(positions, grads)}


def _step(x: float, eps: float) -> float:
    """A power-of-two step relative to |x|: x +- step is exact when x is a
    multiple of it (quarter-step inputs are)."""
    scale = 2.0 ** math.ceil(math.log2(abs(x))) if abs(x) > 1 else 1.0
    return eps * scale


# Roundings a finite difference's error bound allows for in each output
# element: its own rounding and a few in the operations just before it
FD_ROUNDINGS = 8


def fd_gradients(program: A.Program, n: int = GRADIENT_LAUNCH, seed: int = 0, eps: float = FD_STEP) -> dict[str, np.ndarray]:
    """Central finite differences of the loss on the reference interpreter,
    {input array: gradient} in float64. The reference runs in the program's
    types, so the loss is float32 arithmetic: `eps` must stay coarse (1e-2)."""
    return fd_gradients_bounded(program, n, seed, eps)[0]


def fd_gradients_bounded(program: A.Program, n: int = GRADIENT_LAUNCH, seed: int = 0, eps: float = FD_STEP) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """`fd_gradients`, and for each element a bound on its rounding error."""
    gradients, errors, _ = fd_gradients_checked(program, n, seed, eps)
    return gradients, errors


def fd_gradients_checked(program: A.Program, n: int = GRADIENT_LAUNCH, seed: int = 0, eps: float = FD_STEP):
    """`fd_gradients`, a bound on each element's rounding error, and a mask
    per input array of the points where no gradient is compared.

    Each output element of the loss is rounded to its own type, relative
    error at most its machine epsilon; over both sides of the difference
    that is eps * (sum |outputs+| + sum |outputs-|) / width, times
    FD_ROUNDINGS for the operations just before each store. Where a large
    term beside a small one cancels (`dot((125, 0, 1.75), (1000, 0, x))`
    in float32: 125000 + 1.75 x) the bound is larger than the gradient, and
    a disagreement only finite differences show there is no finding.

    A point is skipped when the step of +-h from it changes any decision the
    reference takes (a branch, a comparison, the side of a kink of abs, min,
    max, clamp, floor or sign, a float cut to an integer, a loop's trip
    count through them): there the loss is not smooth between x - h and
    x + h, and the sources may rightly differ. Everywhere else the program is
    compared, however many branches and kinks it has. A run in which a
    float divisor was zero (`x / 0.0`, SEMANTICS.md "Division by zero"), or
    an atomic min or max met a value equal to its element's, is compared at
    no point.
    """
    from .reference import ATOMIC_TIE, OVERFLOW, ZERO_DIVISOR, ReferenceFailure, run_reference

    kernel = program.kernels[0]
    inputs, outputs = gradient_inputs(kernel), gradient_outputs(kernel)
    values = make_inputs(kernel, n, seed)
    flat = lower(program)  # once, not in each of the many runs below

    def loss(changed: dict) -> tuple[float, float, list]:
        """The loss, its rounding error bound (before FD_ROUNDINGS), and the
        decisions the run took."""
        decisions: list = []
        try:
            result = run_reference(flat, kernel.name, {**values, **changed}, n, decisions)
        except ReferenceFailure as exc:
            if exc.rule == "undefined":
                raise GradientUndefined(f"reference: {exc}") from exc
            raise GradientUnavailable(f"reference: {exc}") from exc
        total = error = 0.0
        for name in outputs:
            out = np.asarray(result[name])
            total += float(np.sum(out, dtype=np.float64))
            with np.errstate(all="ignore"):
                error += float(np.finfo(out.dtype).eps) * float(np.sum(np.abs(out), dtype=np.float64))
        return total, error, decisions

    taken = loss({})[2]
    # a float divisor was zero or an operation overflowed: the run holds infinities and NaN, whose
    # adjoints (inf * 0 in the chain rule, Warp's adjoint of a division against
    # JAX's) the language does not define: no point is compared
    singular = ZERO_DIVISOR in taken or OVERFLOW in taken or ATOMIC_TIE in taken
    # the adjoints hold grad(f, x) constant (SEMANTICS.md): Warp's is
    # compared with JAX's alone, away from the points a step would change a
    # decision at (a campaign on 1.19.0 stored `clamp(x, 0.0, 1.5)` at x =
    # 1.5 beside a grad call: Warp's 0 against JAX's 0.5), and not at all
    # where no point would be (`x / 0.0` beside a grad call: Warp's NaN
    # against JAX's 0)
    beside_grad_call = any(isinstance(node, A.GradCall) for node in A.walk(program))
    if beside_grad_call and singular:
        raise GradientUndefined("a float divisor was zero or an atomic min or max met an equal value: no point is compared")
    gradients, errors, skipped = {}, {}, {}
    for name in inputs:
        base = values[name]
        gradient = np.zeros(base.shape, dtype=np.float64)
        bound = np.zeros(base.shape, dtype=np.float64)
        skip = np.zeros(base.shape, dtype=bool)
        for index in np.ndindex(base.shape):
            x = float(base[index])
            h = _step(x, eps)
            plus, minus = base.copy(), base.copy()
            plus[index] = x + h
            minus[index] = x - h
            width = float(plus[index]) - float(minus[index])
            (high, high_error, high_taken), (low, low_error, low_taken) = loss({name: plus}), loss({name: minus})
            skip[index] = singular or high_taken != taken or low_taken != taken
            with np.errstate(all="ignore"):
                gradient[index] = (high - low) / width
                bound[index] = FD_ROUNDINGS * (high_error + low_error) / width
        gradients[name], errors[name], skipped[name] = gradient, bound, skip
    if beside_grad_call:
        raise BesideGradCall("finite differences see through grad(f, x), which the adjoints hold constant", skipped)
    return gradients, errors, skipped


# ------------------------------------------------------------------ comparing


@dataclass(frozen=True)
class GradientMismatch:
    array: str
    index: tuple[int, ...]
    expected: float
    got: float

    def __str__(self) -> str:
        return f"d/d{self.array}{list(self.index)}: {self.expected!r} against {self.got!r}"


def compare_gradients(
    expected: dict[str, np.ndarray], got: dict[str, np.ndarray], rtol: float, atol: float, limit: int = 5,
    slack: dict[str, np.ndarray] | None = None, skip: dict[str, np.ndarray] | None = None,
) -> list[GradientMismatch]:
    """Up to `limit` disagreeing elements per array; empty is agreement.

    Elements agree when |got - expected| <= atol * scale + rtol * |expected|,
    with scale the largest magnitude of either array (at least 1): a gradient
    near zero beside large ones is compared at the size of the large ones.
    `slack` adds a known error bound per element (finite differences' rounding);
    elements `skip` marks are not compared. NaN equals NaN; infinities must match.
    """
    mismatches: list[GradientMismatch] = []
    for name, want in expected.items():
        if name not in got:
            mismatches.append(GradientMismatch(name, (), math.nan, math.nan))
            continue
        w = np.asarray(want, dtype=np.float64)
        h = np.asarray(got[name], dtype=np.float64)
        if w.shape != h.shape:
            mismatches.append(GradientMismatch(name, (), math.nan, math.nan))
            continue
        with np.errstate(all="ignore"):
            finite = np.concatenate([np.abs(w[np.isfinite(w)]), np.abs(h[np.isfinite(h)]), [1.0]])
            scale = float(np.max(finite))
            allowed = atol * scale + rtol * np.abs(w)
            if slack is not None and name in slack and np.shape(slack[name]) == w.shape:
                allowed = allowed + np.nan_to_num(np.asarray(slack[name], dtype=np.float64), nan=0.0, posinf=np.inf)
            close = np.abs(h - w) <= allowed
            close |= (np.isnan(w) & np.isnan(h)) | (np.isinf(w) & (w == h))
            if skip is not None and name in skip and np.shape(skip[name]) == w.shape:
                close |= np.asarray(skip[name], dtype=bool)
        for index in list(zip(*np.nonzero(~close)))[:limit]:
            index = tuple(int(i) for i in index)
            mismatches.append(GradientMismatch(name, index, float(w[index]), float(h[index])))
    return mismatches


PAIRS = (("warp", "jax"), ("warp", "fd"), ("jax", "fd"))


def pair_tolerance(a: str, b: str) -> tuple[float, float]:
    return FD_TOLERANCE if "fd" in (a, b) else ANALYTIC_TOLERANCE


def disagreements(
    gradients: dict[str, dict[str, np.ndarray]], fd_error: dict[str, np.ndarray] | None = None, skipped: dict[str, np.ndarray] | None = None,
) -> dict[tuple[str, str], list[GradientMismatch]]:
    """The pairs of available sources that disagree, with their mismatches
    (a pair with finite differences allowing for `fd_error`; no pair at the
    points `skipped` marks)."""
    found = {}
    for a, b in PAIRS:
        if a in gradients and b in gradients:
            slack = fd_error if "fd" in (a, b) else None
            mismatches = compare_gradients(gradients[b], gradients[a], *pair_tolerance(a, b), slack=slack, skip=skipped)
            if mismatches:
                found[(a, b)] = mismatches
    return found


def odd_one_out(pairs: set[tuple[str, str]], available: set[str]) -> str:
    """Which source the disagreeing pairs blame: the one in every disagreeing
    pair while the other two agree; "mixed" when no single one is."""
    for source in GRADIENT_SOURCES:
        others = [s for s in GRADIENT_SOURCES if s != source]
        involved = {p for p in PAIRS if source in p and set(p) <= available}
        if involved and pairs == involved and tuple(others) not in pairs and set(others) <= available:
            return source
    return "mixed"


# ------------------------------------------------------------------ the backend


def _tempdir() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="ks-grad-"))


class GradientChecker:
    """Computes the three sources' gradients for batches of programs.

    `compile(programs, launch=, seed=)` gives one GradientResult per program:
    status "excluded" (message: the rule) when `differentiability` excludes
    it; Warp's failure (render/codegen/compile error, or run_error at stage
    "backward") when Warp gives no gradients; else "ok" with every source's
    gradients (JAX or the reference failing is not a Warp finding: that
    source is listed as unavailable and the remaining pairs are compared).

    `adjust_warp(program, gradients)` is the hook through which a test
    backend injects faults from the outside (backends.faults).
    """

    def __init__(self, workdir=None, target: str = "cpu", **_ignored):
        from .warp_backend import WarpCompiler
        from .warp_release import installed

        # -O0 where the release takes an optimization level: the backward
        # module builds 3x faster (64 programs on 1.19.0: 1.44 s against
        # 4.42 s) with the same gradients, so every eligible program can be
        # checked; the forward campaign compiles optimised code. Not for
        # CUDA: an -O0 NVRTC build can corrupt later modules in its process.
        release = installed()
        level = None
        if target == "cpu" and release is not None and release.has("optimization_level"):
            level = GRADIENT_OPTIMIZATION_LEVEL
        self.compiler = WarpCompiler(target, workdir or _tempdir(), backward=True, run=False, optimization_level=level)
        if self.compiler.device is None:
            raise GradientUnavailable(f"Warp's {target} adjoints run only where a {target} device is")

    def compile(self, programs: list[A.Program], launch: int = GRADIENT_LAUNCH, seed: int = 0) -> list[GradientResult]:
        return self.check(programs, launch, seed)

    def check(
        self, programs: list[A.Program], launch: int = GRADIENT_LAUNCH, seed: int = 0, rules: bool = True, every_source: bool = False,
    ) -> list[GradientResult]:
        """`compile`; with rules=False, excluded programs are compared too
        (what the tests use to show that the rules exclude real differences);
        with every_source, JAX is asked even where Warp and finite differences agree."""
        results: list[GradientResult | None] = [None] * len(programs)
        eligible = []
        for index, program in enumerate(programs):
            rule = differentiability(program, self.compiler.release) if rules else None
            if rule is not None:
                results[index] = GradientResult(Status.EXCLUDED, Stage.GRADIENT, rule)
            else:
                eligible.append(index)
        warp = warp_gradients_batch(self.compiler, [programs[i] for i in eligible], launch, seed) if eligible else []
        for index, result in zip(eligible, warp):
            if isinstance(result, Outcome):
                results[index] = GradientResult(result.status, result.stage, result.message)
            else:
                program = programs[index]
                results[index] = self._others(program, self.adjust_warp(program, result), gradient_launch(program, launch), seed, every_source)
        return results  # type: ignore[return-value]

    def adjust_warp(self, program: A.Program, gradients: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return gradients

    def _others(self, program: A.Program, warp: dict[str, np.ndarray], launch: int, seed: int, every_source: bool = False) -> GradientResult:
        """Finite differences first; JAX only where they give no verdict with
        Warp (they disagree, or finite differences are unavailable): JAX's
        jit costs more than the rest of a check, and a third opinion is only
        needed to name the odd one out."""
        sources = {"warp": warp}
        unavailable: dict[str, str] = {}

        blind: dict[str, np.ndarray] = {}

        def attempt(source: str, compute):
            try:
                return compute()
            except GradientUndefined:
                raise
            except BesideGradCall as exc:
                unavailable[source] = str(exc)
                blind.update(exc.skipped)
            except GradientUnavailable as exc:
                unavailable[source] = str(exc)
            except Exception as exc:  # our bug, but not Warp's: keep the trace with the reason
                unavailable[source] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
            return None

        fd_error: dict[str, np.ndarray] = {}
        skipped: dict[str, np.ndarray] = {}
        try:
            checked = attempt("fd", lambda: fd_gradients_checked(program, launch, seed))
        except GradientUndefined as exc:
            return GradientResult(Status.EXCLUDED, Stage.GRADIENT, f"undefined: {exc}")
        if checked is not None:
            sources["fd"], fd_error, skipped = checked
        else:
            skipped = blind
        if every_source or "fd" not in sources or disagreements({"warp": warp, "fd": sources["fd"]}, fd_error, skipped):
            jax = attempt("jax", lambda: jax_gradients(program, launch, seed))
            if jax is not None:
                sources["jax"] = jax
        return GradientResult(Status.OK, Stage.GRADIENT, sources=sources, unavailable=unavailable, fd_error=fd_error, skipped=skipped)


def gradient_checker(workdir=None, **options) -> GradientChecker:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    return GradientChecker(workdir, **options)


def gradient_checker_cuda(workdir=None, **options) -> GradientChecker:
    """Warp's CUDA adjoints, launched on the GPU (JAX's third opinion stays on the CPU)."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    return GradientChecker(workdir, target="cuda", **options)
