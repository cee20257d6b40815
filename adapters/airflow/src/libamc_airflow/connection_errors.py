"""Mistakes in an ``amc`` connection, said in Airflow's words, failing the
task at once.

A connection without a client secret or a refresh token, a client secret
that Login with Amazon (LwA) rejects, or a grant LwA no longer accepts
(``invalid_grant``) cannot be fixed by another try: every try reads the
same connection. So these fail the task without using up its retries
(``AmcConnectionError`` is an ``AirflowFailException``), and their messages
name the connection id and the connection's own fields (login, password,
the extra fields) instead of libamc's tools (``amcctl auth login``) or its
configuration keys. What can be checked without a network call (the
connection's fields, libamc's local token store) is checked before libamc
talks to LwA or AMC (``AmcHook.client_for``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow.sdk.exceptions import AirflowFailException
from libamc.exceptions import (
    AmcAuthRequired,
    AmcConfigError,
    AmcError,
    AmcForbidden,
    AmcInvalidArgument,
    Status,
)

# Failures another try cannot fix (docs/airflow.md: authentication and
# permission errors fail the task at once).
FAIL_AT_ONCE: tuple[type[AmcError], ...] = (AmcAuthRequired, AmcForbidden, AmcConfigError, AmcInvalidArgument)

# The connection form's labels (get_provider_info's relabeling and conn-fields).
LOGIN = "login ('LwA client id' in the connection form)"
PASSWORD = "password ('LwA client secret' in the connection form)"
REFRESH_TOKEN = "extra field refresh_token ('Refresh token' in the connection form)"

# LwA's error codes for a client it does not accept (libamc puts LwA's code
# into the error's detail as "lwa_error").
_REJECTED_CLIENT = ("invalid_client", "unauthorized_client")


class AmcConnectionError(AirflowFailException, AmcConfigError):
    """An ``amc`` connection lacks or holds a wrong value; the task fails at
    once (no retry). Also an ``AmcConfigError`` (status AMC_E_CONFIG), so
    code that handles libamc's errors (the trigger's error event, the hook's
    ``test_connection``) handles it too.

    :param message: what is wrong and which field of which connection to set.
    :param conn_id: the connection's id.
    """

    def __init__(self, message: str, *, conn_id: str = "") -> None:
        AmcConfigError.__init__(self, message, status_name=Status.AMC_E_CONFIG.name)
        self.conn_id = conn_id

    def __str__(self) -> str:
        return self.message


def _connection(conn_id: str) -> str:
    return f"Airflow connection {conn_id!r} (type amc)"


def _no_retry() -> str:
    return "The task fails without a retry: every try reads the same connection."


def missing_client(conn_id: str, *, login: bool, password: bool) -> AmcConnectionError:
    """The connection lacks the LwA client id (login) or secret (password)."""
    fields = [name for name, missing in ((LOGIN, login), (PASSWORD, password)) if missing]
    what = "id and secret" if login and password else "id" if login else "secret"
    return AmcConnectionError(
        f"{_connection(conn_id)} has no LwA client {what}: set its {' and '.join(fields)} to the Login "
        f"with Amazon security profile's client id and client secret. {_no_retry()}",
        conn_id=conn_id,
    )


def missing_refresh_token(conn_id: str) -> AmcConnectionError:
    """Neither the connection nor libamc's token store has a refresh token."""
    return AmcConnectionError(
        f"{_connection(conn_id)} has no refresh token: set its {REFRESH_TOKEN} to the LwA refresh "
        "token of a grant (Login with Amazon's consent) for the connection's LwA client. "
        f"{_no_retry()}",
        conn_id=conn_id,
    )


def missing_instance(conn_id: str, missing: list[str]) -> AmcConnectionError:
    """The connection lacks instance fields (and the task gave none)."""
    return AmcConnectionError(
        f"{_connection(conn_id)} lacks the AMC instance's {', '.join(missing)}: set the extra "
        f"field{'s' if len(missing) > 1 else ''} {', '.join(missing)} in the connection (or give the "
        f"task an instance). {_no_retry()}",
        conn_id=conn_id,
    )


def bad_choice(conn_id: str, field: str, value: str, choices: tuple[str, ...]) -> AmcConnectionError:
    """An extra field holds a value outside its choices."""
    return AmcConnectionError(
        f"{_connection(conn_id)}: its extra field {field} is {value!r}; set it to "
        f"{' or '.join(repr(choice) for choice in choices)}. {_no_retry()}",
        conn_id=conn_id,
    )


def explain(conn_id: str, problem: AmcError) -> str:
    """A failure's message, in Airflow's words when the connection is at
    fault: a grant LwA refused (AMC_E_AUTH_REQUIRED, e.g. invalid_grant) or
    a client it rejected (AMC_E_CONFIG with LwA's invalid_client); any
    other failure keeps libamc's message. Decided on the error's status and
    its detail's ``lwa_error``, never on its text."""
    lwa_error = str(problem.detail.get("lwa_error") or "")
    if isinstance(problem, AmcAuthRequired):
        return (
            f"{Status.AMC_E_AUTH_REQUIRED.name}: Login with Amazon no longer accepts the refresh token "
            f"of {_connection(conn_id)} ({lwa_error or 'the grant needs re-authentication'}): it was "
            "revoked, expired, or belongs to another LwA client. Re-authenticate: get a new refresh "
            "token through Login with Amazon's consent for the connection's LwA client and put it into "
            f"the connection's {REFRESH_TOKEN}. {_no_retry()}"
        )
    if isinstance(problem, AmcConfigError) and lwa_error in _REJECTED_CLIENT:
        return (
            f"{Status.AMC_E_CONFIG.name}: Login with Amazon rejected the LwA client of "
            f"{_connection(conn_id)} ({lwa_error}): check the connection's {LOGIN} and {PASSWORD}. "
            f"{_no_retry()}"
        )
    return str(problem)


@contextmanager
def failing_at_once(conn_id: str) -> Iterator[None]:
    """Turns a failure of FAIL_AT_ONCE into AirflowFailException, with
    ``explain``'s message."""
    try:
        yield
    except AmcConnectionError:
        raise
    except FAIL_AT_ONCE as problem:
        # Not chained: the task log would print libamc's own message (its
        # tools, "the configuration") under the Airflow-worded one; this one
        # keeps the status name and LwA's error code.
        raise AirflowFailException(explain(conn_id, problem)) from None
