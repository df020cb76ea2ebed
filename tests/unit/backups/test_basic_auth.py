"""RFC 7617 parsing: the test vector of §2 and a table of malformed headers."""

from __future__ import annotations

import pytest

from phonehome.backups.basic_auth import (
    Credentials,
    MalformedAuthorization,
    NotBasic,
    parse_authorization,
    render_authorization,
    render_challenge,
)


def test_rfc7617_example() -> None:
    # RFC 7617 §2: user "Aladdin", password "open sesame".
    assert parse_authorization("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==") == Credentials("Aladdin", "open sesame")


@pytest.mark.parametrize(
    "credentials",
    [
        Credentials("4711", "pa:ss:word"),  # only the first colon separates
        Credentials("4711", ""),
        Credentials("test", "123£"),  # RFC 7617 §2.1 UTF-8 example
        Credentials("üser", "pässwörd"),
    ],
)
def test_round_trip(credentials: Credentials) -> None:
    assert parse_authorization(render_authorization(credentials)) == credentials


def test_scheme_is_case_insensitive_and_latin1_accepted() -> None:
    assert parse_authorization("bAsIc   NDcxMTpz6WNyZXQ=") == Credentials("4711", "s\xe9cret")


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic QWxhZGRpbg==",  # no colon
        "Basic OnNlY3JldA==",  # empty user
        "Basic QWxh ZGRpbjpvcGVu",
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=",  # bad padding
        "Basic NDcxMQpzZWNyZXQ6eA==",  # newline inside
    ],
)
def test_malformed(header: str) -> None:
    with pytest.raises(MalformedAuthorization):
        parse_authorization(header)


@pytest.mark.parametrize("header", ["Bearer abc", "Digest username=x", "", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="])
def test_other_schemes(header: str) -> None:
    with pytest.raises(NotBasic):
        parse_authorization(header)


def test_repr_hides_password() -> None:
    assert "hunter2" not in repr(Credentials("4711", "hunter2"))


def test_challenge() -> None:
    assert render_challenge("phonehome backups") == 'Basic realm="phonehome backups", charset="UTF-8"'
