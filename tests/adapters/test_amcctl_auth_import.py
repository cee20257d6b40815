"""amcctl auth import: a refresh token obtained elsewhere (here: a grant
made through the sandbox's admin API, as another tool's consent flow would
make one) is read from a file or stdin, stored under --credential, and
used by the next AMC call. A token given on the command line, where any
user can read it (ps, /proc), is refused without being echoed; the token
never appears in amcctl's output."""

import http.client
import json
import ssl
import urllib.parse

import pytest

from conftest import no_secrets

GRANT_SCOPE = "advertising::campaign_management"


def admin(sandbox, method, path, body=None):
    """One call of the sandbox's admin API (under /_sandbox/)."""
    parts = urllib.parse.urlsplit(sandbox.summary["url"])
    connection = http.client.HTTPSConnection(
        parts.hostname, parts.port, context=ssl.create_default_context(cafile=sandbox.summary["ca_file"]),
        timeout=30)
    connection.request(method, "/_sandbox/" + path, body=None if body is None else json.dumps(body),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    assert response.status == 200, (method, path, response.status, payload)
    return json.loads(payload)


@pytest.fixture
def grant(sandbox):
    """A fresh grant of the sandbox's LwA client, as {grant_id, refresh_token}."""
    made = admin(sandbox, "POST", "grants", {"client_id": sandbox.summary["client_id"], "scope": GRANT_SCOPE})
    assert made["refresh_token"].startswith("Atzr|")
    return made


def no_token(result, sandbox, token):
    no_secrets(result, sandbox)
    assert token not in result.out + result.err
    # Nor any sizeable piece of it.
    assert token[5:25] not in result.out + result.err


def test_import_from_a_file_then_an_amc_call_uses_it(sandbox, grant, tmp_path):
    token_file = tmp_path / "refresh_token"
    token_file.write_text(grant["refresh_token"] + "\n")
    token_file.chmod(0o600)
    result = sandbox("--credential", "imported_file", "auth", "import", "--refresh-token-file", token_file)
    assert result.code == 0, result
    assert "credential imported_file: active" in result.out
    assert "refresh token: yes" in result.out
    no_token(result, sandbox, grant["refresh_token"])

    calls = sandbox("--credential", "imported_file", "workflow", "list")
    assert calls.code == 0, calls
    no_token(calls, sandbox, grant["refresh_token"])

    # The call stood on the imported grant: once it is revoked, the
    # credential cannot get a new access token.
    admin(sandbox, "POST", "grants/revoke", {"grant_id": grant["grant_id"]})
    refused = sandbox("--credential", "imported_file", "auth", "refresh")
    assert refused.code == 3, refused
    assert "AMC_E_AUTH_REQUIRED" in refused.err
    no_token(refused, sandbox, grant["refresh_token"])


def test_import_from_stdin(sandbox, grant):
    result = sandbox("--json", "--credential", "imported_stdin", "auth", "import", "--refresh-token-file", "-",
                     stdin=grant["refresh_token"] + "\r\n")
    assert result.code == 0, result
    status = json.loads(result.out)
    assert status["credential_id"] == "imported_stdin"
    assert status["state"] == "active"
    assert status["has_refresh_token"] is True
    no_token(result, sandbox, grant["refresh_token"])

    refreshed = sandbox("--credential", "imported_stdin", "auth", "refresh")
    assert refreshed.code == 0, refreshed
    assert "access token:  yes" in refreshed.out
    accounts = sandbox("--credential", "imported_stdin", "accounts")
    assert accounts.code == 0, accounts
    no_token(accounts, sandbox, grant["refresh_token"])


@pytest.mark.parametrize("arguments", [
    ["--refresh-token", "TOKEN"],
    ["--refresh-token=TOKEN"],
    ["TOKEN"],
    ["--refresh-token-file", "/dev/null", "TOKEN"],
])
def test_a_token_on_the_command_line_is_refused_and_not_echoed(amcctl, arguments):
    token = "Atzr|IwEBIcommandline0123456789abcdef"
    args = [token if a == "TOKEN" else a.replace("TOKEN", token) for a in arguments]
    result = amcctl("--credential", "c", "auth", "import", *args)
    assert result.code == 2, result
    assert token not in result.out + result.err
    assert "Atzr|" not in result.out + result.err
    assert "--refresh-token-file" in result.err


def test_import_needs_a_token_file(amcctl):
    result = amcctl("auth", "import")
    assert result.code == 2, result
    assert "auth import needs --refresh-token-file" in result.err


@pytest.mark.parametrize("content", ["", "\n", "Atzr|first\nAtzr|second\n", "Atzr|with space\n"])
def test_a_file_that_does_not_hold_one_token_is_refused(sandbox, tmp_path, content):
    token_file = tmp_path / "refresh_token"
    token_file.write_text(content)
    result = sandbox("--credential", "bad_file", "auth", "import", "--refresh-token-file", token_file)
    assert result.code == 2, result
    assert "must hold the refresh token alone on one line" in result.err
    assert "Atzr|" not in result.out + result.err
    status = sandbox("--credential", "bad_file", "auth", "status")
    assert status.code != 0, status  # nothing was stored


def test_an_unreadable_file_is_named(sandbox, tmp_path):
    missing = tmp_path / "no_such_file"
    result = sandbox("--credential", "missing", "auth", "import", "--refresh-token-file", missing)
    assert result.code == 2, result
    assert f"cannot read the refresh token from {missing}" in result.err
