"""Dataset rows: a program and its compiled artifacts as the fields of
DESIGN.md's "Dataset output", and the checks a row must pass.

A row is a plain dict, its keys in the order of ROW_FIELDS; a field a row's
backends do not produce is absent (in Parquet, null), never an empty string.
This module is pure: what compiles the artifacts and writes the rows lives in
`synth.dataset`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kernel_synth.grammar import ast as A
from kernel_synth.grammar import parse, print_program
from kernel_synth.grammar.categories import Classification, classify
from kernel_synth.grammar.stats import ast_size, nesting_depth

# For each backend, its artifacts (as the backends name them) by row field.
ARTIFACT_FIELDS: dict[str, dict[str, str]] = {
    "warp-cpu": {"cpp_forward": "forward.cpp", "cpp_backward": "backward.cpp"},
    "warp-cuda": {"cuda_forward": "forward.cu", "cuda_backward": "backward.cu", "ptx_forward": "forward.ptx", "ptx_backward": "backward.ptx"},
    "jax-cpu": {"stablehlo_cpu": "forward.mlir", "stablehlo_grad": "backward.mlir"},
    "jax-cuda": {"stablehlo_cuda": "forward.mlir", "stablehlo_cuda_grad": "backward.mlir"},
}
DATASET_BACKENDS = tuple(ARTIFACT_FIELDS)
BACKWARD_FIELDS = frozenset({"cpp_backward", "cuda_backward", "ptx_backward", "stablehlo_grad", "stablehlo_cuda_grad"})
# The source each backend family compiles, by row field
SOURCE_FIELDS = {"warp": "python", "jax": "jax"}
ROW_FIELDS = (
    "id", "kernel_name", "category", "categories", "dsl", "python", "jax",
    *(field for fields in ARTIFACT_FIELDS.values() for field in fields),
    "metadata",
)

# What text of each field's dialect must contain, whatever the program
DIALECT_MARKS: dict[str, tuple[str, ...]] = {
    "cpp_forward": ("_cpu_kernel_forward(",),
    "cpp_backward": ("_cpu_kernel_backward(",),
    "cuda_forward": ("_cuda_kernel_forward(", "__global__"),
    "cuda_backward": ("_cuda_kernel_backward(", "__global__"),
    "ptx_forward": (".entry", "_cuda_kernel_forward("),
    "ptx_backward": (".entry", "_cuda_kernel_backward("),
    "stablehlo_cpu": ("module @", "func.func public @main"),
    "stablehlo_grad": ("module @", "func.func public @main"),
    "stablehlo_cuda": ("module @", "func.func public @main"),
    "stablehlo_cuda_grad": ("module @", "func.func public @main"),
}


def family(backend: str) -> str:
    return backend.split("-", 1)[0]


def wanted_fields(backends: tuple[str, ...], backward: bool = True) -> tuple[str, ...]:
    """Every field a row for `backends` carries, in row order."""
    wanted = {"id", "kernel_name", "category", "categories", "dsl", "metadata"}
    for backend in backends:
        wanted.add(SOURCE_FIELDS[family(backend)])
        wanted.update(f for f in ARTIFACT_FIELDS[backend] if backward or f not in BACKWARD_FIELDS)
    return tuple(f for f in ROW_FIELDS if f in wanted)


def text_id(dsl: str) -> str:
    return hashlib.sha256(dsl.encode()).hexdigest()[:16]


def program_id(program: A.Program) -> str:
    """The hash of a program's normalised text (the printer's canonical
    spelling: layout, parentheses and literals written one way)."""
    return text_id(print_program(program))


@dataclass(frozen=True)
class Described:
    """A program with what a row says of it, each worked out once."""

    program: A.Program
    dsl: str
    classification: Classification
    id: str

    @property
    def primary(self) -> str:
        return self.classification.primary


def describe(program: A.Program) -> Described:
    dsl = print_program(program)
    return Described(program, dsl, classify(program), text_id(dsl))


@dataclass(frozen=True)
class Missing:
    """Why a compiled program makes no row: a field its backends did not produce."""

    backend: str
    field: str

    @property
    def reason(self) -> str:
        if self.field in BACKWARD_FIELDS and family(self.backend) == "jax":
            return f"{self.backend}: no gradient (no float input reaches a float output)"
        return f"{self.backend}: no {self.field}"


def make_row(
    described: Described,
    artifacts: dict[str, dict[str, str]],
    sources: dict[str, str],
    fields: tuple[str, ...],
    metadata: dict,
) -> dict | Missing:
    """The row of a program: `artifacts` by backend (each as the backend
    names them), `sources` by family ("warp", "jax"); every one of `fields`
    must be filled, or the answer is what is missing."""
    classification = described.classification
    row: dict = {
        "id": described.id,
        "kernel_name": described.program.kernels[0].name,
        "category": classification.primary,
        "categories": sorted(classification.categories | {classification.primary}),
        "dsl": described.dsl,
    }
    for name, field in SOURCE_FIELDS.items():
        if field in fields:
            row[field] = sources[name]
    for backend, produced in artifacts.items():
        for field, kind in ARTIFACT_FIELDS[backend].items():
            if field not in fields:
                continue
            text = produced.get(kind, "")
            if not text:
                return Missing(backend, field)
            row[field] = text
    row["metadata"] = metadata
    return {field: row[field] for field in ROW_FIELDS if field in row}


def program_metadata(described: Described, seed: int, index: int, weights: str, versions: dict[str, str]) -> dict:
    program = described.program
    return {
        "params": [{"name": p.name, "type": str(p.ty)} for p in program.kernels[0].params],
        "lines": described.dsl.count("\n"),
        "ast_size": ast_size(program),
        "depth": nesting_depth(program),
        "helpers": len(program.funcs),
        "seed": seed,
        "index": index,
        "weights": weights,
        "versions": dict(versions),
    }


def render_source(program: A.Program, field_name: str, warp_version: str | None = None) -> str:
    """The source field `field_name` ("python": Warp, "jax") of `program`,
    Warp's rendered for `warp_version` (default: the installed release)."""
    if field_name == "jax":
        from kernel_synth.backends.inputs import DEFAULT_LAUNCH
        from kernel_synth.backends.jax_render import render_jax, thread_form

        # in the form the JAX backends ran it in: a large launch with an Acc
        # array in the loop form (a program with no launch size of its own
        # runs on a small default, in the vmap form)
        return render_jax(program, thread_form(program.kernels[0], A.launch_of(program, DEFAULT_LAUNCH)))
    from kernel_synth.backends.warp_release import NEWEST, WarpRelease, installed
    from kernel_synth.backends.warp_render import render_warp

    release = WarpRelease(warp_version) if warp_version else (installed() or NEWEST)
    return render_warp(program, release=release)


