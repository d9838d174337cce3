from __future__ import annotations

import socket
import time

from fulcrum_companion import Registration
from fulcrum_companion.registration import origin_of
from support import admin_server


def test_start_posts_the_backend_with_the_bearer_token_and_stop_deletes_it_by_origin() -> None:
    with admin_server() as (admin, recorder):
        reg = Registration(admin, "s3cret", "api", "http://127.0.0.1:8001", weight=3, heartbeat=60)
        assert reg.start() == "added"
        assert reg.stop() == "removed"
    assert recorder.calls == [
        {"method": "POST", "path": "/api/pools/api/registrations", "authorization": "Bearer s3cret", "body": {"url": "http://127.0.0.1:8001", "weight": 3, "ttl": 180000}},
        {"method": "DELETE", "path": "/api/pools/api/registrations/http%3A%2F%2F127.0.0.1%3A8001", "authorization": "Bearer s3cret", "body": None},
    ]


def test_every_call_is_sent_as_json_the_deletion_without_a_body_too() -> None:
    # issue 13 #9: Fulcrum refuses an admin mutation that is not Content-Type: application/json (415).
    with admin_server() as (admin, recorder):
        reg = Registration(admin, "s3cret", "api", "http://127.0.0.1:8001", heartbeat=60)
        reg.start()
        reg.stop()
    assert recorder.content_types == ["application/json", "application/json"]


def test_a_409_on_start_means_already_registered() -> None:
    with admin_server() as (admin, recorder):
        recorder.statuses = [409]
        reg = Registration(admin, "t", "api", "http://127.0.0.1:8001", heartbeat=60)
        assert reg.start() == "present"
        reg.stop()


def test_each_heartbeat_posts_again_so_a_removed_backend_comes_back() -> None:
    with admin_server() as (admin, recorder):
        # Registered, then renewed by each beat: a renewal answers 200 too, and re-adds a backend a reload removed.
        recorder.statuses = [200, 200, 200]
        reg = Registration(admin, "t", "api", "http://127.0.0.1:8001", heartbeat=0.02)
        reg.start()
        assert recorder.wait_for(3)
        reg.stop()
    methods = [c["method"] for c in recorder.calls]
    assert methods[:3] == ["POST", "POST", "POST"] and methods[-1] == "DELETE"


def test_an_unreachable_admin_api_never_raises() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    reg = Registration(f"http://127.0.0.1:{port}", "t", "api", "http://127.0.0.1:8001", heartbeat=60, timeout=0.5)
    assert reg.start() == "failed"
    assert reg.stop() == "failed"


def test_a_silent_admin_api_is_bounded_by_the_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        admin = f"http://127.0.0.1:{silent.getsockname()[1]}"
        reg = Registration(admin, "t", "api", "http://127.0.0.1:8001", heartbeat=60, timeout=0.2)
        started = time.monotonic()
        assert reg.start() == "failed"
        assert time.monotonic() - started < 2


def test_the_backend_id_is_the_origin_as_fulcrum_computes_it() -> None:
    assert origin_of("http://10.0.0.5:8080/app") == "http://10.0.0.5:8080"
    assert origin_of("HTTP://Example.COM:80/") == "http://example.com"
    assert origin_of("https://[::1]:8443") == "https://[::1]:8443"
