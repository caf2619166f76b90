"""The typed results of one program on one backend: statuses, stages, outcomes.

Statuses and stages are string enums, so they compare equal to their values,
print as them and travel through JSON and pickles unchanged; an Outcome built
from a plain string is checked against the enum, so a misspelt status fails
where it is made instead of falling through an oracle's table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class Status(StrEnum):
    OK = "ok"
    RENDER_ERROR = "render_error"  # our renderer failed: our bug
    CODEGEN_ERROR = "codegen_error"  # the compiler's front end rejected the source
    COMPILE_ERROR = "compile_error"  # the native compiler (clang, NVRTC, XLA) rejected generated code
    RUN_ERROR = "run_error"  # the compiled kernel raised while running
    CRASH = "crash"  # the worker process died
    TIMEOUT = "timeout"  # the worker overran its time limit
    NONDETERMINISTIC = "nondeterministic"  # two launches on the same inputs differ
    EXCLUDED = "excluded"  # outside what an oracle can judge (the gradient rules)
    UNSUPPORTED = "unsupported"  # the release cannot run the program as the language defines it


class Stage(StrEnum):
    RENDER = "render"
    CODEGEN = "codegen"
    COMPILE = "compile"
    LOWER = "lower"
    RUN = "run"
    BACKWARD = "backward"
    GRADIENT = "gradient"
    # A failure of Warp's backward pass is signed with the stage it failed at
    GRADIENT_RENDER = "gradient-render"
    GRADIENT_CODEGEN = "gradient-codegen"
    GRADIENT_COMPILE = "gradient-compile"
    GRADIENT_RUN = "gradient-run"
    GRADIENT_BACKWARD = "gradient-backward"

    def in_gradient(self) -> "Stage":
        """This stage as reached by the gradient checker (`codegen` -> `gradient-codegen`)."""
        return self if self.value.startswith("gradient") else Stage(f"gradient-{self.value}")


# The status a failure at each compile stage gets
# The artifact holding the source a backend compiled, rendered for the program
# alone (a dataset row's `python` or `jax`); the others are IR
SOURCE_ARTIFACT = "source.py"

ERROR_AT = {Stage.RENDER: Status.RENDER_ERROR, Stage.CODEGEN: Status.CODEGEN_ERROR, Stage.COMPILE: Status.COMPILE_ERROR, Stage.LOWER: Status.COMPILE_ERROR, Stage.RUN: Status.RUN_ERROR}


@dataclass(frozen=True)
class Outcome:
    """What happened to one program on one backend."""

    status: Status
    stage: Stage | None = None
    message: str = ""
    outputs: dict[str, np.ndarray] | None = field(default=None, compare=False)
    artifacts: dict[str, str] = field(default_factory=dict, compare=False)
    # The same rendering run eagerly (op by op, jax.disable_jit) on the same
    # inputs, where the jit-eager oracle asked a JAX backend for it: ok with
    # its outputs, or the error it raised. None: not run eagerly.
    eager: "Outcome | None" = field(default=None, compare=False)
    # The same program rendered in the loop form (jax_render: threads one by
    # one in a fori_loop) and run on the same inputs, where the vmap-loop
    # oracle asked a JAX backend for it. None: not run so.
    looped: "Outcome | None" = field(default=None, compare=False)
    # The same lowered program compiled under other XLA configurations
    # (jax_backend.XLA_CONFIGS) and run on the same inputs, where the
    # xla-config oracle asked a JAX backend for it: (configuration, outcome).
    configured: tuple[tuple[str, "Outcome"], ...] = field(default=(), compare=False)
    # The program's forward-mode derivative against its reverse-mode
    # gradient along one direction (backends.jvp_vjp), where the jvp-vjp
    # oracle asked a JAX backend for it. None: not sampled.
    jvp: "JvpVjp | None" = field(default=None, compare=False)
    # What a comparison with these outputs may use (the reference sets them
    # on a large launch, backends.reference_backend): `threads`, the threads
    # whose elements were computed (None: all of them); `not_compared`, the
    # arrays no element of which can be compared, with the reason; `scales`,
    # per array, a factor on the float tolerance (compare.acc_scales)
    threads: tuple[int, ...] | None = field(default=None, compare=False)
    not_compared: dict[str, str] = field(default_factory=dict, compare=False)
    scales: dict[str, float] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        if self.stage is not None:
            object.__setattr__(self, "stage", Stage(self.stage))

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


@dataclass(frozen=True)
class JvpVjp:
    """The jvp-vjp oracle's evidence for one program (backends.jvp_vjp).

    `jvp`: the loss's derivative along the direction v by forward mode;
    `vjp`: <g, v> with g the loss's gradient by reverse mode; `scale`: the
    magnitudes their sums are made of (sum |g_i v_i| + sum |tangent_j|);
    `reach`: the direction's size, sum |v_i|;
    `eps`: the machine epsilon of the program's float type; `fd`: the central
    finite difference of the loss along v (NaN: none), `fd_error` a bound on
    its rounding. `skipped`: why nothing was compared (counted, no finding);
    `failed`: the mode ("jvp", "vjp") that raised while the other ran, with
    its error in `message`.
    """

    jvp: float = math.nan
    vjp: float = math.nan
    scale: float = 0.0
    reach: float = 0.0
    eps: float = 0.0
    fd: float = math.nan
    fd_error: float = 0.0
    skipped: str = ""
    failed: str = ""
    message: str = ""

    @property
    def compared(self) -> bool:
        return not self.skipped


# Gradient sources, in the order they are reported: Warp's adjoint, jax.grad,
# central finite differences on the reference
GRADIENT_SOURCES = ("warp", "jax", "fd")


@dataclass(frozen=True)
class GradientResult:
    """The gradient checker's answer for one program.

    `sources` maps each source that gave a gradient to {input array: gradient}
    (`fd_error` bounds the rounding error of the finite differences);
    `unavailable` maps each source that could not to why (JAX or the
    reference failing is no finding of Warp's: the other pairs are still
    compared). Not ok: Warp itself failed (render, codegen, compile, or the
    backward launch), or the program was excluded (message: the rule).
    """

    status: Status
    stage: Stage | None = None
    message: str = ""
    sources: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, compare=False)
    unavailable: dict[str, str] = field(default_factory=dict)
    # {input array: bound on the rounding error of each finite difference}:
    # a disagreement with "fd" within it is no disagreement
    fd_error: dict[str, np.ndarray] = field(default_factory=dict, compare=False)
    # {input array: mask of the points no pair compares} (a step from them
    # crosses a branch or a kink: backends.gradients.fd_gradients_checked)
    skipped: dict[str, np.ndarray] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        if self.stage is not None:
            object.__setattr__(self, "stage", Stage(self.stage))
        unknown = (set(self.sources) | set(self.unavailable)) - set(GRADIENT_SOURCES)
        if unknown:
            raise ValueError(f"unknown gradient sources {sorted(unknown)}")

    @property
    def ok(self) -> bool:
        return self.status is Status.OK
