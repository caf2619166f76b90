"""The result of one program on one backend."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OK = "ok"


@dataclass(frozen=True)
class Outcome:
    """What happened to one program on one backend."""

    status: str  # ok | render_error | codegen_error | compile_error | run_error | crash | timeout
    stage: str = ""  # render | codegen | compile | run
    message: str = ""
    outputs: dict[str, np.ndarray] | None = field(default=None, compare=False)
    artifacts: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == OK
