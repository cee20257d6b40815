"""Typed exceptions for libamc's status codes (include/amc/amc.h, enum amc_status).

Each failed libamc call becomes one of these, carrying the library's message
(which says what happened and what to do) and its last-error JSON detail
(``http_status``, ``credential_id``, ``retry_after_ms``, the final
``execution`` of a failed run, ...). No message ever contains a secret: the
library masks them before they reach us.
"""

from __future__ import annotations

from typing import Any


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
    status = 1


class AmcConfigError(AmcError):
    status = 2


class AmcAuthRequired(AmcError):
    """The credential needs a new consent (revoked grant, invalid_grant)."""

    status = 3


class AmcForbidden(AmcError):
    """AMC answered 403 after a refresh: wrong advertiser id or no access to the instance."""

    status = 4


class AmcNotFound(AmcError):
    status = 5


class AmcConflict(AmcError):
    status = 6


class AmcThrottled(AmcError):
    """Rate-limited beyond the retry policy; ``retry_after_ms`` may say when to come back."""

    status = 7

    @property
    def retry_after_ms(self) -> int | None:
        value = self.detail.get("retry_after_ms")
        return int(value) if isinstance(value, int | float) else None


class AmcRemoteError(AmcError):
    status = 8


class AmcNetworkError(AmcError):
    status = 9


class AmcTlsError(AmcError):
    status = 10


class AmcTimeout(AmcError):
    status = 11


class AmcCancelled(AmcError):
    status = 12


class AmcExecutionFailed(AmcError):
    """The AMC execution ended FAILED, CANCELLED or REJECTED; the message has AMC's reason."""

    status = 13

    @property
    def execution(self) -> dict[str, Any]:
        value = self.detail.get("execution")
        return value if isinstance(value, dict) else {}


class AmcCryptoError(AmcError):
    status = 14


class AmcStoreError(AmcError):
    status = 15


class AmcProtocolError(AmcError):
    status = 16


class AmcForked(AmcError):
    """A native handle was used in a process other than the one that created it."""

    status = 17


class AmcInternalError(AmcError):
    status = 18


class AmcOutOfMemory(AmcError, MemoryError):
    status = 19


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
    )
}


def exception_for(status: int, message: str, status_name: str, detail: dict[str, Any]) -> AmcError:
    """The typed exception of a status; a code this adapter does not know yet
    (status codes are append-only) is still a failure, as plain AmcError."""
    cls = STATUS_EXCEPTIONS.get(status, AmcError)
    return cls(message, status=status, status_name=status_name, detail=detail)
