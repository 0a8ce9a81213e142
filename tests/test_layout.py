"""The code's layout keeps one home for each idea; these read the source, so a change that
moves an idea to a second place fails here rather than drifting apart silently."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = sorted((ROOT / "rag").rglob("*.py"))
PAGE = sorted((ROOT / "ui").rglob("*.py"))


def imports(path: Path) -> set[str]:
    """Every module a file imports, absolute ('rag.store', 'ui.app'), relative ones resolved."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def calls(path: Path) -> set[str]:
    """Dotted names called in a file ('store.write_index')."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            out.add(f"{node.func.value.id}.{node.func.attr}")
    return out


def test_the_library_does_not_import_the_page_except_the_entry_point():
    importers = {p.relative_to(ROOT).as_posix() for p in LIBRARY if any(m.split(".")[0] == "ui" for m in imports(p))}
    assert importers == {"rag/cli.py"}  # `rag chat` starts the page


def test_the_page_uses_only_the_names_the_library_exports():
    import rag

    taken = set()
    for path in PAGE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rag":
                taken |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                taken |= {alias.name for alias in node.names if alias.name.split(".")[0] == "rag"}
    assert taken and taken <= {f"rag.{name}" for name in rag.__all__}


def test_only_the_stores_write_an_index():
    """The folder is written by its writer alone; PostgreSQL's rows by the store's own modules."""
    writers = {p.relative_to(ROOT).as_posix() for p in LIBRARY if calls(p) & {"store.write", "store.lock"}}
    assert writers == {"rag/stores/folder/writer.py"}
    sql = re.compile(r"\b(INSERT INTO|UPDATE rag_|DELETE FROM|COPY rag_|DROP TABLE|CREATE TABLE)\b")
    writing_sql = {p.relative_to(ROOT).as_posix() for p in LIBRARY + PAGE if sql.search(p.read_text(encoding="utf-8"))}
    assert writing_sql == {"rag/stores/postgres/schema.py", "rag/stores/postgres/writer.py", "rag/stores/postgres/queue.py"}


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_imports_back_what_imports_it():
    """The import graph of the library and the page, imports inside functions included, has no
    circle: a store's reading never imports its writing back (nor anything else, anything)."""
    known = {module_of(p) for p in LIBRARY + PAGE}
    graph = {module_of(p): {m for m in imports(p) if m in known and m != module_of(p)} for p in LIBRARY + PAGE}
    for package in [m for m in known if any(k.startswith(m + ".") for k in known)]:
        graph[package] = {m for m in graph[package] if not m.startswith(package + ".")}  # a package's own re-exports
    circles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                circles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert circles == [], circles


def test_load_and_the_cli_reach_writing_and_embedding_only_through_the_store_interface():
    homes = ("rag.stores.folder", "rag.stores.postgres")
    reaching = {p.relative_to(ROOT).as_posix(): sorted(m for m in imports(p) if m.startswith(homes))
                for p in (ROOT / "rag" / "load.py", ROOT / "rag" / "cli.py")}
    assert reaching == {"rag/load.py": [], "rag/cli.py": []}


def test_both_homes_honour_the_whole_store_interface():
    from rag.stores.folder import FolderStore as Index
    from rag.stores.base import Store
    from rag.stores.postgres import PostgresStore

    members = {name for name in vars(Store) if not name.startswith("_")} | set(Store.__annotations__)
    assert {"keyword", "nearest", "passages", "update", "embed_pending", "refresh", "pending", "identity"} <= members
    for home in (Index, PostgresStore):  # a method or property of the class, or a declared attribute
        declared = {name for k in home.__mro__ for name in getattr(k, "__annotations__", {})}
        missing = {m for m in members if not hasattr(home, m) and m not in declared}
        assert not missing, (home.__name__, missing)


def test_the_pipeline_the_page_and_the_api_do_not_know_the_store():
    """They reach an index only through the Store interface: no folder module, no PostgreSQL one."""
    users = [ROOT / "rag" / name for name in ("pipeline.py", "retrieve.py", "conversation.py", "prompt.py", "compose.py", "answer.py",
                                               "timeline.py")] + PAGE
    knowing = {p.relative_to(ROOT).as_posix(): {m for m in imports(p) if m.startswith(("rag.stores.folder", "rag.stores.postgres"))}
               for p in users}
    knowing = {k: v for k, v in knowing.items() if v}
    assert knowing == {}


def test_part_of_speech_tag_sets_live_only_in_korean_py():
    tag_set = re.compile(r"""\{\s*"(NNG|NNP|NR|SL|SN|SH|VV|VA|XR)"\s*,""")
    defining = {p.relative_to(ROOT).as_posix() for p in LIBRARY + PAGE if tag_set.search(p.read_text(encoding="utf-8"))}
    assert defining == {"rag/korean.py"}


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_library_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 300
