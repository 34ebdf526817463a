"""TLS with --ssl-certificate/--ssl-keyfile/--ssl-password, using a throwaway self-signed cert."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SERVER_ACTIONS, ServerFactory
from tests.helpers import ServerProcess, action_call

PASSWORD = "key-password"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed; cannot make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert), "-passout", f"pass:{PASSWORD}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory, certificate: tuple[Path, Path]) -> ServerProcess:
    cert, key = certificate
    return server_factory(
        "--actions", SERVER_ACTIONS,
        "--ssl-certificate", str(cert), "--ssl-keyfile", str(key), "--ssl-password", PASSWORD,
        https=True,
    )  # fmt: skip


def test_webhook_is_served_over_https(server: ServerProcess) -> None:
    assert server.url.startswith("https://")
    with server.client() as client:
        response = client.post("/webhook", json=action_call("action_greet"))
    assert response.status_code == 200
    assert response.json()["responses"][0]["text"] == "Hello, stranger!"
    assert f"Action server listening on https://127.0.0.1:{server.port}" in server.output


def test_wrong_key_password_exits_with_a_clear_error(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server = ServerProcess(
        ["--actions", SERVER_ACTIONS, "--ssl-certificate", str(cert), "--ssl-keyfile", str(key),
         "--ssl-password", "wrong"],
        https=True,
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="exited with code 1"):
        server.start()
    assert f"Cannot load TLS certificate '{cert}' with key '{key}'" in server.output
    assert "Traceback" not in server.output
    server.close()
