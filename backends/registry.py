"""The backends by name, with what each can do: the one place that knows.

A backend is built in a worker by its factory (see backends.pool) and has
compile(programs, launch=, seed=) -> list[Outcome]. The oracles and the
command line ask an entry's capabilities (which source it renders, whether
it has adjoints and which checker computes them, whether it needs a GPU to
run, whether it is a fuzz target at all) instead of matching names.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
from dataclasses import dataclass

PACKAGE = "kernel_synth.backends"


_CUDA_PROBE = """
import ctypes, sys
try:
    cuda = ctypes.CDLL("libcuda.so.1")
except OSError:
    sys.exit(1)
count = ctypes.c_int(0)
sys.exit(0 if cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0 else 1)
"""


@functools.lru_cache(maxsize=1)
def cuda_device_present() -> bool:
    """Whether this machine has a CUDA device with a working driver.

    Asked in a child process: a driver initialised in the process that forks
    the workers would be unusable in them.
    """
    try:
        return subprocess.run([sys.executable, "-c", _CUDA_PROBE], timeout=60, capture_output=True).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class BackendUnavailable(Exception):
    """A backend was asked for that this machine cannot provide."""


@dataclass(frozen=True)
class BackendInfo:
    name: str
    factory: str  # "module:callable", built in a worker as callable(workdir=..., **options)
    library: str  # the Python package it imports
    extra: str | None  # the kernel-synth extra that installs that package
    description: str
    render_target: str | None  # "warp" or "jax": the source a corpus case keeps beside its DSL
    gradient_factory: str | None = None  # the checker of its adjoints, when it has them
    needs_device: bool = False  # compiles here, runs only where a GPU is (and its adjoints too)
    fuzz_target: bool = True  # the reference is the ground truth, not a target
    # features the installed release of `library` must have, named as its
    # table names them (backends.warp_release, backends.jax_release)
    features: tuple[str, ...] = ()
    # runs its rendering op by op as well as compiled, where asked (the
    # jit-eager oracle: factory option `eager`, the share of programs)
    eager: bool = False

    @property
    def has_adjoints(self) -> bool:
        """Whether its adjoints can be checked here: a backend that runs only
        on a GPU has none to check on a machine without one."""
        if self.gradient_factory is None:
            return False
        return not self.needs_device or cuda_device_present()

    def programs_per_module(self) -> int:
        """How many programs a worker should compile together: enough to
        share a module's fixed cost (which depends on the Warp release)."""
        if self.library == "warp":
            from .warp_release import installed, programs_per_module

            return programs_per_module(installed())
        return 32


BACKENDS: dict[str, BackendInfo] = {
    b.name: b
    for b in (
        BackendInfo(
            "warp-cpu", f"{PACKAGE}.warp_backend:warp_cpu", "warp", "warp",
            "Warp C++ through Warp's CPU compiler; runs on the CPU", "warp",
            gradient_factory=f"{PACKAGE}.gradients:gradient_checker",
        ),
        BackendInfo(
            "warp-cuda", f"{PACKAGE}.warp_backend:warp_cuda", "warp", "warp",
            "Warp CUDA through NVRTC (no GPU needed); runs only on a GPU", "warp", needs_device=True,
            gradient_factory=f"{PACKAGE}.gradients:gradient_checker_cuda", features=("driverless_nvrtc",),
        ),
        BackendInfo("jax-cpu", f"{PACKAGE}.jax_backend:jax_cpu", "jax", "jax", "StableHLO forward and grad, XLA-compiled and run on the CPU", "jax", eager=True),
        BackendInfo(
            "jax-cuda", f"{PACKAGE}.jax_backend:jax_cuda", "jax", "jax",
            "StableHLO for CUDA by cross-platform lowering (no GPU needed)", "jax", needs_device=True, eager=True, features=("export",),
        ),
        BackendInfo(
            "faulty-warp-cpu", f"{PACKAGE}.faults:faulty_warp_cpu", "warp", "warp",
            "warp-cpu with faults injected from KERNEL_SYNTH_FAULTS: for testing the harness", "warp",
            gradient_factory=f"{PACKAGE}.faults:faulty_gradient_checker",
        ),
        BackendInfo(
            "faulty-jax-cpu", f"{PACKAGE}.faults:faulty_jax_cpu", "jax", "jax",
            "jax-cpu with faults injected from KERNEL_SYNTH_FAULTS: for testing the harness", "jax", eager=True,
        ),
        BackendInfo(
            "reference", f"{PACKAGE}.reference_backend:reference", "numpy", None,
            "the NumPy interpreter of the DSL: the ground truth", None, fuzz_target=False,
        ),
    )
}

FUZZ_TARGETS = tuple(name for name, info in BACKENDS.items() if info.fuzz_target)


def installed_release(library: str):
    """The installed release of a backend's library (warp or jax), asked
    against that package's table; None when it is not installed."""
    if library == "warp":
        from .warp_release import installed
    elif library == "jax":
        from .jax_release import installed
    else:
        raise ValueError(f"no release table for {library!r}")
    return installed()


def get_backend(name: str) -> BackendInfo:
    """The named backend, or BackendUnavailable naming what is wrong."""
    info = BACKENDS.get(name)
    if info is None:
        raise BackendUnavailable(f"unknown backend {name!r} (expected one of {', '.join(BACKENDS)})")
    if importlib.util.find_spec(info.library) is None:
        how = f": pip install 'kernel-synth[{info.extra}]'" if info.extra else ""
        raise BackendUnavailable(f"backend {name!r} needs the Python package {info.library!r}, which is not installed{how}")
    if info.features:
        from .release import ReleaseTooOld

        release = installed_release(info.library)
        try:
            for feature in info.features:
                release.require(feature, f"backend {name!r}")
        except ReleaseTooOld as exc:
            raise BackendUnavailable(str(exc)) from None
    return info
