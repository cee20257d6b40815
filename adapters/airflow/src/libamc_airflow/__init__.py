"""Airflow provider for Amazon Marketing Cloud on libamc (distribution
libamc-airflow, formerly airflow-provider-libamc).

Only the Airflow parts live here; the ctypes binding of libamc.so.1 is the
``libamc`` distribution (``import libamc``), which needs no Airflow. The old
``libamc_airflow.binding``, ``.poller``, ``.exceptions`` and ``.executions``
paths still work, with a DeprecationWarning.

The distribution is named after this package (``libamc-airflow``), as
Airflow 3.3 expects when it looks for a provider's example DAGs. The old
distribution name ``airflow-provider-libamc`` still installs (a
transitional distribution that requires ``libamc-airflow``); with it
installed, importing this package warns (DeprecationWarning).
"""

import warnings
from importlib.metadata import PackageNotFoundError, distribution, version

DISTRIBUTION = "libamc-airflow"
OLD_DISTRIBUTION = "airflow-provider-libamc"

# One source of truth: amc.h's AMC_VERSION_* (pyproject.toml reads them).
__version__ = version(DISTRIBUTION)

try:
    distribution(OLD_DISTRIBUTION)
except PackageNotFoundError:
    pass
else:
    warnings.warn(
        f"the distribution {OLD_DISTRIBUTION} is now named {DISTRIBUTION} (the name Airflow 3.3 "
        f"derives this package's module from): put {DISTRIBUTION} into your requirements instead; the "
        f"deprecated {OLD_DISTRIBUTION} only requires it",
        DeprecationWarning,
        stacklevel=2,
    )
