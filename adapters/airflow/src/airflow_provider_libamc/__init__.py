"""The provider's module as Airflow 3.3 names it: ``airflow_provider_libamc``,
the distribution name ``airflow-provider-libamc`` with dashes turned into
underscores.

Airflow 3.3 finds a provider's example DAGs that way
(``airflow.dag_processing.bundles.manager._add_provider_example_dags_to_bundle``):
it imports the module named after the distribution and looks for an
``example_dags`` folder in each folder of its ``__path__``. The provider's
code, its example DAGs included, lives in ``libamc_airflow`` (what DAGs
import, and the classpath of triggers stored in Airflow's database), so
this package lists that package's folder after its own: Airflow finds
``libamc_airflow/example_dags`` and offers it as the bundle
``airflow-provider-libamc-example-dags`` when ``[core] load_examples`` is
on. Nothing else is here: import the provider's classes from
``libamc_airflow``.
"""

from pathlib import Path

import libamc_airflow

# This folder first (the package itself), then the provider's.
__path__ = [str(Path(__file__).parent), *libamc_airflow.__path__]
