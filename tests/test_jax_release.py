"""The JAX release table: release order and features (pure), the installed
jax measured against what the table claims for it (run on each release of
.ci/run's matrix: 0.4.30 there, the pinned one here), and a backend that needs
a feature the installed release lacks refused in one line."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from kernel_synth.backends.jax_release import FEATURES, NEWEST, OLDEST_SUPPORTED, JaxRelease, ReleaseTooOld, installed
from kernel_synth.backends.release import Feature
from kernel_synth.backends.warp_release import WarpRelease

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")


def test_release_order_and_features():
    # numeric, not text order: 0.10 is after 0.9, and 0.9.0.1 after 0.9.0
    assert JaxRelease("0.4.30") < JaxRelease("0.4.38") < JaxRelease("0.9.0") < JaxRelease("0.9.0.1") < JaxRelease("0.10.2") < NEWEST
    assert not JaxRelease("0.4.29").has("export") and JaxRelease(OLDEST_SUPPORTED).has("export")
    assert all(NEWEST.has(name) for name in FEATURES)
    with pytest.raises(ReleaseTooOld, match=r"^backend 'jax-cuda' needs jax >= 0\.4\.30 \(jax\.export .*\); jax 0\.4\.29 is installed$"):
        JaxRelease("0.4.29").require("export", "backend 'jax-cuda'")
    with pytest.raises(ValueError, match="not a release number"):
        JaxRelease("latest")


def test_one_machinery_two_tables():
    """The two packages share the version machinery, each asked against its
    own table, and releases of different packages do not compare."""
    assert set(FEATURES).isdisjoint(WarpRelease.FEATURES) and JaxRelease.FEATURES is FEATURES
    assert JaxRelease("0.4.30") != WarpRelease("0.4.30")
    with pytest.raises(TypeError):
        JaxRelease("0.4.30") < WarpRelease("1.0.0")  # noqa: B015


def _export_imported() -> bool:
    # in a fresh interpreter: this one may have imported jax.export already
    probe = "import jax, sys; sys.exit(0 if hasattr(jax, 'export') else 1)"
    return subprocess.run([sys.executable, "-c", probe], env={**os.environ, "JAX_PLATFORMS": "cpu"}, capture_output=True).returncode == 0


def _export() -> bool:
    if importlib.util.find_spec("jax.export") is None:
        return False
    import jax
    import jax.export
    import numpy as np

    lowered = jax.export.export(jax.jit(lambda x: x * 2.0), platforms=["cuda"])(jax.ShapeDtypeStruct((4,), np.float32))
    return "stablehlo." in lowered.mlir_module()


# every feature of the table, measured on the installed release
PROBES = {"export": _export, "export_imported": _export_imported}


def test_every_feature_has_a_probe():
    assert set(PROBES) == set(FEATURES)


@pytest.mark.compiler
@needs_jax
@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_the_installed_release_has_what_the_table_says(feature):
    release = installed()
    assert PROBES[feature]() == release.has(feature), f"{feature} on jax {release}: the table says {FEATURES[feature].since}"


@needs_jax
def test_a_backend_needing_a_later_release_is_refused(monkeypatch):
    from kernel_synth.backends.registry import BackendUnavailable, get_backend

    get_backend("jax-cuda")  # the installed release has jax.export
    monkeypatch.setitem(FEATURES, "export", Feature("99.0.0", "jax.export (cross-platform lowering)"))
    with pytest.raises(BackendUnavailable, match=r"^backend 'jax-cuda' needs jax >= 99\.0\.0 .*; jax \S+ is installed$"):
        get_backend("jax-cuda")
    get_backend("jax-cpu")  # lowers with jit alone
