"""The backends by name: what each needs, whether it is usable here, how to build it.

A backend is built in a worker by its factory (see backends.pool) and has
compile(programs, launch=, seed=) -> list[Outcome].
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


class BackendUnavailable(Exception):
    """A backend was asked for that this machine cannot provide."""


@dataclass(frozen=True)
class BackendInfo:
    name: str
    factory: str
    library: str  # the Python package it needs
    description: str


BACKENDS: dict[str, BackendInfo] = {
    b.name: b
    for b in (
        BackendInfo("warp-cpu", "kernel_synth.backends.warp_backend:warp_cpu", "warp", "Warp C++ through Warp's CPU compiler; runs on the CPU"),
        BackendInfo("warp-cuda", "kernel_synth.backends.warp_backend:warp_cuda", "warp", "Warp CUDA through NVRTC (no GPU needed); runs only on a GPU"),
        BackendInfo("jax-cpu", "kernel_synth.backends.jax_backend:jax_cpu", "jax", "StableHLO forward and grad, XLA-compiled and run on the CPU"),
        BackendInfo("jax-cuda", "kernel_synth.backends.jax_backend:jax_cuda", "jax", "StableHLO for CUDA by cross-platform lowering (no GPU needed)"),
        BackendInfo("faulty-warp-cpu", "kernel_synth.backends.faults:faulty_warp_cpu", "warp", "warp-cpu with faults injected from KERNEL_SYNTH_FAULTS: for testing the harness"),
        BackendInfo("reference", "kernel_synth.backends.reference_backend:reference", "numpy", "the NumPy interpreter of the DSL: the ground truth"),
    )
}


def get_backend(name: str) -> BackendInfo:
    """The named backend, or BackendUnavailable naming what is wrong."""
    info = BACKENDS.get(name)
    if info is None:
        raise BackendUnavailable(f"unknown backend {name!r} (expected one of {', '.join(BACKENDS)})")
    module = info.factory.partition(":")[0]
    if importlib.util.find_spec(info.library) is None:
        raise BackendUnavailable(f"backend {name!r} needs the Python package {info.library!r}, which is not installed")
    if importlib.util.find_spec(module) is None:
        raise BackendUnavailable(f"backend {name!r} is not built yet ({module} is missing)")
    return info
