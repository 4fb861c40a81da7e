"""While the database is down the site answers 503 with Retry-After, and then reconnects."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from forum import middleware
from forum.middleware import DatabaseUnavailableMiddleware

MESSAGE = "The service is temporarily unavailable. Please try again shortly."


def answer(exception: Exception, *, htmx: bool = False) -> HttpResponse | None:
    request = RequestFactory().post("/lessons/1/comments/")
    request.htmx = htmx
    unavailable = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    return unavailable.process_exception(request, exception)


@pytest.mark.parametrize(
    "exception",
    [
        OperationalError("connection to server at 127.0.0.1 failed: Connection refused"),
        InterfaceError("connection already closed"),
    ],
)
def test_lost_database_is_answered_with_503_and_retry_after(exception: Exception) -> None:
    with translation.override("zh-hans"):
        response = answer(exception)
        message = translation.gettext(MESSAGE)
    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert page.startswith("<!doctype html>")
    assert message in page
    assert "127.0.0.1" not in page


def test_htmx_request_gets_the_notice_in_the_flash_area() -> None:
    response = answer(OperationalError("server closed the connection"), htmx=True)
    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["HX-Retarget"] == "#flash"
    assert 'role="alert"' in response.content.decode()
    assert translation.gettext(MESSAGE) in response.content.decode()
    assert "<html" not in response.content.decode()


@pytest.mark.parametrize(
    "exception", [DatabaseError("constraint"), ValueError("bug"), RuntimeError("bug")]
)
def test_other_errors_are_left_to_the_500_handler(exception: Exception) -> None:
    assert answer(exception) is None


@dataclass
class FakeConnection:
    alias: str
    in_atomic_block: bool = False
    closed: bool = False

    def close(self) -> None:
        self.closed = True


def test_broken_connection_is_closed_so_the_next_request_reconnects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Closed, not kept for CONN_MAX_AGE; one inside a transaction (a test's) is left alone."""
    idle, in_transaction = FakeConnection("default"), FakeConnection("other", True)

    class Handler:
        def all(self, initialized_only: bool = False) -> list[FakeConnection]:
            assert initialized_only
            return [idle, in_transaction]

    monkeypatch.setattr(middleware, "connections", Handler())
    answer(OperationalError("terminating connection due to administrator command"))
    assert (idle.closed, in_transaction.closed) == (True, False)


def test_page_needs_no_database(django_assert_max_num_queries, db) -> None:
    request = RequestFactory().get("/")
    request.htmx = False
    unavailable = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    with django_assert_max_num_queries(0):
        response = unavailable.process_exception(request, OperationalError("down"))
    assert response is not None
    assert response.status_code == 503


def test_middleware_is_installed(settings) -> None:
    assert "forum.middleware.DatabaseUnavailableMiddleware" in settings.MIDDLEWARE
