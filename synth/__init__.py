"""The CLI and (later) the campaign engine: the only package that knows every stage."""

__version__ = "0.1.0"
