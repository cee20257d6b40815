"""Provider metadata for Airflow's ``apache_airflow_provider`` entry point:
what ``airflow providers list`` shows, the ``amc`` connection type with its
form fields (conn-fields, ui-field-behaviour), and the extra link."""

from __future__ import annotations

from typing import Any

from libamc_airflow import __version__


def _text(
    label: str,
    description: str,
    *,
    secret: bool = False,
    default: str | None = None,
    choices: list[str] | None = None,
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"]}
    if secret:
        schema["format"] = "password"
    if default is not None:
        schema["default"] = default
    if choices is not None:
        # Airflow's form shows a JSON-schema enum as a drop-down.
        schema["enum"] = [*choices, None]
    return {"label": label, "schema": schema, "description": description}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-libamc",
        "name": "Amazon Marketing Cloud (libamc)",
        "description": "Run Amazon Marketing Cloud SQL workflows from Airflow on the libamc C library.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Amazon Marketing Cloud",
                "external-doc-url": "https://advertising.amazon.com/API/docs/en-us/guides/amazon-marketing-cloud/overview",
                "tags": ["service"],
            }
        ],
        "operators": [
            {"integration-name": "Amazon Marketing Cloud", "python-modules": ["libamc_airflow.operators.amc"]}
        ],
        "sensors": [
            {"integration-name": "Amazon Marketing Cloud", "python-modules": ["libamc_airflow.sensors.amc"]}
        ],
        "hooks": [
            {"integration-name": "Amazon Marketing Cloud", "python-modules": ["libamc_airflow.hooks.amc"]}
        ],
        # The module new deferrals use; libamc_airflow.triggers.amc only
        # keeps the classpath of triggers stored by the first release.
        "triggers": [
            {
                "integration-name": "Amazon Marketing Cloud",
                "python-modules": ["libamc_airflow.triggers.execution", "libamc_airflow.triggers.workflow"],
            }
        ],
        "extra-links": ["libamc_airflow.links.amc.AmcExecutionLink"],
        "connection-types": [
            {
                "hook-class-name": "libamc_airflow.hooks.amc.AmcHook",
                "hook-name": "Amazon Marketing Cloud (libamc)",
                "connection-type": "amc",
                "conn-fields": {
                    "refresh_token": _text(
                        "Refresh token", "The LwA refresh token of the grant (Atzr|...)", secret=True
                    ),
                    "region": _text("Region", "na, eu or fe", default="na"),
                    "instance_id": _text("Instance id", "The AMC instance, e.g. amcabc123"),
                    "advertiser_id": _text(
                        "Advertiser (entity) id",
                        "The AMC account's entity id ENTITY..., not an Ads profile id",
                    ),
                    "marketplace_id": _text("Marketplace id", "e.g. ATVPDKIKX0DER"),
                    "amc_endpoint": _text(
                        "AMC endpoint override", "Base URL of the AMC API (default: the region's)"
                    ),
                    "lwa_token_endpoint": _text(
                        "LwA token endpoint override", "Token URL (default: the region's)"
                    ),
                    "lwa_consent_endpoint": _text(
                        "LwA consent endpoint override", "Consent page URL (default: the region's)"
                    ),
                    "ca_file": _text("CA file", "PEM file of an extra CA to trust (e.g. a private proxy's)"),
                    "store_path": _text(
                        "Credential store path",
                        "libamc's encrypted token store (default $AIRFLOW_HOME/amc/credentials.json)",
                    ),
                    # Issue 25 point 8: with the raw Extra field hidden, every
                    # documented extra needs a field of its own.
                    "token_sharing": _text(
                        "Token sharing",
                        "process: a token store file per machine; variable: one store in an Airflow "
                        "Variable for every worker and triggerer",
                        default="process",
                        choices=["process", "variable"],
                    ),
                    "token_variable": _text(
                        "Token Variable",
                        "With token_sharing variable: the Variable that holds the store "
                        "(default amc_store__<connection id>)",
                    ),
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "host", "extra"],
                    "relabeling": {"login": "LwA client id", "password": "LwA client secret"},
                    "placeholders": {
                        "login": "amzn1.application-oa2-client.…",
                        "instance_id": "amcabc123",
                        "advertiser_id": "ENTITY1ABC…",
                        "marketplace_id": "ATVPDKIKX0DER",
                        "region": "na",
                    },
                },
            }
        ],
    }
