"""Shrinking failing programs to minimal reproducers (stage 3).

Not built yet; see the project's issues. Imports only from `grammar` and `backends`.
"""
