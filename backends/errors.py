"""Errors of the backends stage."""


class RenderError(Exception):
    """A program the renderer cannot express: always a bug of ours."""


class Unsupported(Exception):
    """A program the target release cannot run as the language defines it
    (grammar/SEMANTICS.md lists where): counted as unsupported, never a finding."""
