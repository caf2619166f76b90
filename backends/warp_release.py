"""What each Warp release can do: the one table the renderer and backends ask.

Each feature names the first release that has it, as measured on the releases
themselves (a probe kernel on warp-lang 1.0.2, 1.4.1, 1.8.0, 1.10.0, 1.12.1,
1.17.0, 1.18.0 and 1.19.0; `tests/test_warp_release.py` checks the installed
release against the table). A construct a release lacks is rendered in an
equivalent spelling it accepts (`backends.warp_render`), and a backend that
cannot work on it says which release it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .release import Feature, Release, ReleaseTooOld, release_parts

__all__ = [
    "FEATURES", "KNOWN_BUGS", "NEWEST", "OLDEST_SUPPORTED", "Feature", "KnownBug", "ReleaseTooOld", "WarpRelease", "avoided_shapes", "installed",
    "programs_per_module",
]

OLDEST_SUPPORTED = "1.0.0"


FEATURES: dict[str, Feature] = {
    # `x if c else y` inside kernels, evaluating only the arm taken; before
    # it, `wp.select(c, y, x)`, which evaluates both (generated programs have
    # no undefined behaviour in either arm; a side effect in one is unsupported)
    "conditional_expressions": Feature("1.8.0", "conditional expressions (`a if c else b`) in kernels"),
    # `and`/`or` evaluate their right operand only when needed; before it,
    # every operand is evaluated (a side effect there would run regardless)
    "short_circuit": Feature("1.13.0", "short-circuit `and`/`or` in kernels"),
    "where": Feature("1.7.0", "wp.where(cond, value_if_true, value_if_false)"),
    "vector_abs": Feature("1.3.0", "wp.abs of a vector"),
    # wp.select(cond, value_if_false, value_if_true), deprecated in 1.7
    "select_removed": Feature("1.10.0", "no wp.select (use wp.where)"),
    # `//` on signed integers floors as in Python; before it, it truncates as
    # C's `/` does (measured: -7 // 2 is -3 on 1.17.0, -4 on 1.18.0)
    "floor_division": Feature("1.18.0", "integer `//` that floors"),
    "log_level": Feature("1.14.0", "wp.config.log_level and wp.LOG_WARNING"),
    "aot_compile": Feature("1.9.0", "wp.compile_aot_module"),
    "driverless_nvrtc": Feature("1.12.0", "CUDA compiles through NVRTC without a driver"),
    "optimization_level": Feature("1.11.0", "the optimization_level module option"),
    # before it, every CPU module parses Warp's headers again: 0.5 s a module
    # on 1.0.2, 1.2 s on 1.12.1, against 0.08 s on 1.19.0 (one program per module)
    "cpu_precompiled_headers": Feature("1.13.0", "precompiled headers in the CPU compiler"),
    # the backward pass zeroes an array element's adjoint at its store, so an
    # element written more than once gets the right gradient
    "gradient_overwrites": Feature("1.13.0", "adjoints of arrays overwritten in the forward pass"),
    # wp.config.enable_vector_component_overwrites: a local vector's, matrix's
    # or quaternion's component assigned more than once keeps its adjoint (a
    # copy per assignment); without it Warp documents that each component may
    # be assigned once (Warp's changelog and differentiability guide, 1.7.0)
    "component_overwrites": Feature("1.7.0", "wp.config.enable_vector_component_overwrites"),
    # Python expressions evaluated at code generation (Warp's changelog, 1.4.0)
    "static": Feature("1.4.0", "wp.static(expr)"),
    # tile_load(a, shape=, offset=), tile_map (one or two tiles), tile_sum,
    # tile_max, tile_min and wp.launch_tiled, compiled and run on the CPU
    # (measured on the installed releases: 1.4.2 has no launch_tiled, 1.5.1
    # no tile_load(shape=, offset=), 1.7.0 and 1.8.0 fail to build a CPU
    # tile reduction in C++ (tile_reduce.h: "type 'Storage' does not provide a
    # subscript operator"); 1.8.1, 1.9.1, 1.10.0 and 1.19.0 run them)
    "tiles": Feature("1.8.1", "tiles on the CPU: tile_load, tile_map, tile_matmul, tile_reshape, tile_sum/max/min, launch_tiled"),
    # quaternions (measured on 1.0.2, 1.4.1, 1.5.1, 1.7.0, 1.8.0, 1.8.1,
    # 1.12.1, 1.19.0): before 1.8.0 `q.x` as a value fails at codegen
    # ("WarpCodegenAttributeError") and `-q` in C++ ("invalid argument type
    # 'const wp::quat_t<float>' to unary expression"): the renderer spells
    # them `q[0]` and `q * -1.0`; a component store fails on 1.0.2 to 1.2.0
    "quat_attributes": Feature("1.8.0", "reading a quaternion's component by name (q.x)"),
    "quat_negation": Feature("1.8.0", "unary minus of a quaternion"),
    "quat_component_store": Feature("1.3.3", "assigning a quaternion's component (q.x = e, q[k] = e)"),
    # user functions with typing.Any parameters, instantiated per call (and
    # `-> Any`), and several @wp.func of one name resolved by argument types:
    # measured on the 25 releases 1.0.0 to 1.19.0 installed here (a kernel
    # calling a generic helper at float32, float64, int32, vec3 and mat33, a
    # generic calling a generic, one with a concrete return type, three
    # overloads by type and arity): every one compiles them and computes the
    # right values; the adjoints of generic and overloaded calls are right on
    # 1.0.2, 1.8.1 and 1.19.0
    "generic_helpers": Feature("1.0.0", "generic user functions (typing.Any parameters)"),
    "overloaded_helpers": Feature("1.0.0", "overloaded user functions (one name, several @wp.func)"),
    # a wp.array field in a @wp.struct kernel parameter, read at an index and
    # through .shape[0], or stored at the thread's index (whole, and one
    # component of a vec3 element): measured on 1.0.2 and 1.19.0 on the CPU
    # (float32 and vec3 fields, tests/programs/valid/struct_arrays.kernel with
    # its ternary read spelled as an if: outputs agree with the reference;
    # Tape adjoints through an In field and from an Out field agree with each
    # other and the closed form). 1.0.0 and
    # 1.0.1 were not measured: the table credits the oldest measured release,
    # so there such programs are unsupported, never a finding
    "struct_array_fields": Feature("1.0.2", "arrays as @wp.struct fields (wp.array in a struct parameter)"),
    # wp.atomic_and, atomic_or, atomic_xor on int arrays (in 1.10.0's
    # builtins, not in 1.9.0's: measured on the installed releases)
    "atomic_bitwise": Feature("1.10.0", "wp.atomic_and, wp.atomic_or, wp.atomic_xor"),
    # wp.array2d kernel parameters read at g[r, c], stored and updated (+=)
    # at the thread's own row, and g.shape[0], g.shape[1]: measured on 1.0.2
    # and 1.19.0 on the CPU (tests/programs/valid/arrays_2d.kernel with its
    # ternary read spelled as an if, on 4 input seeds: outputs agree with the
    # reference; Tape adjoints through In and from Out 2-D arrays agree with
    # JAX and finite differences). 1.0.0 and 1.0.1 were not measured: the
    # table credits the oldest measured release, as for struct_array_fields
    "arrays_2d": Feature("1.0.2", "two-dimensional arrays (wp.array2d parameters, a[i, j], a.shape[1])"),
    # with backward code on (as it always is here), `a[i].x *= e` and `/=`
    # on a component of an array element are a codegen error that says so
    # ("Differentiable composite slot augmented assignments with this
    # operator are not supported"): measured on 1.18.0 and 1.19.0, not on
    # 1.17.0; the renderer spells them `a[i].x = a[i].x * e` there
    "component_update_products_removed": Feature("1.18.0", "no `*=` or `/=` on a component of an array element (with backward code)"),
    # `f(*v)`: a vector's components as a user function's arguments ("Construct
    # `ast.Starred` not supported in kernels" on 1.8.1, 1.9.0 and 1.10.0; right
    # on 1.11.1, 1.15.0, 1.17.0 and 1.19.0); before it, `f(v[0], v[1], v[2])`
    "starred_arguments": Feature("1.11.1", "starred call arguments (f(*v))"),
    # `f(*v[a:b:c])` with Python's slice bounds: on 1.11.1 and 1.15.0 a bound
    # past the vector's end selects other components (`v[4:-3:-1]` of a vec4
    # gives three, not `v[3], v[2]`), right on 1.17.0, 1.18.0 and 1.19.0;
    # before it the renderer lists the components
    # @wp.func_native returning a value (Warp's changelog, 1.1.0)
    "native_helpers": Feature("1.1.0", "@wp.func_native helpers that return a value"),
    # wp.grad(f) inside a kernel (Warp's changelog, 1.11.0)
    "grad_calls": Feature("1.11.0", "wp.grad(f)(x), a function's derivative in a kernel"),
    # a @wp.func parameter annotated wp.Function, passed a @wp.func by name
    # (Warp's changelog, 1.15.0; 1.14.0 measured: "Unrecognized type")
    "function_params": Feature("1.15.0", "wp.Function parameters of a @wp.func"),
    "starred_slices": Feature("1.17.0", "slices of a vector as starred arguments (f(*v[1:3]))"),
    # before it, a scalar is broadcast to a tile as wp.tile_ones(...) times the scalar
    "tile_full": Feature("1.10.0", "wp.tile_full(shape, value, dtype)"),
}


class WarpRelease(Release):
    """A warp-lang release, asked against FEATURES."""

    PACKAGE = "warp-lang"
    FEATURES = FEATURES


# What the renderer assumes when no release is named: every feature
NEWEST = WarpRelease("999.0.0")


def programs_per_module(release: WarpRelease | None) -> int:
    """Programs a worker compiles as one module. Measured per program, 32 to a
    module: 34 ms on 1.19.0, 33 ms on 1.0.2, 63 ms on 1.12.1; 128 to a module:
    28, 20 and 32 ms. Releases whose CPU compiler parses the headers for every
    module get the larger modules; later ones keep batches short, so that
    findings and progress come sooner."""
    if release is None or release.has("cpu_precompiled_headers"):
        return 32
    return 128


@dataclass(frozen=True)
class KnownBug:
    """A Warp bug in corpora whose trigger the generator can leave out."""

    shape: str  # grammar.weights.AVOIDABLE
    since: str  # the oldest release measured to have it
    fixed: str | None  # the first release without it; None: the newest measured has it
    cases: tuple[str, ...]  # its corpus cases (files or folders)


# The known bugs that failed programs of a draw at the default weights
# (benchmarks/bench_validity.py --n 1000 --seed 0 on 1.19.0: 17, 12 and 4
# of the 33 programs warp-cpu failed, all of them). A campaign leaves their
# shapes out where the installed release has them (`synth fuzz --known-bugs
# draw` keeps them); `synth replay corpora/` still runs each case, and shows
# a fix. The first two measured with `synth bisect --releases
# 1.0.2,1.4.1,1.8.1,1.14.0,latest` on their cases.
KNOWN_BUGS = (
    # fails on 1.19.0, and with other messages on 1.0.2, 1.8.1 and 1.14.0;
    # where the names are then assigned a value of the same type, it compiles
    # and a change to one name in a dynamic loop changes the other
    KnownBug("unpack-reference", "1.0.2", None, (
        "corpora/warp-cpu/warp-cpu-codegen-error-assigning-to-existing-symbol-id-wp-re-05f62416",
        "corpora/warp-cpu/warp-cpu-codegen-error-assigning-to-existing-symbol-id-class-c8e72ec6",
        "corpora/warp-cpu/warp-cpu-forward-float-value-c8890029/48161d86b650058b.kernel",
    )),
    # before 1.4.0 there is no static(); from it, the loop is either unrolled
    # and the break finds no loop to leave (1.14.0, 1.19.0), or not unrolled
    # and the static() cannot read its variable (1.8.1): a codegen error
    # either way
    KnownBug("exit-beside-static", "1.4.0", None, (
        "corpora/warp-cpu/warp-cpu-codegen-list-index-out-of-range-d0ef2c4e",
        "corpora/warp-cpu/warp-cpu-forward-float-value-c8890029/f5404b5a0b8d14fd.kernel",
        "corpora/warp-cpu/warp-cpu-forward-int-value-eaf9a5c2/46c640671c62031c.kernel",
    )),
    # a helper that calls grad() is built in a later pass, and where another
    # helper calls it (by name, or passed for a Function parameter) its
    # native code is not yet declared (measured by hand on 1.19.0, both ways;
    # not on 1.11.0 to 1.18.0, the other releases with grad())
    KnownBug("grad-helper-in-helper", "1.11.0", None, ("corpora/warp-cpu/warp-cpu-compile-runtimeerror-cpu-kernel-build-failed-with-e-435e43e1",)),
)


def avoided_shapes(release: WarpRelease | None) -> frozenset[str]:
    """The shapes of the KNOWN_BUGS that `release` has."""
    if release is None:
        return frozenset()
    return frozenset(
        bug.shape for bug in KNOWN_BUGS
        if release.key >= release_parts(bug.since) and (bug.fixed is None or release.key < release_parts(bug.fixed))
    )


def installed() -> WarpRelease | None:
    """The warp-lang release installed here, or None."""
    return WarpRelease.installed()
