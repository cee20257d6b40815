"""Deprecated: moved to ``libamc.binding`` (the libamc distribution, no Airflow).

Importing this module still works and gives the very same module object, so
every name (public or not) keeps working; it warns once per process.
"""

import sys
import warnings

import libamc.binding

warnings.warn(
    "libamc_airflow.binding moved to libamc.binding (the libamc distribution); import it from there",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = libamc.binding
