"""Can the language model run on this CPU? Asked once, in a child process.

llama.cpp is compiled for the CPU it is built on. A build that does not fit the CPU it runs
on does not raise an error: it kills the process. On a virtualized Intel Xeon that advertises
AMX, llama.cpp's AMX backend dies with a general protection fault at the first answer; a build
made on a newer CPU dies with an illegal instruction on an older one. Either way the chat
simply vanished. So before the model is loaded in this process, a child process loads it and
generates a few tokens; if the child is killed by a signal, the person is told in one line what
happened and what to do. A success is remembered for this library, model and CPU
(`cache_dir/probe/`), so the check costs its two seconds once.

Run as `python -m rag.probe MODEL.gguf`: the child. It prints llama.cpp's system info first,
so the parent can tell an AMX build from another fault.
"""
from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import ModelError

log = logging.getLogger(__name__)
TIMEOUT_S = 300  # a model read from a slow disk; a hang is not a crash, so a timeout only warns
REBUILD = "./run rebuild"


def ensure_runs(model: Path, cache_dir: Path, progress: Callable[[str], None] = log.info) -> None:
    """Raise a ModelError saying what to do if the model crashes this CPU's llama.cpp build."""
    import llama_cpp

    mark = cache_dir / "probe" / _fingerprint(Path(llama_cpp.__file__).parent, model)
    if mark.exists():
        return
    progress("언어 모델 점검 / checking that the language model runs on this CPU (once)")
    if check([sys.executable, "-m", "rag.probe", str(model)]):
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.write_text("ok\n", encoding="utf-8")


def check(child: Sequence[str], timeout: float = TIMEOUT_S) -> bool:
    """Run the child; True if it generated, False if it could not tell (a timeout); a ModelError
    if it crashed or failed."""
    try:
        done = subprocess.run(list(child), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        log.warning("the language model check did not finish in %d s; going on without it", timeout)
        return False
    if done.returncode == 0:
        return True
    log.debug("language model check: exit %d\n%s\n%s", done.returncode, done.stdout, done.stderr)
    if done.returncode < 0:
        raise crash_error(signal.Signals(-done.returncode).name, done.stdout)
    last = (done.stderr.strip().splitlines() or ["no message"])[-1]
    raise ModelError(f"The language model could not be loaded ({last}). Delete the file and run `rag models pull` again.")


def crash_error(signal_name: str, system_info: str) -> ModelError:
    """The one line for a child killed by a signal, with the remedy that fits.

    >>> print(crash_error("SIGSEGV", "CPU : AVX512 = 1 | AMX_INT8 = 1 |").english)  # doctest: +ELLIPSIS
    The language model crashed on this CPU (SIGSEGV; llama.cpp was built with AMX, which faults on virtualized ...
    """
    if "AMX_INT8 = 1" in system_info:
        why = ("llama.cpp was built with AMX, which faults on virtualized Intel Xeons", "AMX가 켜진 빌드")
    elif signal_name == "SIGILL":
        why = ("llama.cpp was built for another CPU: an illegal instruction", "다른 CPU용 빌드")
    else:
        why = ("llama.cpp's build does not run on this CPU", "이 CPU에 맞지 않는 빌드")
    return ModelError(
        f"The language model crashed on this CPU ({signal_name}; {why[0]}). Compile llama-cpp-python again for this "
        f"machine, without AMX: `{REBUILD}` (README, \"Install\"), or answer from a llama.cpp server with --llm-server.",
        f"언어 모델이 이 CPU에서 멈췄습니다({signal_name}, {why[1]}). 터미널에서 `{REBUILD}`로 llama-cpp-python을 "
        "이 컴퓨터에 맞게 다시 빌드하세요.",
    )


def _fingerprint(library: Path, model: Path) -> str:
    """This build of llama.cpp (its files' sizes and times), the model file, and this CPU."""
    parts = [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(library.rglob("*.so*"))]
    parts.append(f"{model.resolve()}:{model.stat().st_size}:{model.stat().st_mtime_ns}")
    parts += [line for line in _cpuinfo() if line.startswith(("model name", "flags"))][:2]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def _child(model: str) -> None:
    """Load the model and generate a few tokens, as an answer would."""
    import faulthandler

    import llama_cpp

    faulthandler.enable()
    print(llama_cpp.llama_print_system_info().decode(), flush=True)
    llm = llama_cpp.Llama(model_path=model, n_ctx=256, n_threads=os.cpu_count() or 2, verbose=False)
    llm("안녕하세요", max_tokens=4, temperature=0.0)


if __name__ == "__main__":
    _child(sys.argv[1])
