"""The hand-written programs of the newer constructs (matrix products and
rows, names scoped as Warp scopes them, atomics whose value is used,
quaternions, the JAX rendering's loop drivers and spellings), run
through every oracle on warp-cpu and jax-cpu: each agrees with the reference,
which itself runs them (else the forward oracle would compare nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel_synth.grammar import parse

VALID = Path(__file__).parent / "programs" / "valid"


@pytest.mark.compiler
@pytest.mark.parametrize("backend", ["warp-cpu", "jax-cpu"])
@pytest.mark.parametrize("name", ["matrix_products", "scopes", "atomic_values", "quaternions", "jax_loops", "generics", "jax_spellings", "matrix_stores", "struct_arrays", "atomic_bitwise", "float_division", "arrays_2d", "component_updates", "starred"])
def test_backends_agree_with_the_reference(name, backend):
    from kernel_synth.backends.reference_backend import ReferenceBackend
    from kernel_synth.synth.oracles import ORACLES
    from kernel_synth.synth.triage import Launch, Triage

    program = parse((VALID / f"{name}.kernel").read_text())
    (reference,) = ReferenceBackend().compile([program], launch=16)
    assert reference.ok, reference.message
    with Triage(frozenset(ORACLES), Launch(threads=16, seed=0), workers=1) as triage:
        assert triage.first_finding(backend, program) is None
