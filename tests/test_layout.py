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
    """The folder is written by index.py alone; PostgreSQL's rows by the store's own modules."""
    writers = {p.relative_to(ROOT).as_posix() for p in LIBRARY if calls(p) & {"store.write", "store.lock"}}
    assert writers == {"rag/index.py"}
    sql = re.compile(r"\b(INSERT INTO|UPDATE rag_|DELETE FROM|COPY rag_|DROP TABLE|CREATE TABLE)\b")
    writing_sql = {p.relative_to(ROOT).as_posix() for p in LIBRARY + PAGE if sql.search(p.read_text(encoding="utf-8"))}
    assert writing_sql == {"rag/stores/pg_schema.py", "rag/stores/pg_write.py", "rag/stores/pg_queue.py"}


def test_both_homes_honour_the_whole_store_interface():
    from rag.reader import Index
    from rag.stores.base import Store
    from rag.stores.postgres import PostgresStore

    members = {name for name in vars(Store) if not name.startswith("_")} | set(Store.__annotations__)
    assert {"keyword", "nearest", "passages", "update", "embed_pending", "refresh", "pending", "identity"} <= members
    for home in (Index, PostgresStore):  # a method or property of the class, or a declared attribute
        missing = {m for m in members if not hasattr(home, m) and m not in getattr(home, "__annotations__", {})}
        assert not missing, (home.__name__, missing)


def test_the_pipeline_the_page_and_the_api_do_not_know_the_store():
    """They reach an index only through the Store interface: no folder module, no PostgreSQL one."""
    homes = {"rag.reader", "rag.store", "rag.segment", "rag.vectors", "rag.index", "rag.stores.postgres",
             "rag.stores.pg_schema", "rag.stores.pg_write", "rag.stores.pg_queue"}
    users = [ROOT / "rag" / name for name in ("pipeline.py", "retrieve.py", "conversation.py", "prompt.py", "cite.py")] + PAGE
    knowing = {p.relative_to(ROOT).as_posix(): imports(p) & homes for p in users if imports(p) & homes}
    assert knowing == {}


def test_part_of_speech_tag_sets_live_only_in_korean_py():
    tag_set = re.compile(r"""\{\s*"(NNG|NNP|NR|SL|SN|SH|VV|VA|XR)"\s*,""")
    defining = {p.relative_to(ROOT).as_posix() for p in LIBRARY + PAGE if tag_set.search(p.read_text(encoding="utf-8"))}
    assert defining == {"rag/korean.py"}


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_library_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 300
