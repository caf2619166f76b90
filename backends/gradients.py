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

Gradients are only compared where a program stays inside what Warp documents
as differentiable (DESIGN.md, "Known semantic differences") and where finite
differences mean something. `differentiability` checks that on the AST,
conservatively, and names the first rule that excludes a program; the campaign
counts exclusions per rule.

`GradientChecker` is a backend in the sense of `backends.pool`: built in a
worker process (its own Warp kernel cache; a crash costs the worker only),
`compile(programs, launch=, seed=)` answers one Outcome per program, whose
outputs hold every source's gradients under "warp:<array>", "jax:<array>" and
"fd:<array>". `synth.oracles.judge_gradient` compares them.
"""

from __future__ import annotations

import math
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.types import ArrayType, DType, Role

from .inputs import make_inputs
from .outcome import OK, Outcome

# ------------------------------------------------------------------- the rules

DYNAMIC_LOOP = "dynamic-loop"  # a for whose bound is not a literal, or a while
LONG_LOOP = "long-loop"  # a literal trip count (or a nest's product) above Warp's max_unroll
BREAK_CONTINUE = "break-continue"
INPLACE_MUL_DIV = "inplace-mul-div"  # `a[i] *= e`, `a[i] /= e`
ARRAY_OVERWRITE = "array-overwrite"  # a float Out array stored twice (or in a loop), a float InOut written
COMPONENT_REASSIGN = "component-reassign"  # any assignment to a vector component
ATOMIC_MIN_MAX = "atomic-min-max"
HELPER_EFFECTS = "helper-effects"  # a helper (reachable from the kernel) with atomics
VECTOR_OPS = "vector-ops"  # length / normalize: singular at the zero vector
NON_SMOOTH = "non-smooth"  # float kinks and steps, comparisons of floats
INTEGER_ONLY = "integer-only"  # no float input array or no float output array
FLOAT64 = "float64"  # reserved: float64 programs are compared (see `differentiability`)

RULES = (
    INTEGER_ONLY,
    DYNAMIC_LOOP,
    LONG_LOOP,
    BREAK_CONTINUE,
    HELPER_EFFECTS,
    ATOMIC_MIN_MAX,
    INPLACE_MUL_DIV,
    ARRAY_OVERWRITE,
    COMPONENT_REASSIGN,
    VECTOR_OPS,
    NON_SMOOTH,
    FLOAT64,
)

MAX_UNROLL = 16  # warp.config.max_unroll's default
# Builtins with a kink or a step on float arguments. atan2 has a branch cut on
# the negative x axis (which quarter-step inputs hit) and is singular at 0.
NON_SMOOTH_CALLS = frozenset({"floor", "ceil", "sign", "min", "max", "clamp", "abs", "atan2"})
SINGULAR_VECTOR_CALLS = frozenset({"length", "normalize"})
EXCLUDE_FLOAT64 = False  # float64 programs agree with the others (tests/test_gradients.py)

GRADIENT_LAUNCH = 4  # threads per gradient check: finite differences cost O(launch * elements) runs
FD_STEP = 2.0**-7  # exact in float32 for inputs in [-4, 4]

# (rtol, atol); atol is relative to the largest gradient of the array (and 1)
ANALYTIC_TOLERANCE = (1e-3, 1e-4)
FD_TOLERANCE = (5e-2, 1e-2)


def _floatish(ty: DType) -> bool:
    return ty.is_float or ty.is_vector or ty.is_matrix


def _float_array(param: A.Param) -> bool:
    return isinstance(param.ty, ArrayType) and _floatish(param.ty.elem)


def _stored_arrays(kernel: A.Kernel) -> set[str]:
    return {n.target.array for n in A.walk(kernel) if isinstance(n, (A.Assign, A.AugAssign)) and isinstance(n.target, A.ArrayRead)}


def gradient_inputs(kernel: A.Kernel) -> list[str]:
    """The arrays gradients are taken with respect to: float In arrays and
    float InOut arrays the kernel never writes."""
    stored = _stored_arrays(kernel)
    return [
        p.name
        for p in kernel.params
        if _float_array(p) and (p.ty.role is Role.IN or (p.ty.role is Role.INOUT and p.name not in stored))
    ]


def gradient_outputs(kernel: A.Kernel) -> list[str]:
    """The arrays the loss sums: float Out and Acc arrays."""
    return [p.name for p in kernel.params if _float_array(p) and p.ty.role in (Role.OUT, Role.ACC)]


def _reachable_helpers(program: A.Program) -> list[A.Func]:
    funcs = {f.name: f for f in program.funcs}
    seen: dict[str, A.Func] = {}
    stack: list[object] = [program.kernels[0]]
    while stack:
        node = stack.pop()
        for sub in A.walk(node):
            if isinstance(sub, A.Call) and sub.func in funcs and sub.func not in seen:
                seen[sub.func] = funcs[sub.func]
                stack.append(funcs[sub.func])
    return [f for f in program.funcs if f.name in seen]  # definition order


def _typed(program: A.Program) -> A.Program:
    """`program` with every expression typed (the rules read types)."""
    for definition in program.funcs + program.kernels:
        for node in A.walk(definition):
            if isinstance(node, A.EXPR_TYPES) and node.ty is None:
                from kernel_synth.grammar import check

                return check(program)
    return program


def _loop_rules(body, outer: int, found: set[str]) -> None:
    """DYNAMIC_LOOP and LONG_LOOP over a statement list; `outer` is the product
    of the enclosing literal trip counts."""
    for stmt in body:
        if isinstance(stmt, A.While):
            found.add(DYNAMIC_LOOP)
            _loop_rules(stmt.body, outer * max(stmt.limit, 1), found)
        elif isinstance(stmt, A.For):
            if isinstance(stmt.bound, A.Const) and isinstance(stmt.bound.value, int):
                trips = stmt.bound.value
                if trips > MAX_UNROLL or outer * max(trips, 1) > MAX_UNROLL:
                    found.add(LONG_LOOP)
            else:  # `range(clamp(e, 0, K))`: at most K trips
                found.add(DYNAMIC_LOOP)
                top = stmt.bound.args[-1] if isinstance(stmt.bound, A.Call) and stmt.bound.args else None
                trips = top.value if isinstance(top, A.Const) and isinstance(top.value, int) else MAX_UNROLL + 1
            _loop_rules(stmt.body, outer * max(trips, 1), found)
        elif isinstance(stmt, A.If):
            for body in stmt.branches:
                _loop_rules(body, outer, found)


def _store_counts(body, in_loop: bool, counts: dict[str, int]) -> None:
    """How often each array is stored; a store inside a loop counts twice."""
    for stmt in body:
        if isinstance(stmt, (A.Assign, A.AugAssign)) and isinstance(stmt.target, A.ArrayRead):
            counts[stmt.target.array] = counts.get(stmt.target.array, 0) + (2 if in_loop else 1)
        elif isinstance(stmt, (A.For, A.While)):
            _store_counts(stmt.body, True, counts)
        elif isinstance(stmt, A.If):
            for body in stmt.branches:
                _store_counts(body, in_loop, counts)


def _non_smooth(node) -> bool:
    if isinstance(node, A.Call) and node.func in NON_SMOOTH_CALLS:
        return node.ty is None or _floatish(node.ty)
    if isinstance(node, A.BinOp) and node.op in ("%", "//"):
        return node.ty is None or _floatish(node.ty)
    if isinstance(node, A.Cast):  # float -> int is a step
        return node.operand.ty is None or (_floatish(node.operand.ty) and not _floatish(node.to))
    if isinstance(node, A.Compare):  # a float comparison feeds a branch, a ternary or a loop
        return node.left.ty is None or _floatish(node.left.ty) or _floatish(node.right.ty)
    return False


def exclusions(program: A.Program) -> list[str]:
    """Every rule that excludes the first kernel of `program`, in RULES order."""
    program = _typed(program)
    kernel = program.kernels[0]
    helpers = _reachable_helpers(program)
    definitions = [kernel, *helpers]
    nodes = [n for d in definitions for n in A.walk(d)]
    found: set[str] = set()

    if not gradient_inputs(kernel) or not gradient_outputs(kernel):
        found.add(INTEGER_ONLY)
    for definition in definitions:
        _loop_rules(definition.body, 1, found)
    if any(isinstance(n, (A.Break, A.Continue)) for n in nodes):
        found.add(BREAK_CONTINUE)
    if any(isinstance(n, A.Atomic) for h in helpers for n in A.walk(h)):
        found.add(HELPER_EFFECTS)
    if any(isinstance(n, A.Atomic) and n.op in ("min", "max") for n in nodes):
        found.add(ATOMIC_MIN_MAX)
    if any(isinstance(n, A.AugAssign) and n.op in ("*=", "/=") and isinstance(n.target, A.ArrayRead) for n in nodes):
        found.add(INPLACE_MUL_DIV)
    roles = {p.name: p for p in kernel.params if isinstance(p.ty, ArrayType)}
    counts: dict[str, int] = {}
    _store_counts(kernel.body, False, counts)
    for name, count in counts.items():
        param = roles.get(name)
        if param is None or not _float_array(param):
            continue
        if param.ty.role is Role.INOUT or count > 1:
            found.add(ARRAY_OVERWRITE)
    if any(isinstance(n, (A.Assign, A.AugAssign)) and isinstance(n.target, A.Component) for n in nodes):
        found.add(COMPONENT_REASSIGN)
    if any(isinstance(n, A.Call) and n.func in SINGULAR_VECTOR_CALLS for n in nodes):
        found.add(VECTOR_OPS)
    if any(_non_smooth(n) for n in nodes):
        found.add(NON_SMOOTH)
    if EXCLUDE_FLOAT64 and any(getattr(n, "ty", None) is not None and n.ty.name == "float64" for n in nodes):
        found.add(FLOAT64)
    return [rule for rule in RULES if rule in found]


def differentiability(program: A.Program) -> str | None:
    """None when the first kernel's gradients are compared, else the first rule
    (in RULES order) that excludes it."""
    found = exclusions(program)
    return found[0] if found else None


# ------------------------------------------------------------------ the sources


class GradientUnavailable(Exception):
    """A source could not give gradients for a program (not a finding by itself)."""


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
            results[index] = _warp_launch(compiler, module, names, programs[index], n, seed)
        except Exception as exc:
            results[index] = Outcome("run_error", "backward", f"{type(exc).__name__}: {exc}")
    return results


def _warp_launch(compiler, module, names, program: A.Program, n: int, seed: int) -> dict[str, np.ndarray]:
    wp = compiler.wp
    kernel = program.kernels[0]
    inputs, outputs = gradient_inputs(kernel), gradient_outputs(kernel)
    float_arrays = frozenset(p.name for p in kernel.params if _float_array(p))
    args, arrays = compiler.launch_args(kernel, make_inputs(kernel, n, seed), "cpu", requires_grad=float_arrays)
    tape = wp.Tape()
    with tape:
        wp.launch(getattr(module, names[kernel.name]), dim=n, inputs=args, device="cpu")
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

    from .jax_render import load_kernel, render_jax

    kernel = program.kernels[0]
    inputs, outputs = gradient_inputs(kernel), gradient_outputs(kernel)
    try:
        function = load_kernel(render_jax(program), program, kernel)
    except Exception as exc:
        raise GradientUnavailable(f"jax render: {type(exc).__name__}: {exc}") from exc
    values = make_inputs(kernel, n, seed)
    args = [np.asarray(values[p.name]) for p in kernel.params]
    positions = tuple(k for k, p in enumerate(kernel.params) if p.name in inputs)
    if not positions or not outputs:
        return {}

    def loss(*arguments):
        result = function(*arguments)
        return sum(jnp.sum(result[name]) for name in outputs)

    try:
        grads = jax.jit(jax.grad(loss, argnums=positions))(*args)
    except Exception as exc:
        raise GradientUnavailable(f"jax grad: {type(exc).__name__}: {exc}") from exc
    return {kernel.params[k].name: np.asarray(g) for k, g in zip(positions, grads)}


def _step(x: float, eps: float) -> float:
    """A power-of-two step relative to |x|: x +- step is exact when x is a
    multiple of it (quarter-step inputs are)."""
    scale = 2.0 ** math.ceil(math.log2(abs(x))) if abs(x) > 1 else 1.0
    return eps * scale


def fd_gradients(program: A.Program, n: int = GRADIENT_LAUNCH, seed: int = 0, eps: float = FD_STEP) -> dict[str, np.ndarray]:
    """Central finite differences of the loss on the reference interpreter,
    {input array: gradient} in float64. The reference runs in the program's
    types, so the loss is float32 arithmetic: `eps` must stay coarse (1e-2)."""
    from .reference import ReferenceFailure, run_reference

    kernel = program.kernels[0]
    inputs, outputs = gradient_inputs(kernel), gradient_outputs(kernel)
    values = make_inputs(kernel, n, seed)

    def loss(changed: dict) -> float:
        try:
            result = run_reference(program, kernel.name, {**values, **changed}, n)
        except ReferenceFailure as exc:
            raise GradientUnavailable(f"reference: {exc}") from exc
        return float(sum(np.sum(result[name], dtype=np.float64) for name in outputs))

    gradients = {}
    for name in inputs:
        base = values[name]
        gradient = np.zeros(base.shape, dtype=np.float64)
        for index in np.ndindex(base.shape):
            x = float(base[index])
            h = _step(x, eps)
            plus, minus = base.copy(), base.copy()
            plus[index] = x + h
            minus[index] = x - h
            width = float(plus[index]) - float(minus[index])
            with np.errstate(all="ignore"):
                gradient[index] = (loss({name: plus}) - loss({name: minus})) / width
        gradients[name] = gradient
    return gradients


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
    expected: dict[str, np.ndarray], got: dict[str, np.ndarray], rtol: float, atol: float, limit: int = 5
) -> list[GradientMismatch]:
    """Up to `limit` disagreeing elements per array; empty is agreement.

    Elements agree when |got - expected| <= atol * scale + rtol * |expected|,
    with scale the largest magnitude of either array (at least 1): a gradient
    near zero beside large ones is compared at the size of the large ones.
    NaN equals NaN; infinities must match.
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
            close = np.abs(h - w) <= atol * scale + rtol * np.abs(w)
            close |= (np.isnan(w) & np.isnan(h)) | (np.isinf(w) & (w == h))
        for index in list(zip(*np.nonzero(~close)))[:limit]:
            index = tuple(int(i) for i in index)
            mismatches.append(GradientMismatch(name, index, float(w[index]), float(h[index])))
    return mismatches


