"""Ledger idempotency keys (engine/model/facts.py ``fact_key``): one function builds them all, kinds cannot
collide, and a store written with the old keys is rewritten so facts learned again are still stored once."""

from __future__ import annotations

import ast
import asyncio
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import given
from hypothesis import strategies as st

from engine.model.facts import Fact, fact_key
from engine.store.store import Store

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["acd", "dialer", "engine", "ivr", "recording", "sim", "composition.py"]


def test_the_kind_comes_first_and_parts_are_written_as_f_strings_write_them():
    assert fact_key("channel.up", "1796143868.0") == "channel.up:1796143868.0"
    assert fact_key("acd.session", "hl-1", "up") == "acd.session:hl-1:up"
    assert fact_key("ivr.step", "1796143868.0", 3) == "ivr.step:1796143868.0:3"
    t = 1796143868.0123
    assert fact_key("agent.paused", "1001", t) == f"agent.paused:1001:{t}"
    assert fact_key("acd.guard", "1001", f"{t:.3f}") == "acd.guard:1001:1796143868.012"
    assert fact_key("ivr.degraded_since") == "ivr.degraded_since"


def test_two_kinds_never_share_a_key():
    # these two once did: a refused menu file and a loaded one were both ``reload:<mtime>``
    assert fact_key("ivr.reload_refused", 1796143868.5) != fact_key("ivr.reloaded", 1796143868.5)
    assert fact_key("acd.session", "u", "up") != fact_key("dialer.session", "u", "up")
    assert fact_key("ivr.callback", "u") != fact_key("outbound.callback", "u")


def test_a_colon_inside_a_part_cannot_make_two_part_lists_one_key():
    assert fact_key("k", "a:b") != fact_key("k", "a", "b")
    assert fact_key("k", "a%3Ab") != fact_key("k", "a:b")
    assert fact_key("k", "a", "") != fact_key("k", "a") != fact_key("k", "a:")
    assert fact_key("k", "a:b") == "k:a%3Ab"


@pytest.mark.parametrize("kind", ["", "a:b"])
def test_a_kind_must_be_a_single_component(kind):
    with pytest.raises(ValueError, match="kind"):
        fact_key(kind, "x")


_KIND = st.text(st.characters(blacklist_characters=":"), min_size=1, max_size=8)
_PART = st.one_of(st.text(max_size=8), st.integers(), st.floats(allow_nan=False))


@given(a=st.tuples(_KIND, st.lists(_PART, max_size=4)), b=st.tuples(_KIND, st.lists(_PART, max_size=4)))
def test_equal_keys_only_for_the_same_kind_and_parts(a, b):
    same = a[0] == b[0] and [str(p) for p in a[1]] == [str(p) for p in b[1]]
    assert (fact_key(a[0], *a[1]) == fact_key(b[0], *b[1])) == same


def _fact_calls(tree: ast.AST):
    """(kind node, key node) of every ``Fact(...)`` and ``<engine>.fact(...)`` call."""
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call):
            continue
        name = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
        at = {"Fact": 4, "fact": 3}.get(name)
        if at is not None and len(n.args) > at:
            yield n.args[0], n.args[at]


def test_no_key_is_built_by_hand():
    """Every key written in the engine's source comes from fact_key with the fact's own kind (or is passed on)."""
    files = [p for s in SOURCES for p in ([ROOT / s] if s.endswith(".py") else sorted((ROOT / s).rglob("*.py")))]
    checked, bad = 0, []
    for path in files:
        for kind, key in _fact_calls(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{key.lineno}"
            if isinstance(key, ast.Call) and getattr(key.func, "id", "") == "fact_key":
                checked += 1
                if ast.dump(key.args[0]) != ast.dump(kind):
                    bad.append(f"{where}: kind {ast.unparse(kind)} keyed as {ast.unparse(key.args[0])}")
            elif not isinstance(key, ast.Name | ast.Subscript):  # a key built elsewhere, passed on
                bad.append(f"{where}: key {ast.unparse(key)}")
    # the floor only proves the scan finds the writes: each feature's notifier writes most of its facts in one place
    assert checked > 40 and not bad, bad


# ---- stores written before keys began with the kind ------------------------------------------------------
OLD = [  # (kind, key as written before, the same fact's key now)
    ("channel.new", "new:1796143868.0", fact_key("channel.new", "1796143868.0")),
    ("bridge.enter", "benter:hl-1:152796d6-4a7e", fact_key("bridge.enter", "hl-1", "152796d6-4a7e")),
    ("ivr.degraded", "degraded:1796143900.4", fact_key("ivr.degraded", "1796143900.4")),
    ("acd.callback", "acd-callback:1796143868.0", fact_key("acd.callback", "1796143868.0")),
    ("acd.session", "session:hl-2:up", fact_key("acd.session", "hl-2", "up")),
    ("dialer.session", "session:hl-3:up", fact_key("dialer.session", "hl-3", "up")),
    ("acd.guard", "guard:1001:1796143868.012", fact_key("acd.guard", "1001", f"{1796143868.0123:.3f}")),
    ("ivr.reloaded", "reload:1796143000.25", fact_key("ivr.reloaded", 1796143000.25)),
    ("ivr.end", "ivr.end:1796143868.0", fact_key("ivr.end", "1796143868.0")),
    ("hold", "hold:1796143868.0:1", fact_key("hold", "1796143868.0", 1)),
    ("ivr.degraded_since", "degraded-since", fact_key("ivr.degraded_since")),
    ("test.other", "x:1", "x:1"),  # a kind the migration does not know: left alone
]


def _alembic(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "engine" / "store" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _keys(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT key, kind FROM ledger").fetchall())


def test_an_old_store_gets_the_new_keys_and_a_fact_learned_again_is_stored_once(tmp_path):
    db = tmp_path / "old.db"
    cfg = _alembic(f"sqlite+aiosqlite:///{db}")
    command.upgrade(cfg, "0010")
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT INTO ledger (at, kind, call_id, uniqueid, key, data, recorded_at) "
                         "VALUES (1.0, ?, '', '', ?, '{}', 1.0)", [(k, old) for k, old, _ in OLD])  # fmt: skip
    assert _keys(db)["store:created"] == "store.created"
    command.upgrade(cfg, "head")
    keys = _keys(db)
    assert keys == {**{new: kind for kind, _, new in OLD}, "store.created": "store.created"}

    async def again() -> int:
        store = Store(f"sqlite+aiosqlite:///{db}")
        try:  # the same facts as the live engine writes them now: none is new
            return await store.append([Fact(kind, 2.0, "", "", new, {}) for kind, _, new in OLD], 2.0)
        finally:
            await store.close()

    assert asyncio.run(again()) == 0
    command.downgrade(cfg, "0010")
    assert _keys(db) == {**{old: kind for kind, old, _ in OLD}, "store:created": "store.created"}
