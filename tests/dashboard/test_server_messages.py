"""The server's errors in the reader's language: business errors and field validation, for the
language the request asks for (the pages' script sends the user's)."""

from __future__ import annotations

import pytest

from crm_core.errors import Conflict, Invalid, said
from dashboard.i18n.server_messages import service_error_body, validation_message


def test_a_busy_extension_is_told_in_romanian_and_russian():
    busy = Conflict(
        said("Extension %(extension)s is busy (ringing or in a call); try again after it."),
        params={"extension": "102"},
    )
    assert busy.message.startswith("Extension 102 is busy")  # logs and the CLI stay English
    assert service_error_body(busy, "ro")["detail"].startswith("Interiorul 102 este ocupat")
    assert service_error_body(busy, "ru")["detail"].startswith("Внутренний номер 102 занят")
    assert service_error_body(busy, "en")["detail"] == busy.message


def test_a_refused_field_keeps_its_name_and_gets_the_language():
    refused = Invalid("title", said("must not be empty"))
    body = service_error_body(refused, "ro")
    assert body["detail"][0]["loc"] == ["body", "title"]
    assert body["detail"][0]["msg"] == "nu poate fi gol"


@pytest.mark.parametrize(
    ("error", "language", "expected"),
    [
        ({"type": "missing", "msg": "Field required"}, "ru", "Это поле обязательно."),
        (
            {"type": "string_too_long", "msg": "String should have...", "ctx": {"max_length": 250}},
            "ro",
            "Cel mult 250 caractere.",
        ),
        (
            {"type": "value_error", "msg": "Value error, must not be empty"},
            "en",
            "must not be empty",
        ),
        ({"type": "some_new_type", "msg": "As pydantic says"}, "ro", "As pydantic says"),
    ],
)
def test_validation_messages_read_as_a_person_writes(error, language, expected):
    assert validation_message(error, language) == expected


def test_the_api_answers_in_the_language_asked_for(client, as_user):
    headers = {**as_user("ana"), "accept-language": "ru"}
    answer = client.post("/api/tasks", json={"title": ""}, headers=headers)
    assert answer.status_code == 422
    messages = " ".join(e["msg"] for e in answer.json()["detail"])
    assert any("\u0400" <= ch <= "\u04ff" for ch in messages), messages


@pytest.mark.parametrize(
    ("message", "language", "expected"),
    [
        ("Value error, wrong number of digits for the country", "ro", "număr greșit de cifre"),
        ("Value error, not a phone number", "ru", "это не номер телефона"),
        (
            "value is not a valid email address: An email address must have an @-sign.",
            "ro",
            "nu este o adresă de e-mail validă",
        ),
    ],
)
def test_a_refused_phone_or_e_mail_is_told_in_the_readers_language(message, language, expected):
    error = {"type": "value_error", "msg": message}
    assert validation_message(error, language).startswith(expected)
