"""What AmcHook's typed methods return: AMC accounts and instances as small
frozen records, and AMC's own objects (an execution, a result manifest) as
TypedDicts, which are the very dicts libamc returns (so code written against
the dict-in/dict-out client keeps working) with their fields named for a
type checker.

Field names follow the source: our records use libamc's snake_case
envelope names (``advertiser_id``, ``instance_id``); AMC's objects keep
AMC's names (``workflowExecutionId``, ``timeWindowStart``), as amc.h does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict


@dataclass(frozen=True)
class AmcAccount:
    """An AMC account (``GET /amc/accounts``) the connection's grant reaches.

    ``account_id`` is the account's entity id (``ENTITY…``): the
    ``advertiser_id`` of an instance (amc-api.md 2), never a numeric Ads
    profile id."""

    account_id: str
    account_name: str
    marketplace_id: str

    @classmethod
    def from_amc(cls, account: dict[str, Any]) -> AmcAccount:
        return cls(
            account_id=str(account.get("accountId") or ""),
            account_name=str(account.get("accountName") or ""),
            marketplace_id=str(account.get("marketplaceId") or ""),
        )


@dataclass(frozen=True)
class AmcInstance:
    """An AMC instance of one account (``GET /amc/instances``).

    ``override`` is what the operators' and the sensor's ``instance``
    argument takes, so a list of instances fans out directly:
    ``AmcRunWorkflowOperator.partial(...).expand(instance=[i.override for i in instances])``."""

    instance_id: str
    instance_name: str
    advertiser_id: str
    marketplace_id: str
    # AMC's whole instance object (apiEndpoint, s3BucketName, entities, ...).
    amc: dict[str, Any]

    @property
    def override(self) -> dict[str, str]:
        """``{"instance_id", "advertiser_id", "marketplace_id"}``: the keys of
        the operators' ``instance`` argument, all three, so the run goes to
        this instance whatever the connection names."""
        return {
            "instance_id": self.instance_id,
            "advertiser_id": self.advertiser_id,
            "marketplace_id": self.marketplace_id,
        }


@dataclass(frozen=True)
class WorkflowSync:
    """The outcome of ``AmcHook.sync_workflow``: ``action`` is ``created``,
    ``updated`` or ``unchanged``."""

    workflow_id: str
    action: str


@dataclass(frozen=True)
class SubmittedExecution:
    """An execution ``AmcHook.submit_execution`` started, or re-attached to
    (``reattached``: the same ``execution_id`` had been submitted before, so
    libamc's journal gave back the run it started then)."""

    execution_id: str
    amc_execution_id: str
    reattached: bool


class AmcExecution(TypedDict, total=False):
    """AMC's WorkflowExecution, flat whatever shape AMC answered in, plus
    libamc's ``terminal`` (true once SUCCEEDED, FAILED, CANCELLED or
    REJECTED). AMC may add fields; they pass through."""

    workflowExecutionId: str
    workflowId: str
    status: str
    statusReason: str
    terminal: bool
    createTime: str
    lastUpdatedTime: str
    timeWindowStart: str
    timeWindowEnd: str
    timeWindowType: str
    timeWindowTimeZone: str
    parameterValues: dict[str, Any]


class ResultFile(TypedDict):
    """One downloaded result part: ``path`` on this machine, its size in
    bytes, data rows (the header not counted) and column names."""

    part: int
    path: str
    bytes: int
    rows: int
    columns: list[str]


class ResultManifest(TypedDict, total=False):
    """What ``AmcHook.download_results`` (amc_results_download) returns:
    where the parts went (``directory``), each part, the totals, and
    warnings (a part AMC listed twice, downloaded once)."""

    amc_execution_id: str
    directory: str
    files: list[ResultFile]
    total_bytes: int
    total_rows: int
    warnings: list[str]
    output_format: dict[str, str]
