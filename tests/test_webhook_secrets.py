"""Standard Webhooks secrets exactly as the specification and its official library read them.

Every form the config accepts is signed so that ``standardwebhooks`` verifies it given the
same configured string; every other form is refused when the config loads, saying the
expected form and never quoting the secret.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from liveguard.adapters.config_file import ConfigError, parse_config
from liveguard.core.config import Action
from liveguard.core.promotion import TemplateValues, render_webhook
from liveguard.core.webhook_signing import SecretFormError, sign
from tests.cli_runner import run_liveguard

KEY = bytes(range(1, 33))  # 32 key bytes
STANDARD = base64.b64encode(KEY).decode()  # holds '+' or '/'? checked below
ACTIVATED = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)

ACCEPTED = {
    "padded": "whsec_" + base64.b64encode(KEY[:25]).decode(),  # 25 bytes: ends in "=="
    "unpadded": "whsec_" + base64.b64encode(KEY[:25]).decode().rstrip("="),
    "no padding needed": "whsec_" + STANDARD,
    "with + and /": "whsec_" + base64.b64encode(b"\xfb\xff\xbf" * 8).decode(),
    "spec example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "64 bytes": "whsec_" + base64.b64encode(bytes(range(64))).decode(),
}
REFUSED = {
    "plain text": ("my-shop-signing-secret-1234", "not a Standard Webhooks secret"),
    "base64 without whsec_": (STANDARD, "not a Standard Webhooks secret"),
    "URL-safe base64": (
        "whsec_" + base64.urlsafe_b64encode(b"\xfb\xff\xbf" * 8).decode(),
        "not standard base64",
    ),
    "not base64 at all": ("whsec_this is not base64!", "not standard base64"),
    "cut base64": ("whsec_" + STANDARD[:-3], "not standard base64"),
    "too short": ("whsec_" + base64.b64encode(b"short key").decode(), "the key is 9 bytes"),
    "too long": ("whsec_" + base64.b64encode(bytes(65)).decode(), "the key is 65 bytes"),
    "empty key": ("whsec_", "the key is 0 bytes"),
}
VALUES = TemplateValues(
    promotion="plan-b",
    reason="live off",
    channel="tiktok",
    activated_at=ACTIVATED,
    activation_id="A1",
)


def hook_config(secret: str) -> str:
    return f"""
[[promotions]]
id = "plan-b"

  [[promotions.actions]]
  kind = "webhook"
  url = "https://hooks.example/start"
  secret = "{secret}"
"""


def test_the_forms_cover_what_they_claim() -> None:
    assert ACCEPTED["padded"].endswith("==")
    assert not ACCEPTED["unpadded"].endswith("=")
    assert set("+/") <= set(ACCEPTED["with + and /"])
    assert set("-_") <= set(REFUSED["URL-safe base64"][0][len("whsec_") :])


@pytest.mark.parametrize("name", ACCEPTED)
@pytest.mark.parametrize("body", [{"voucher": "LIVEDOWN20"}, None], ids=["do", "undo-no-body"])
def test_every_accepted_secret_verifies_with_the_official_library(
    name: str, body: dict[str, str] | None
) -> None:
    secret = ACCEPTED[name]
    action = Action("webhook", url="https://hooks.example/x", body=body, secret="${S}")
    req = render_webhook(
        action,
        VALUES,
        {"S": secret},
        key="lg-A1-0-do",
        timestamp=int(datetime.now(UTC).timestamp()),  # the library judges it by its clock
    )
    payload = Webhook(secret).verify(req.body, req.headers)  # raises when it does not verify
    assert payload == (body or {})
    assert req.headers["Content-Type"] == "application/json"
    assert json.loads(req.body) == (body or {})


@pytest.mark.parametrize("name", REFUSED)
def test_every_other_form_is_refused_at_config_load(name: str) -> None:
    secret, why = REFUSED[name]
    with pytest.raises(ConfigError) as caught:
        parse_config(hook_config("${HOOK_SECRET}"), "liveguard.toml", {"HOOK_SECRET": secret})
    message = str(caught.value)
    assert "liveguard.toml:8: promotions[0].actions[0].secret" in message
    assert why in message
    assert "whsec_ followed by the standard base64 of 24 to 64 random bytes" in message
    if len(secret) > len("whsec_"):
        assert secret not in message and secret[len("whsec_") :] not in message
    with pytest.raises(SecretFormError):
        sign(secret, "m", 1, b"{}")


def test_a_literal_secret_in_the_file_is_checked_too() -> None:
    text = hook_config("hunter2") + '  undo = { url = "https://hooks.example/end" }\n'
    with pytest.raises(ConfigError, match=r"actions\[0\]\.secret: not a Standard Webhooks"):
        parse_config(text, "liveguard.toml", {})
    ok = text.replace("hunter2", ACCEPTED["spec example"])
    undo = parse_config(ok, "liveguard.toml", {}).promotions[0].actions[0].undo
    assert undo is not None and undo.secret == ACCEPTED["spec example"]


@pytest.mark.parametrize("name", ["plain text", "URL-safe base64"])
def test_doctor_reports_a_secret_of_the_wrong_form(tmp_path: Path, name: str) -> None:
    secret, why = REFUSED[name]
    (tmp_path / "liveguard.toml").write_text(hook_config("${HOOK_SECRET}"), encoding="utf-8")
    result = run_liveguard(
        "--lang", "en", "doctor", env={"LIVEGUARD_HOME": str(tmp_path), "HOOK_SECRET": secret}
    )
    assert result.returncode == 1
    assert "FAIL  config" in result.stdout and why in result.stdout
    assert "promotions[0].actions[0].secret" in result.stdout
    assert secret not in result.stdout + result.stderr
    assert "No problems found" not in result.stdout
