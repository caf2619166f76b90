"""`extract_ir`: the IR of one program, in this process, for a notebook.

    from kernel_synth.synth.ir import extract_ir
    ir = extract_ir(open("k.kernel").read(), ["warp-cpu", "jax-cpu"])
    print(ir["warp-cpu"]["cpp_backward"])

The fields are those of a dataset row (`synth.rows.ARTIFACT_FIELDS`), from
the same compilers `synth generate` runs, built once per process and backend.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from kernel_synth.backends.pool import load_factory
from kernel_synth.backends.registry import BACKENDS, get_backend
from kernel_synth.grammar import Program, parse

from .dataset import compile_options
from .rows import ARTIFACT_FIELDS, BACKWARD_FIELDS

_compilers: dict[tuple[str, bool], object] = {}


class IRError(Exception):
    """A program that did not compile on a backend: its status and message."""


def _compiler(backend: str, backward: bool):
    key = (backend, backward)
    if key not in _compilers:
        get_backend(backend)  # BackendUnavailable naming what is missing
        options = compile_options(backend, backward)
        workdir = Path(tempfile.mkdtemp(prefix=f"ks-ir-{backend}-"))
        atexit.register(shutil.rmtree, workdir, True)  # its kernel cache lives as long as the process
        _compilers[key] = load_factory(BACKENDS[backend].factory)(workdir=workdir, **options)
    return _compilers[key]


def extract_ir(program: Program | str, backends=("warp-cpu",), *, backward: bool = True) -> dict[str, dict[str, str]]:
    """Per backend, its IR of `program` (a Program or DSL text) by row field:
    warp-cpu cpp_forward/cpp_backward; warp-cuda cuda_* and ptx_*; jax-cpu
    stablehlo_cpu/stablehlo_grad; jax-cuda stablehlo_cuda/stablehlo_cuda_grad.
    A field the backend does not produce for this program (JAX's gradient of
    a program without float inputs and outputs) is absent."""
    if isinstance(program, str):
        program = parse(program, "<extract_ir>")
    if isinstance(backends, str):
        backends = (backends,)
    found: dict[str, dict[str, str]] = {}
    for backend in backends:
        if backend not in ARTIFACT_FIELDS:
            raise ValueError(f"backend {backend!r} has no IR to extract (expected some of {', '.join(ARTIFACT_FIELDS)})")
        (outcome,) = _compiler(backend, backward).compile([program])
        if not outcome.ok:
            raise IRError(f"{backend}: {outcome.status.value} at {outcome.stage.value}: {outcome.message.splitlines()[0] if outcome.message else ''}")
        found[backend] = {
            field: outcome.artifacts[kind]
            for field, kind in ARTIFACT_FIELDS[backend].items()
            if outcome.artifacts.get(kind) and (backward or field not in BACKWARD_FIELDS)
        }
    return found
