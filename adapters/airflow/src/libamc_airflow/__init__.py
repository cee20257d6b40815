"""Airflow provider for Amazon Marketing Cloud on libamc (airflow-provider-libamc).

The package root imports nothing from Airflow: ``libamc_airflow.binding``
(the ctypes binding of libamc.so.1) works in any Python process.
"""

__version__ = "1.1.0"
