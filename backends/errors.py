"""Errors of the backends stage."""


class RenderError(Exception):
    """A program the renderer cannot express: always a bug of ours."""
