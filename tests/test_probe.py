"""The language model runs on this CPU, or the person is told why not (rag/probe.py, ./run).

The crash tests run real child processes that die by a real signal, as a llama.cpp build that
does not fit the CPU does (AMX on a virtualized Xeon: SIGSEGV; a build for a newer CPU: SIGILL).
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from rag.errors import ModelError
from rag.probe import check, ensure_runs

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _dies_by(signal_name: str, prints: str = "") -> list[str]:
    return [sys.executable, "-c", f"import os, signal; print({prints!r}, flush=True); os.kill(os.getpid(), signal.{signal_name})"]


def test_a_child_killed_by_a_fault_on_an_amx_build_names_the_signal_the_cause_and_the_remedy():
    with pytest.raises(ModelError) as e:
        check(_dies_by("SIGSEGV", "CPU : AVX512 = 1 | AMX_INT8 = 1 | AMX_BF16 = 1 |"))
    assert "SIGSEGV" in e.value.english and "AMX" in e.value.english and "./run rebuild" in e.value.english
    assert "SIGSEGV" in e.value.korean and "./run rebuild" in e.value.korean
    assert "\n" not in str(e.value)  # one line, in the terminal and on the page


def test_an_illegal_instruction_is_a_build_for_another_cpu():
    with pytest.raises(ModelError, match="SIGILL.*another CPU.*./run rebuild"):
        check(_dies_by("SIGILL"))


def test_a_model_that_fails_to_load_is_told_with_its_last_line():
    with pytest.raises(ModelError, match="could not be loaded \\(ValueError: not a GGUF\\)"):
        check([sys.executable, "-c", "raise ValueError('not a GGUF')"])


def test_a_child_that_generates_passes_and_one_that_hangs_only_warns():
    assert check([sys.executable, "-c", "print('CPU : AVX512 = 1 |')"]) is True
    assert check([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.5) is False


def _run_flags() -> list[str]:
    """The compiler flags ./run gives llama.cpp's build."""
    text = (PROJECT_ROOT / "run").read_text()
    return shlex.split(re.search(r'^NO_AMX="([^"]+)"', text, re.M).group(1))


def test_the_build_flags_turn_amx_off_on_a_cpu_that_has_it_and_keep_avx512():
    # -march=sapphirerapids is the Xeon of the crash: what -march=native gives there
    defined = subprocess.run(["gcc", "-march=sapphirerapids", *_run_flags(), "-dM", "-E", "-"], input="", capture_output=True,
                             text=True, check=True).stdout
    assert "__AMX_INT8__" not in defined and "__AMX_TILE__" not in defined  # llama.cpp's AMX backend is compiled only with them
    assert "__AVX512F__" in defined and "__AVX512VNNI__" in defined


def test_the_installed_llama_cpp_was_built_without_amx():
    llama_cpp = pytest.importorskip("llama_cpp")
    info = llama_cpp.llama_print_system_info().decode()
    assert "AMX" not in info, info


@pytest.mark.e2e
def test_the_real_model_runs_here_and_the_check_is_remembered(tmp_path):
    from rag import load_config
    from rag.models import ensure_model

    config = load_config()
    model = ensure_model(config.llm, config.cache_dir)
    ensure_runs(model, tmp_path)
    assert len(list((tmp_path / "probe").iterdir())) == 1


@pytest.mark.e2e
def test_the_page_says_in_korean_when_the_model_cannot_run(tmp_path):
    from rag import load_config
    from rag.config import ModelSpec
    from rag.stores.folder import index_paths
    from rag.load import load_embedder
    from ui.app import App

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 4096)
    config = load_config(index_dir=tmp_path / "index")
    index_paths([config.articles_dir], config.index_dir, load_embedder(config), config.settings)
    config = replace(config, llm=ModelSpec("broken", "llm", "broken.gguf", "path", path=str(broken)))
    app = App(config).start()
    assert not app.wait(600)
    assert app.failed and app.status.startswith("오류: 모델을 준비하지 못했습니다"), app.status
