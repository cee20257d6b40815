"""Airflow provider for Amazon Marketing Cloud on libamc (airflow-provider-libamc).

Only the Airflow parts live here; the ctypes binding of libamc.so.1 is the
``libamc`` distribution (``import libamc``), which needs no Airflow. The old
``libamc_airflow.binding``, ``.poller``, ``.exceptions`` and ``.executions``
paths still work, with a DeprecationWarning.
"""

from importlib.metadata import version

# One source of truth: amc.h's AMC_VERSION_* (pyproject.toml reads them).
__version__ = version("airflow-provider-libamc")