def validate_row(row: dict, render) -> list[str]:
    """What is wrong with `row` (empty when nothing is). `render(program,
    field)` re-renders a source field ("python", "jax") from the program."""
    problems = []
    dsl = row.get("dsl")
    if not isinstance(dsl, str) or not dsl:
        return ["no dsl field"]
    try:
        program = parse(dsl, "<row>")
    except Exception as exc:  # a DSLError, or worse: either way the row is bad
        return [f"dsl does not parse: {exc}"]
    if row.get("id") != program_id(program):
        problems.append(f"id {row.get('id')!r} is not the program's hash {program_id(program)}")
    classification = classify(program)
    if row.get("category") != classification.primary:
        problems.append(f"category {row.get('category')!r}, the program's is {classification.primary!r}")
    if list(row.get("categories") or ()) != sorted(classification.categories | {classification.primary}):
        problems.append(f"categories {row.get('categories')!r} are not the program's")
    for field in SOURCE_FIELDS.values():
        if field in row and row[field] is not None and row[field] != render(program, field):
            problems.append(f"{field} does not re-render identically from dsl")
    for field, marks in DIALECT_MARKS.items():
        if field not in row or row[field] is None:
            continue
        text = row[field]
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{field} is empty")
        elif not all(mark in text for mark in marks):
            problems.append(f"{field} is not {field.split('_')[0]} (lacks {next(m for m in marks if m not in text)!r})")
    return problems
