"""What each JAX release can do: the one table the JAX renderer and backends ask.

Each feature names the first jax release that has it, as measured on the
releases themselves (jax with the jaxlib of its release, 0.4.29, 0.4.30,
0.4.38, 0.5.3, 0.6.2, 0.7.2, 0.8.0, 0.8.3, 0.9.2 and 0.10.2: API probes, and the
programs of tests/programs/valid run on jax-cpu, forward, grad, eager and in
the loop form, against the reference; all agree on every one of those
releases from 0.4.30 on). `tests/test_jax_release.py` checks the installed
release against the table. The version machinery is `backends.release`'s,
shared with `backends.warp_release`.
"""

from __future__ import annotations

from .release import Feature, Release, ReleaseTooOld

__all__ = ["FEATURES", "NEWEST", "OLDEST_SUPPORTED", "JaxRelease", "ReleaseTooOld", "installed"]

# pyproject.toml's `jax` extra: jax[cpu]>=0.4.30,<0.11
OLDEST_SUPPORTED = "0.4.30"

FEATURES: dict[str, Feature] = {
    # the public jax.export module (export, cross-platform lowering): what
    # jax-cuda lowers for CUDA with, without a GPU; 0.4.29 has none
    # (jax.experimental.export only)
    "export": Feature("0.4.30", "jax.export (cross-platform lowering)"),
    # `import jax` imports jax.export as well (measured: 0.7.2 does not,
    # 0.8.0 does); before it, jax.export is an attribute of jax only once
    # imported by name
    "export_imported": Feature("0.8.0", "jax.export imported by `import jax`"),
}


class JaxRelease(Release):
    """A jax release, asked against FEATURES."""

    PACKAGE = "jax"
    FEATURES = FEATURES


# What the backends assume when no release is named: every feature
NEWEST = JaxRelease("999.0.0")


def installed() -> JaxRelease | None:
    """The jax release installed here, or None."""
    return JaxRelease.installed()
