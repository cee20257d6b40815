"""Property-based tests (Hypothesis) of the binding's argument checks,
issue 23 deliver point 1: for ANY text a host passes, the binding either
hands the library exactly that text or refuses it with ValueError before the
library sees it, never quoting it; and an id that goes through names the
same record on the way back, whatever its characters (the fuzz targets of
tests/fuzz cover the C++ side of the same requests).

The examples are derandomized (a fixed seed per test) and bounded, so a run
is quick and repeatable; `HYPOTHESIS_PROFILE=long` runs many more."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import pytest
from conftest import fernet_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libamc import binding
from libamc.exceptions import AmcInvalidArgument

settings.register_profile(
    "ci", max_examples=100, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("long", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Any Python str: every code point, lone surrogates and NUL included.
any_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=64)


@given(any_text)
def test_c_text_passes_exactly_the_text_or_refuses_it(value: str) -> None:
    try:
        data = binding.c_text(value, "the credential id")
    except ValueError as problem:
        assert "\0" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        assert value not in str(problem) or len(value) < 4, "the refusal quotes the value"
        return
    assert data == value.encode("utf-8")
    assert b"\0" not in data, "a C string would end early"


@given(st.binary(max_size=64))
def test_c_text_refuses_what_is_not_a_str(value: bytes) -> None:
    with pytest.raises(TypeError):
        binding.c_text(value, "the credential id")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[binding.Store]:
    path = tmp_path_factory.mktemp("properties") / "store.json"
    with binding.Store({"path": str(path), "fernet_keys": fernet_key()}) as opened:
        yield opened


@given(any_text)
def test_a_credential_id_names_the_same_record_on_the_way_back(store: binding.Store, credential_id: str) -> None:
    """What the binding lets through, the library stores and finds under
    exactly that id (or refuses as AmcInvalidArgument): no id changes
    meaning on the way in, and a delete removes only that record."""
    try:
        store.put_credential({"credential_id": credential_id, "client_id": "amzn1.app", "refresh_token": "Atzr|p"})
    except AmcInvalidArgument:  # (a ValueError too: caught first)
        return  # the library's own id rules (store::validate_credential_id)
    except ValueError:
        assert "\0" in credential_id or any(0xD800 <= ord(c) <= 0xDFFF for c in credential_id)
        return
    assert store.get_credential(credential_id)["credential_id"] == credential_id
    others = {c["credential_id"] for c in store.list_credentials()} - {credential_id}
    store.delete_credential(credential_id)
    assert {c["credential_id"] for c in store.list_credentials()} == others


@given(st.dictionaries(any_text, st.one_of(any_text, st.integers(), st.none()), max_size=4))
def test_a_request_document_is_refused_or_read_never_a_crash(store: binding.Store, request: dict[str, object]) -> None:
    """A request the host builds from any keys and values: json.dumps
    escapes NUL and surrogates, so it reaches the library whole, which
    refuses unknown fields and wrong types with AmcInvalidArgument."""
    try:
        store.put_credential(request)
    except (ValueError, AmcInvalidArgument):
        return
    credential_id = request.get("credential_id")
    assert isinstance(credential_id, str)
    store.delete_credential(credential_id)


def test_the_property_tests_are_pinned() -> None:
    """The Hypothesis version comes from requirements-test.txt, like pytest."""
    import hypothesis

    pins = (pathlib.Path(__file__).parents[1] / "requirements-test.txt").read_text()
    assert f"hypothesis=={hypothesis.__version__}" in pins.split()
