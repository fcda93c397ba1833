"""The signing and retry schedule every webhook of linli shares."""
import hashlib
import hmac

from shared.webhooks import retry_delay, signature


def test_the_signature_is_the_hmac_sha256_of_the_exact_body():
    body = '{"状态": "assigned"}'.encode()
    assert signature("s3cret", body) == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature("s3cret", body + b" ") != signature("s3cret", body)


def test_retries_back_off_and_stop_growing():
    assert [retry_delay(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert retry_delay(20, 2.0) == 300.0
    assert retry_delay(5000, 2.0) == 300.0  # no float overflow, whatever the number of attempts
