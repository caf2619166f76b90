"""Running a program's JAX rendering in this process.

Owns turning rendered JAX source into a callable kernel function and
launching it on NumPy inputs; what the source says is jax_render's. Used by
the JAX backend, the gradient checker and the tests.
"""

from __future__ import annotations

import numpy as np

from kernel_synth.grammar import ast as A
from kernel_synth.grammar.lowering import flat_params
from kernel_synth.grammar.types import ArrayType

from .jax_render import render_jax

__all__ = ["load_kernel", "run_jax"]


def load_kernel(source: str, kernel: A.Kernel):
    """The Python function of `kernel` from `source`, its program's JAX rendering."""
    namespace: dict[str, object] = {"__name__": "kernel_synth_jax"}
    exec(compile(source, f"<jax rendering of {kernel.name}>", "exec"), namespace)
    return namespace[kernel.name]  # a kernel's function has its name


def run_jax(program: A.Program, inputs: dict, n: int, kernel_name: str | None = None) -> dict[str, np.ndarray]:
    """Render `program`, jit one kernel (the first unless named) and launch it
    over `n` threads; returns {array name: NumPy array} for every Out, InOut
    and Acc array. `inputs` is what `backends.inputs.make_inputs` gives."""
    import jax  # an optional extra: only running needs it

    kernel = program.kernels[0] if kernel_name is None else next((k for k in program.kernels if k.name == kernel_name), None)
    if kernel is None:
        raise KeyError(f"no kernel named {kernel_name!r}")
    for p in kernel.params:
        if isinstance(p.ty, ArrayType) and np.shape(inputs[p.name])[:1] != (n,):
            raise ValueError(f"array {p.name!r} has shape {np.shape(inputs[p.name])}, not a launch of {n}")
    function = jax.jit(load_kernel(render_jax(program), kernel))
    args = [np.asarray(inputs[p.name]) for p in flat_params(kernel.params)]
    outputs = function(*args)
    return {name: np.asarray(value) for name, value in outputs.items()}
