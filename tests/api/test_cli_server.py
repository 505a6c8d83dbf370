"""The server and database commands: serve (refuses a default secret), apikey create, audit verify."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from medcoder.cli import app
from medcoder.settings import Settings
from medcoder.store.db import open_database

CLI = [sys.executable, "-c", "from medcoder.cli import app; app()"]


def _env(kb_settings: Settings, **extra: str) -> dict[str, str]:
    return {"MEDCODER_HOME": str(kb_settings.home), "MEDCODER_MIRROR": str(kb_settings.mirror), **extra}


@pytest.mark.parametrize("role", ["auditor"])
def test_cli_apikey_create_and_audit_verify(tmp_path: Path, kb_settings: Settings, role: str) -> None:
    db = f"sqlite:///{tmp_path / 'w.sqlite'}"
    runner = CliRunner()
    env = _env(kb_settings, MEDCODER_SECRET="cli-secret-0123456789")
    made = runner.invoke(app, ["apikey", "create", "--role", role, "--name", "dana", "--db", db], env=env)
    assert made.exit_code == 0, made.output
    assert made.output.strip().startswith("mck_")
    bad = runner.invoke(app, ["apikey", "create", "--role", "root", "--db", db], env=env)
    assert bad.exit_code == 2 and "[E633]" in bad.output
    ok = runner.invoke(app, ["audit", "verify", "--db", db], env=env)
    assert ok.exit_code == 0 and "audit chain ok: 1 events" in ok.output, ok.output
    database = open_database(db)
    with database.write() as session:
        session.execute(text("UPDATE audit_event SET actor = 'mallory'"))
        session.commit()
    database.dispose()
    broken = runner.invoke(app, ["audit", "verify", "--db", db, "--json"], env=env)
    assert broken.exit_code == 1 and "[E660]" in broken.output and '"ok": false' in broken.output


@pytest.mark.parametrize("env_name", ["production"])
def test_cli_serve_refuses_default_secret(tmp_path: Path, kb_settings: Settings, env_name: str) -> None:
    result = subprocess.run([*CLI, "serve", "--db", f"sqlite:///{tmp_path / 'w.sqlite'}", "--coder", "baseline"],
                            env={**_env(kb_settings, MEDCODER_ENV=env_name), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "[E650]" in result.stderr, result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("path", ["/v1/health"])
def test_cli_serve_answers_on_loopback(tmp_path: Path, kb_settings: Settings, path: str) -> None:
    port = _free_port()
    server = subprocess.Popen([*CLI, "serve", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'w.sqlite'}",
                               "--coder", "baseline"],
                              env={**_env(kb_settings, MEDCODER_SECRET="serve-secret-0123456789"),
                                   "PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["status"] == "ok"
        denied = httpx.get(f"http://127.0.0.1:{port}/v1/encounters", timeout=5)
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "E630"
    finally:
        server.terminate()
        server.wait(timeout=30)
        assert server.stderr is not None
        server.stderr.close()
