"""Compressed request bodies: deflate (what Rasa sends) and gzip, bounded against bombs."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.conftest import SERVER_ACTIONS, ServerFactory
from tests.helpers import ServerProcess, action_call

LIMIT = 10 * 1024 * 1024


def deflate_bomb(size: int = 1 << 30) -> bytes:
    """`size` zero bytes as a ~1 MB zlib stream, built without compressing a gigabyte.

    One fully flushed deflate segment of 1 MiB of zeros is self-contained, so repeating it
    gives the same stream a compressor would produce; the Adler-32 of n zeros is (n % 65521) << 16 | 1.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_block = compressor.flush()
    checksum = (((size % 65521) << 16) | 1).to_bytes(4, "big")
    return b"\x78\xda" + segment * (size >> 20) + final_block + checksum


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory("--actions", SERVER_ACTIONS, "--max-body-size", "10MiB")


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def _tracker_call(events: int) -> bytes:
    listen = {"event": "action", "name": "action_listen", "timestamp": 1.0}
    return orjson.dumps(action_call("action_count_events", events=[listen] * events))


def test_webhook_accepts_a_deflate_body(client: httpx.Client) -> None:
    body = zlib.compress(_tracker_call(500))
    response = client.post(
        "/webhook",
        content=body,
        headers={"content-encoding": "deflate", "content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "500 events"


def test_webhook_accepts_a_raw_deflate_body(client: httpx.Client) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = compressor.compress(_tracker_call(3)) + compressor.flush()
    response = client.post("/webhook", content=body, headers={"content-encoding": "deflate"})
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "3 events"


def test_webhook_accepts_a_gzip_body(client: httpx.Client) -> None:
    response = client.post(
        "/webhook", content=gzip.compress(_tracker_call(7)), headers={"content-encoding": "gzip"}
    )
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "7 events"


def test_webhook_accepts_a_large_compressed_tracker_under_the_limit(client: httpx.Client) -> None:
    raw = _tracker_call(100_000)  # several MB, decompressed off the event loop
    assert 1 << 20 < len(raw) < LIMIT
    response = client.post(
        "/webhook", content=zlib.compress(raw), headers={"content-encoding": "deflate"}
    )
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "100000 events"


def test_decompression_bomb_returns_413(server: ServerProcess, client: httpx.Client) -> None:
    bomb = deflate_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    response = client.post("/webhook", content=bomb, headers={"content-encoding": "deflate"})
    assert response.status_code == 413
    assert response.json() == {
        "error": f"Request body exceeds the limit of {LIMIT} bytes after decompression"
    }
    # The server is still healthy afterwards.
    assert client.get("/health").status_code == 200


def test_unknown_content_encoding_returns_415(client: httpx.Client) -> None:
    response = client.post("/webhook", content=b"data", headers={"content-encoding": "br"})
    assert response.status_code == 415
    assert response.json() == {
        "error": "Unsupported Content-Encoding 'br': use gzip, deflate or identity"
    }


def test_corrupt_compressed_body_returns_400(client: httpx.Client) -> None:
    response = client.post(
        "/webhook", content=b"not gzip at all", headers={"content-encoding": "gzip"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith(
        "Cannot decode request body: body is not valid gzip data"
    )


def test_truncated_compressed_body_returns_400(client: httpx.Client) -> None:
    body = zlib.compress(_tracker_call(50))[:-20]
    response = client.post("/webhook", content=body, headers={"content-encoding": "deflate"})
    assert response.status_code == 400
    assert response.json() == {"error": "Cannot decode request body: compressed body is truncated"}
