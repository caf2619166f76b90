"""Backends: render a Program to Warp or JAX source, compile it, run it (stage 2).

Not built yet; see the project's issues. Imports only from `grammar`.
"""
