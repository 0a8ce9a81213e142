"""The CLI's own behaviour, without models: error lines, exit codes, the page's login rule."""
from __future__ import annotations

import pytest

from rag.cli import main
from rag.errors import RagError
from ui.server import login


def test_unknown_profile_exits_1_with_the_choices(capsys):
    assert main(["models", "list", "--profile", "huge"]) == 1
    err = capsys.readouterr().err
    assert "huge" in err and "default" in err and "small" in err and "Traceback" not in err


def test_malformed_models_yaml_names_the_file(tmp_path, capsys):
    bad = tmp_path / "models.yaml"
    bad.write_text("models: [unclosed", encoding="utf-8")
    assert main(["models", "list", "--config", str(bad)]) == 1
    assert str(bad) in capsys.readouterr().err


def test_models_list_shows_both_models_of_a_profile(capsys):
    assert main(["models", "list", "--profile", "small"]) == 0
    out = capsys.readouterr().out
    assert "qwen2.5-coder-0.5b" in out and "embeddinggemma-300m" in out


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.0.10", "::"])
def test_network_address_needs_a_login(host):
    with pytest.raises(RagError, match="--auth"):
        login(host, None, False)
    assert login(host, None, True) is None
    assert login(host, "kim:pw", False) == ("kim", "pw")


@pytest.mark.parametrize("auth", ["kim", "kim:", ":pw"])
def test_malformed_login_is_rejected(auth):
    with pytest.raises(RagError, match="USER:PASSWORD"):
        login("127.0.0.1", auth, False)


def test_ask_needs_a_question_or_a_batch_and_checks_it_before_loading_models(capsys, tmp_path):
    assert main(["ask", "--index-dir", str(tmp_path)]) == 1
    assert "--batch" in capsys.readouterr().err
    assert main(["ask", "  ", "--index-dir", str(tmp_path)]) == 1
    assert "질문이 비어 있습니다" in capsys.readouterr().err
    assert main(["ask", "그럼 주가는?", "--history-file", str(tmp_path / "none.jsonl"), "--index-dir", str(tmp_path)]) == 1
    assert "none.jsonl" in capsys.readouterr().err
    broken = tmp_path / "history.jsonl"
    broken.write_text('{"question": "딥시크는?", "answer": "AI 회사다."}\n{"question": oops}\n', encoding="utf-8")
    assert main(["ask", "그럼 주가는?", "--history-file", str(broken), "--index-dir", str(tmp_path)]) == 1
    assert "history.jsonl:2" in capsys.readouterr().err
