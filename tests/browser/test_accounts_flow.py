from __future__ import annotations

import re

import pytest

from tests.browser.conftest import console_errors

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-and-unusual-passphrase-9"


def test_sign_up_log_out_and_log_in_by_email(live_server, page, console_messages):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=username]", "shuxue_fan")
    page.fill("input[name=email]", "fan@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form.form--entrance button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.inner_text("[data-member-name]") == "shuxue_fan"

    with page.expect_navigation():
        page.click("[data-account-menu] button[type=submit]")
    page.goto(f"{live_server.url}/")
    assert page.locator("[data-member-name]").count() == 0

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "fan@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form--entrance button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.inner_text("[data-member-name]") == "shuxue_fan"
    assert console_errors(console_messages) == []


def test_wrong_password_shows_a_clear_error(live_server, page, django_user_model):
    django_user_model.objects.create_user("shuxue_fan", "fan@example.com", PASSWORD)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "fan@example.com")
    page.fill("input[name=password]", "wrong-password")
    with page.expect_navigation():
        page.click("form.form--entrance button[type=submit]")
    assert re.search("不正确", page.inner_text("main"))
    assert page.locator("[data-member-name]").count() == 0