SOURCES = ("warp", "jax", "fd")
PAIRS = (("warp", "jax"), ("warp", "fd"), ("jax", "fd"))


def split_sources(outputs: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """{"warp:x": g, ...} -> {"warp": {"x": g}, ...}"""
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, value in outputs.items():
        source, _, name = key.partition(":")
        out.setdefault(source, {})[name] = value
    return out


def pair_tolerance(a: str, b: str) -> tuple[float, float]:
    return FD_TOLERANCE if "fd" in (a, b) else ANALYTIC_TOLERANCE


def disagreements(gradients: dict[str, dict[str, np.ndarray]]) -> dict[tuple[str, str], list[GradientMismatch]]:
    """The pairs of available sources that disagree, with their mismatches."""
    found = {}
    for a, b in PAIRS:
        if a in gradients and b in gradients:
            mismatches = compare_gradients(gradients[b], gradients[a], *pair_tolerance(a, b))
            if mismatches:
                found[(a, b)] = mismatches
    return found


def odd_one_out(pairs: set[tuple[str, str]], available: set[str]) -> str:
    """Which source the disagreeing pairs blame: the one in every disagreeing
    pair while the other two agree; "mixed" when no single one is."""
    for source in SOURCES:
        others = [s for s in SOURCES if s != source]
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

    `compile(programs, launch=, seed=)` gives one Outcome per program: status
    "excluded" (message: the rule) when `differentiability` excludes it;
    Warp's failure (render/codegen/compile error, or run_error at stage
    "backward") when Warp gives no gradients; else "ok", with outputs
    {"<source>:<array>": gradient} for the sources that gave gradients and a
    message naming those that could not (JAX or the reference failing is not
    a Warp finding: the remaining pairs are still compared).

    `faulty=True` injects the faults of backends.faults' KERNEL_SYNTH_FAULTS
    variable of kind "wronggrad" (`wronggrad:sin` adds one to Warp's first
    gradient element of any program calling sin): for testing the harness.
    """

    def __init__(self, workdir=None, *, faulty: bool = False, **_ignored):
        from .warp_backend import WarpCompiler

        self.compiler = WarpCompiler("cpu", workdir or _tempdir(), backward=True, run=False)
        self.faults: list[tuple[str, str]] = []
        if faulty:
            from .faults import _faults

            self.faults = [f for f in _faults() if f[0] == "wronggrad"]

    def compile(self, programs: list[A.Program], launch: int = GRADIENT_LAUNCH, seed: int = 0) -> list[Outcome]:
        return self.check(programs, launch, seed)

    def check(self, programs: list[A.Program], launch: int = GRADIENT_LAUNCH, seed: int = 0, rules: bool = True) -> list[Outcome]:
        """`compile`; with rules=False, excluded programs are compared too
        (what the tests use to show that the rules exclude real differences)."""
        outcomes: list[Outcome | None] = [None] * len(programs)
        eligible = []
        for index, program in enumerate(programs):
            rule = differentiability(program) if rules else None
            if rule is not None:
                outcomes[index] = Outcome("excluded", "gradient", rule)
            else:
                eligible.append(index)
        warp = warp_gradients_batch(self.compiler, [programs[i] for i in eligible], launch, seed) if eligible else []
        for index, result in zip(eligible, warp):
            if isinstance(result, Outcome):
                outcomes[index] = result
                continue
            outcomes[index] = self._others(programs[index], self._fault(programs[index], result), launch, seed)
        return outcomes  # type: ignore[return-value]

    def _fault(self, program: A.Program, gradients: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from .faults import _calls, _off_by_one

        if any(_calls(program, name) for _, name in self.faults):
            return _off_by_one(gradients)
        return gradients

    def _others(self, program: A.Program, warp: dict[str, np.ndarray], launch: int, seed: int) -> Outcome:
        outputs = {f"warp:{k}": v for k, v in warp.items()}
        notes = []
        for source, function in (("jax", jax_gradients), ("fd", fd_gradients)):
            try:
                outputs.update({f"{source}:{k}": v for k, v in function(program, launch, seed).items()})
            except GradientUnavailable as exc:
                notes.append(f"{source} unavailable: {exc}")
            except Exception as exc:  # our bug, but not Warp's: keep the trace in the note
                notes.append(f"{source} unavailable: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
        return Outcome(OK, "gradient", "\n".join(notes), outputs=outputs)


def checker_pool_spec(backend: str) -> tuple[str, dict]:
    """The `BatchPool` factory and options of the gradient checker for
    `backend`'s programs (faults injected for the faulty test backend)."""
    return f"{__name__}:gradient_checker", {"faulty": backend.startswith("faulty-")}


def gradient_checker(workdir=None, **options) -> GradientChecker:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    return GradientChecker(workdir, **options)
