"""A wrong URL, a server that is down, a refused login, a missing database: one clear line on
the command line (exit code 1, no traceback), Korean on the page, nothing written, and never
the password in any output."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pg import PASSWORD

from rag import load_config
from rag.errors import ConfigError
from rag.stores.address import parse

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent
WRONG = "not-the-password-5e1d"


def rag(*args: str, password: str | None = None, store: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "RAG_STORE"))}
    env.update({"PYTHONPATH": str(ROOT)}, **({"PGPASSWORD": password} if password else {}),
               **({"RAG_STORE": store} if store else {}))
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def one_line(done: subprocess.CompletedProcess, *secrets: str) -> str:
    """The error line, after checking the exit code, the single line and that no secret shows."""
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out and done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, out
    for secret in (PASSWORD, WRONG, *secrets):
        assert secret not in out
    return done.stderr.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url, said", [
    ("mysql://rag@127.0.0.1/rag", "is not a PostgreSQL URL"),
    ("postgresql://127.0.0.1:5432/rag", "is not a PostgreSQL URL"),  # no user
    ("postgresql://rag@127.0.0.1:99999/rag", "is not a PostgreSQL URL"),  # no such port
    ("postgresql://rag:hunter2-secret@127.0.0.1/rag", "holds a password"),
    ("postgresql://rag@127.0.0.1/rag?hnsw=maybe", "hnsw must be true or false"),
    ("postgresql://rag@127.0.0.1/rag?colour=red", "unknown option 'colour'"),
])
def test_a_bad_url_is_one_line_naming_the_fix(url, said):
    line = one_line(rag("ask", "엔비디아 주가는?", "--store", url), "hunter2-secret")
    assert said in line


def test_a_bad_url_in_rag_store_names_where_it_came_from():
    line = one_line(rag("ask", "질문", "--json", store="postgresql://rag:hunter2-secret@db/rag"), "hunter2-secret")
    assert line.startswith("오류 / error: RAG_STORE: the URL 'postgresql://rag:***@db/rag' holds a password")


def test_a_server_that_is_down(postgres_server):
    port = free_port()
    line = one_line(rag("index", "articles", "--store", f"postgresql://rag@127.0.0.1:{port}/rag", password=PASSWORD))
    assert f"Cannot reach PostgreSQL at 127.0.0.1:{port}" in line and "데이터베이스(PostgreSQL)에 연결할 수 없습니다" in line


def test_a_refused_login_and_a_missing_password(pg_spec):
    url = f"postgresql://rag@127.0.0.1:{pg_spec.port}/{pg_spec.database}"
    line = one_line(rag("ask", "엔비디아 주가는?", "--json", "--store", url, password=WRONG))
    assert "refused the login of user 'rag'" in line and "PGPASSWORD" in line and "로그인을 거부했습니다" in line
    assert "refused the login" in one_line(rag("embed", "--store", url))  # no password at all


def test_a_missing_database(postgres_server):
    line = one_line(rag("embed", "--store", f"postgresql://rag@127.0.0.1:{postgres_server.port}/nowhere", password=PASSWORD))
    assert "Database 'nowhere' does not exist" in line and "createdb" in line


def test_the_page_says_it_in_korean(postgres_server, tmp_path):
    from ui.app import App

    spec = parse(f"postgresql://rag@127.0.0.1:{free_port()}/rag", "--store")
    app = App(replace(load_config(), store=spec))
    app._load()
    assert app.failed and app.status == "오류: 데이터베이스(PostgreSQL)에 연결할 수 없습니다. 서버가 켜져 있는지, 주소와 포트가 맞는지 확인하세요."


def test_password_file_and_choice_of_store(tmp_path, monkeypatch):
    (tmp_path / "models.yaml").write_text(
        (ROOT / "models.yaml").read_text(encoding="utf-8").replace(
            "settings: {}", f"store: {{url: 'postgresql://rag@db:6543/news?hnsw=true', password_file: {tmp_path / 'pw'}}}\nsettings: {{}}"),
        encoding="utf-8")
    monkeypatch.delenv("RAG_STORE", raising=False)
    config = load_config(tmp_path / "models.yaml")
    assert (config.store.url, config.store.password_file) == ("postgresql://rag@db:6543/news?hnsw=true", tmp_path / "pw")
    monkeypatch.setenv("RAG_STORE", "postgresql://me@other/archive")
    assert load_config(tmp_path / "models.yaml").store.url == "postgresql://me@other:5432/archive"  # the environment wins
    assert load_config(tmp_path / "models.yaml", store="folder").store is None  # and --store over both
    assert load_config(tmp_path / "models.yaml", index_dir=tmp_path / "ix").store is None  # --index-dir is a folder
    with pytest.raises(ConfigError, match="give one of them"):
        load_config(tmp_path / "models.yaml", index_dir=tmp_path / "ix", store="postgresql://me@other/archive")
    assert WRONG not in repr(config) and "password" not in repr(config.store).replace("password_file", "")
