"""The signing and retry schedule every webhook of linli shares."""
import hashlib
import hmac

import pytest

from services.intake.sources import Source, Sources, key_hash
from services.notify.context import channels
from shared.settings import Settings
from shared.webhooks import REPLAY_WINDOW_SECONDS, retry_delay, signature, signed_headers, verified

BODY = '{"状态": "assigned"}'.encode()
SENT = 1_800_000_000


def test_the_signature_is_the_hmac_sha256_of_the_timestamp_and_the_exact_body():
    expected = hmac.new(b"s3cret", f"{SENT}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature("s3cret", BODY, SENT) == "sha256=" + expected
    assert signature("s3cret", BODY + b" ", SENT) != signature("s3cret", BODY, SENT)
    assert signature("s3cret", BODY, SENT + 1) != signature("s3cret", BODY, SENT)
    headers = signed_headers("s3cret", BODY, now=SENT + 0.7)
    assert headers["X-Linli-Timestamp"] == str(SENT) and headers["X-Linli-Signature"] == "sha256=" + expected


@pytest.mark.parametrize("received, timestamp, secret, ok", [
    (SENT + 3, SENT, "s3cret", True),
    (SENT + REPLAY_WINDOW_SECONDS, SENT, "s3cret", True),
    (SENT + REPLAY_WINDOW_SECONDS + 1, SENT, "s3cret", False),  # a replay, after the window
    (SENT - REPLAY_WINDOW_SECONDS - 1, SENT, "s3cret", False),  # from the future
    (SENT + 600, SENT + 600, "s3cret", False),  # the old signature under a fresh timestamp
    (SENT + 3, SENT, "guess", False),
])
def test_a_receiver_refuses_a_replay_a_moved_timestamp_and_a_wrong_secret(received, timestamp, secret, ok):
    header = signature(secret, BODY, SENT)
    assert verified("s3cret", BODY, str(timestamp), header, now=received) is ok


@pytest.mark.parametrize("timestamp, header", [(None, "sha256=x"), ("", "sha256=x"), ("12ab", "sha256=x"),
                                               ("9" * 40, "sha256=x"), (str(SENT), None)])
def test_a_missing_or_malformed_header_is_refused_not_an_error(timestamp, header):
    assert verified("s3cret", BODY, timestamp, header, now=SENT) is False


@pytest.mark.parametrize("configured, setting", [
    ({"notify_webhook_url": "http://hook"}, "NOTIFY_WEBHOOK_SECRET"),
    ({"notify_sms_url": "http://sms"}, "NOTIFY_SMS_SECRET"),
    ({"notify_sms_url": "http://sms", "notify_sms_secret": ""}, "NOTIFY_SMS_SECRET"),
])
def test_notify_refuses_to_start_with_the_default_secret_unless_in_development(configured, setting):
    production = {**configured, "linli_development": False}  # whatever the environment says (make exports it)
    with pytest.raises(RuntimeError, match=setting):
        channels(Settings(**production))
    assert len(channels(Settings(**configured, linli_development=True))) == 2
    secret = {f"{setting.lower()}": "a-real-secret"}
    assert len(channels(Settings(**production | secret))) == 2


@pytest.mark.parametrize("secret", [None, "change-me"])
def test_intake_refuses_a_source_webhook_with_no_or_the_default_secret_unless_in_development(secret):
    hooked = Source(source="hotline-12345", name="h", api_key_sha256=(key_hash("k"),), webhook_url="http://hook", webhook_secret=secret)
    sources = Sources({"hotline-12345": hooked, "app": Source(source="app", name="a", api_key_sha256=(key_hash("k2"),))})
    with pytest.raises(RuntimeError, match="webhook_secret of source 'hotline-12345'"):
        sources.require_webhook_secrets(development=False)
    sources.require_webhook_secrets(development=True)
    Sources({"hotline-12345": hooked.model_copy(update={"webhook_secret": "own"})}).require_webhook_secrets(False)


def test_retries_back_off_and_stop_growing():
    assert [retry_delay(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert retry_delay(20, 2.0) == 300.0
    assert retry_delay(5000, 2.0) == 300.0  # no float overflow, whatever the number of attempts
