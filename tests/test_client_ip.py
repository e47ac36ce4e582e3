"""One definition of the client's address, shared by the callback allow-list and the login lock-out."""

from django.test import RequestFactory

import pytest
from axes.helpers import get_client_ip_address

from wappin_portal.client_ip import client_ip


@pytest.fixture
def behind_one_proxy(settings):
    settings.IPWARE_TRUSTED_PROXY_LIST = ["10.0.0.2"]
    settings.IPWARE_PROXY_COUNT = 1


def _request(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/accounts/login/", **extra)


def test_the_client_behind_our_proxy_is_the_address_for_both(behind_one_proxy):
    request = _request("10.0.0.2", "203.0.113.9")
    assert client_ip(request) == "203.0.113.9"
    assert get_client_ip_address(request) == "203.0.113.9"


def test_a_forged_forwarded_header_from_outside_changes_nothing_for_both(behind_one_proxy):
    request = _request("198.51.100.7", "203.0.113.9")
    assert client_ip(request) == "198.51.100.7"
    assert get_client_ip_address(request) == "198.51.100.7"


def test_with_no_proxy_configured_the_header_is_ignored(settings):
    settings.IPWARE_TRUSTED_PROXY_LIST = []
    settings.IPWARE_PROXY_COUNT = 0
    request = _request("198.51.100.7", "203.0.113.9")
    assert client_ip(request) == get_client_ip_address(request) == "198.51.100.7"


def test_a_proxy_count_without_the_proxies_addresses_believes_no_forwarded_header(settings):
    # Issue 10, finding 7: a direct caller's forged address passed the allow-list and lock-out
    settings.IPWARE_TRUSTED_PROXY_LIST = []
    settings.IPWARE_PROXY_COUNT = 1
    request = _request("198.51.100.7", "203.0.113.9")
    assert client_ip(request) == get_client_ip_address(request) == "198.51.100.7"


def test_a_proxy_count_without_the_proxies_stops_start_up_with_a_clear_message():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wappin_portal.settings.test",
        "TRUSTED_PROXY_COUNT": "1",
        "TRUSTED_PROXIES": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "TRUSTED_PROXY_COUNT is set but TRUSTED_PROXIES is empty" in done.stderr
