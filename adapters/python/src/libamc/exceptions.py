"""Typed exceptions for libamc's status codes (include/amc/amc.h, enum amc_status).

Each failed libamc call becomes one of these, carrying the library's message
(which says what happened and what to do) and its last-error JSON detail
(``http_status``, ``credential_id``, ``retry_after_ms``, the final
``execution`` of a failed run, ...). No message ever contains a secret: the
library masks them before they reach us.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Status(IntEnum):
    """amc_status, value for value (tests/test_binding.py checks it against
    amc.h's enum and amc_status_name). Append-only, like the C enum."""

    AMC_OK = 0
    AMC_E_INVALID_ARGUMENT = 1
    AMC_E_CONFIG = 2
    AMC_E_AUTH_REQUIRED = 3
    AMC_E_FORBIDDEN = 4
    AMC_E_NOT_FOUND = 5
    AMC_E_CONFLICT = 6
    AMC_E_THROTTLED = 7
    AMC_E_REMOTE = 8
    AMC_E_NETWORK = 9
    AMC_E_TLS = 10
    AMC_E_TIMEOUT = 11
    AMC_E_CANCELLED = 12
    AMC_E_EXECUTION_FAILED = 13
    AMC_E_CRYPTO = 14
    AMC_E_STORE = 15
    AMC_E_PROTOCOL = 16
    AMC_E_FORKED = 17
    AMC_E_INTERNAL = 18
    AMC_E_OUT_OF_MEMORY = 19
    AMC_E_ADHOC_QUOTA = 20


class AmcError(Exception):
    """A libamc call failed; ``status`` is the amc_status code."""

    status: int = -1

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        status_name: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.status_name = status_name
        self.message = message
        self.detail: dict[str, Any] = detail or {}

    def __str__(self) -> str:
        return f"{self.status_name}: {self.message}" if self.status_name else self.message


class AmcLibraryError(AmcError, ImportError):
    """libamc.so.1 could not be found or loaded, or its ABI major is not ours."""


class AmcInvalidArgument(AmcError, ValueError):
    status = Status.AMC_E_INVALID_ARGUMENT


class AmcConfigError(AmcError):
    status = Status.AMC_E_CONFIG


class AmcAuthRequired(AmcError):
    """The credential needs a new consent (revoked grant, invalid_grant)."""

    status = Status.AMC_E_AUTH_REQUIRED


class AmcForbidden(AmcError):
    """AMC answered 403 after a refresh: wrong advertiser id or no access to the instance."""

    status = Status.AMC_E_FORBIDDEN


class AmcNotFound(AmcError):
    status = Status.AMC_E_NOT_FOUND


class AmcConflict(AmcError):
    status = Status.AMC_E_CONFLICT


class AmcThrottled(AmcError):
    """Rate-limited beyond the retry policy; ``retry_after_ms`` may say when to come back."""

    status = Status.AMC_E_THROTTLED

    @property
    def retry_after_ms(self) -> int | None:
        value = self.detail.get("retry_after_ms")
        return int(value) if isinstance(value, int | float) else None


class AmcRemoteError(AmcError):
    status = Status.AMC_E_REMOTE


class AmcNetworkError(AmcError):
    status = Status.AMC_E_NETWORK


class AmcTlsError(AmcError):
    status = Status.AMC_E_TLS


class AmcTimeout(AmcError):
    status = Status.AMC_E_TIMEOUT


class AmcCancelled(AmcError):
    status = Status.AMC_E_CANCELLED


class AmcExecutionFailed(AmcError):
    """The AMC execution ended FAILED, CANCELLED or REJECTED; the message has AMC's reason."""

    status = Status.AMC_E_EXECUTION_FAILED

    @property
    def execution(self) -> dict[str, Any]:
        value = self.detail.get("execution")
        return value if isinstance(value, dict) else {}


class AmcCryptoError(AmcError):
    status = Status.AMC_E_CRYPTO


class AmcStoreError(AmcError):
    status = Status.AMC_E_STORE


class AmcProtocolError(AmcError):
    status = Status.AMC_E_PROTOCOL


class AmcForked(AmcError):
    """A native handle was used in a process other than the one that created it."""

    status = Status.AMC_E_FORKED


class AmcInternalError(AmcError):
    status = Status.AMC_E_INTERNAL


class AmcOutOfMemory(AmcError, MemoryError):
    status = Status.AMC_E_OUT_OF_MEMORY


class AmcAdhocQuotaExceeded(AmcError):
    """AMC refused an ad-hoc run: the instance used its 30 ad-hoc runs of the
    UTC day (AMC's limit, per instance). The count resets at 00:00 UTC; a
    saved workflow (``workflow_sync``, then ``{"workflowId": ...}``) avoids
    the limit. ``detail`` has ``instance_id``, ``adhoc_executions_today``,
    ``adhoc_limit`` and ``resets_at`` (ISO 8601, UTC)."""

    status = Status.AMC_E_ADHOC_QUOTA

    @property
    def instance_id(self) -> str:
        return str(self.detail.get("instance_id", ""))

    @property
    def resets_at(self) -> str:
        return str(self.detail.get("resets_at", ""))


STATUS_EXCEPTIONS: dict[int, type[AmcError]] = {
    cls.status: cls
    for cls in (
        AmcInvalidArgument,
        AmcConfigError,
        AmcAuthRequired,
        AmcForbidden,
        AmcNotFound,
        AmcConflict,
        AmcThrottled,
        AmcRemoteError,
        AmcNetworkError,
        AmcTlsError,
        AmcTimeout,
        AmcCancelled,
        AmcExecutionFailed,
        AmcCryptoError,
        AmcStoreError,
        AmcProtocolError,
        AmcForked,
        AmcInternalError,
        AmcOutOfMemory,
        AmcAdhocQuotaExceeded,
    )
}


def exception_for(status: int, message: str, status_name: str, detail: dict[str, Any]) -> AmcError:
    """The typed exception of a status; a code this adapter does not know yet
    (status codes are append-only) is still a failure, as plain AmcError."""
    cls = STATUS_EXCEPTIONS.get(status, AmcError)
    return cls(message, status=status, status_name=status_name, detail=detail)
