"""Phone numbers, lead files, the lead store (import, do-not-call, hand-out, retries, purge) and `hotline leads`."""

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from dialer.leads import (
    BadRow,
    LeadFileError,
    LeadStore,
    parse_lead_file,
    parse_lead_text,
    parse_when,
    purge_after,
)
from dialer.phone import PhoneError, normalise, parse_phone
from engine import cli
from engine.config import load_site
from engine.store.store import Store, migrate
from engine.store.tables import lead_aggregates, leads

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_700_000_000.0
DAY = 86400.0


# ---- phone numbers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, e164, kind",
    [
        ("13800138000", "+8613800138000", "mobile"),
        ("138 0013 8000", "+8613800138000", "mobile"),
        ("138-0013-8000", "+8613800138000", "mobile"),
        ("(138) 0013 8000", "+8613800138000", "mobile"),
        ("+86 138 0013 8000", "+8613800138000", "mobile"),
        ("+8613800138000", "+8613800138000", "mobile"),
        ("0086 13800138000", "+8613800138000", "mobile"),
        ("8613800138000", "+8613800138000", "mobile"),
        ("86 199 1234 5678", "+8619912345678", "mobile"),
        ("  13800138000\t", "+8613800138000", "mobile"),
        ("１３８００１３８０００", "+8613800138000", "mobile"),  # full-width digits from a Chinese IME
        ("＋８６ 138 0013 8000", "+8613800138000", "mobile"),
        ("010-12345678", "+861012345678", "fixed"),
        ("(010) 1234 5678", "+861012345678", "fixed"),
        ("0755 1234 5678", "+8675512345678", "fixed"),
        ("(021)87654321", "+862187654321", "fixed"),
        ("0571-1234567", "+865711234567", "fixed"),  # 3-digit area code, 7-digit number
        ("0571-12345678", "+8657112345678", "fixed"),
        ("+86 10 12345678", "+861012345678", "fixed"),
        ("+86 (0)10 12345678", "+861012345678", "fixed"),
        ("0086 21 8765 4321", "+862187654321", "fixed"),
        ("86 010 12345678", "+861012345678", "fixed"),
        ("010–12345678", "+861012345678", "fixed"),  # en dash from a word processor
        ("+1 (555) 123-4567", "+15551234567", "e164"),
        ("+44 20 7946 0958", "+442079460958", "e164"),
        ("0044 20 7946 0958", "+442079460958", "e164"),
        ("00-1-555-123-4567", "+15551234567", "e164"),  # 00: the international prefix dialled from China
        ("+12345678", "+12345678", "e164"),  # 8 digits: the shortest accepted
        ("+123456789012345", "+123456789012345", "e164"),  # 15 digits: the longest
    ],
)
def test_good_numbers(raw, e164, kind):
    p = parse_phone(raw)
    assert (p.e164, p.kind) == (e164, kind)
    assert normalise(p.e164) == e164, "normalising an E.164 number changes nothing"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "letters in number"),
        ("138OO138000", "letters in number"),  # letter O for zero
        ("010-12345678 ext 12", "letters in number"),
        ("13800138000.0", "unexpected character '.'"),  # a spreadsheet's float
        ("1.38001E+10", "letters in number"),
        ("138#0013", "unexpected character '#'"),
        ("138+0013+8000", "'+' is only allowed at the start"),
        ("(010 12345678", "unbalanced parentheses"),
        ("010) 12345678(", "unbalanced parentheses"),
        ("--", "no digits"),
        ("1380013800", "too short for a Chinese mobile (10 digits, need 11)"),
        ("138001380001", "too long for a Chinese mobile (12 digits, need 11)"),
        ("12800138000", "not a Chinese mobile, fixed-line or E.164 number (Chinese mobiles start with 13-19)"),
        ("11800138000", "not a Chinese mobile, fixed-line or E.164 number"),
        ("1012345678", "Beijing numbers need the leading 0"),
        ("010-1234567", "too short for a fixed line: area code 010 takes 8-digit numbers, got 7"),
        ("010-123456789", "too long for a fixed line: area code 010 takes 8-digit numbers, got 9"),
        ("0755-123456", "too short for a fixed line: area code 0755 takes 7- or 8-digit numbers, got 6"),
        ("0755-123456789", "too long for a fixed line"),
        ("021-01234567", "the number after area code 021 cannot start with 0"),
        ("000 12345678", "country code cannot start with 0"),
        ("0-12345678", "not a Chinese mobile, fixed-line or E.164 number"),
        ("87654321", "fixed-line number without area code"),
        ("1234567", "not a Chinese mobile, fixed-line or E.164 number"),
        ("4001234567", "not a Chinese mobile, fixed-line or E.164 number"),
        ("10086", "not a Chinese mobile, fixed-line or E.164 number"),
        ("+86", "too short"),
        ("+86 138 0013 800", "too short for a Chinese mobile"),
        ("+1234567", "too short for an international number (7 digits after '+', need 8-15)"),
        ("+1234567890123456", "too long for an international number (16 digits after '+', need 8-15)"),
        ("+0123456789", "country code cannot start with 0"),
    ],
)
def test_bad_numbers_say_why(raw, reason):
    with pytest.raises(PhoneError) as exc:
        parse_phone(raw)
    assert reason in exc.value.reason
    assert str(exc.value) == exc.value.reason


# ---- lead files --------------------------------------------------------------------------------------------
BAD_FILE = (
    "\ufeffPhone,Name,Team,TZ,Source\n"  # line 1: BOM, header in any case
    "13800138000,Zhang San,north,Asia/Shanghai,fair\n"  # 2 good
    "138-0013-8001,Li Si,,,web\n"  # 3 good, no team
    "12345,Wang Wu,north,,web\n"  # 4 bad phone
    ",Zhao Liu,north,,web\n"  # 5 empty phone
    "13800138002,Qian Qi,north,Mars/Olympus,web\n"  # 6 unknown time zone
    "13800138003,Sun Ba,north\n"  # 7 wrong column count
    "\n"  # 8 blank: not a row
    '+86 138 0013 8000,"Zhou\nJiu",south,,web\n'  # 9-10 duplicate of line 2 (a quoted field spans lines)
    "13800l38004,Wu Shi,south,,web\n"  # 11 letters
    "010-12345678,Beijing Office,south,Asia/Shanghai,\n"  # 12 good, fixed line
)


def test_bad_rows_are_named_by_line_with_reason_and_value():
    good, bad = parse_lead_text(BAD_FILE, "leads.csv")
    assert [(g.line, g.phone, g.name, g.team, g.tz) for g in good] == [
        (2, "+8613800138000", "Zhang San", "north", "Asia/Shanghai"),
        (3, "+8613800138001", "Li Si", None, ""),
        (12, "+861012345678", "Beijing Office", "south", "Asia/Shanghai"),
    ]
    assert good[0].extra == {"Source": "fair"}, "unknown columns are kept, under their header"
    assert good[2].kind == "fixed"
    assert [b.format("leads.csv") for b in bad] == [
        "leads.csv:4: bad phone: not a Chinese mobile, fixed-line or E.164 number: '12345'",
        "leads.csv:5: empty phone: ''",
        "leads.csv:6: unknown time zone: 'Mars/Olympus'",
        "leads.csv:7: wrong column count: 3 fields, the header has 5: '13800138003,Sun Ba,north'",
        "leads.csv:9: duplicate phone, first on line 2: '+86 138 0013 8000'",
        "leads.csv:11: bad phone: letters in number: '13800l38004'",
    ]
    assert len(good) + len(bad) == 9, "every row is either good or reported"


def test_file_without_header_phone_or_not_utf8_is_an_error_naming_the_file(tmp_path):
    no_phone = tmp_path / "nophone.csv"
    no_phone.write_text("name,tel\nZhang,13800138000\n")
    with pytest.raises(LeadFileError, match=r"nophone\.csv:1: no 'phone' column in the header \(found 'name', 'tel'\)"):
        parse_lead_file(no_phone)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("phone,name\n13800138000,张三\n".encode("gbk"))
    with pytest.raises(LeadFileError, match=r"gbk\.csv:2: not UTF-8 text"):
        parse_lead_file(gbk)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(LeadFileError, match=r"empty\.csv: empty file"):
        parse_lead_file(empty)
    with pytest.raises(LeadFileError, match=r"missing\.csv: file not found"):
        parse_lead_file(tmp_path / "missing.csv")
    twice = tmp_path / "twice.csv"
    twice.write_text("phone,Phone\n1,2\n")
    with pytest.raises(LeadFileError, match=r"twice\.csv:1: column 'Phone' appears twice"):
        parse_lead_file(twice)


def test_bom_and_utf8_names_are_read(tmp_path):
    f = tmp_path / "bom.csv"
    f.write_bytes("phone,name\r\n13800138000,张三\r\n".encode("utf-8-sig"))
    good, bad = parse_lead_file(f)
    assert bad == []
    assert (good[0].phone, good[0].name) == ("+8613800138000", "张三")


# ---- the store ---------------------------------------------------------------------------------------------
@pytest.fixture
def url(tmp_path):
    u = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    migrate(u)
    return u


@pytest.fixture
async def store(url):
    s = Store(url)
    yield LeadStore(s.engine)
    await s.close()


def rows(text: str):
    good, bad = parse_lead_text(text)
    assert bad == []
    return good


LEADS = rows(
    "phone,name,team\n"
    "13800138000,A,north\n"  # A
    "13800138001,B,south\n"  # B
    "13800138002,C,\n"  # C: no team
    "13800138003,D,north\n"  # D
)


async def test_import_twice_imports_once(store):
    assert await store.import_leads("spring", LEADS, NOW) == (4, 0)
    assert await store.import_leads("spring", LEADS, NOW + 1) == (0, 4)
    more = rows("phone\n13800138003\n13900139000\n")
    assert await store.import_leads("spring", more, NOW + 2) == (1, 1)
    assert await store.import_leads("autumn", LEADS, NOW) == (4, 0), "another campaign has its own leads"
    assert await store.counts("spring") == {"new": 5}
    assert await store.import_leads("spring", [], NOW) == (0, 0)


async def test_do_not_call_lists_are_enforced_when_leads_are_handed_out(store, caplog):
    await store.import_leads("spring", LEADS, NOW)
    assert await store.add_dnc(["138 0013 8000"], None, NOW, "test") == (1, 0)  # global
    assert await store.add_dnc(["+86 13800138001"], "spring", NOW, "test") == (1, 0)
    assert await store.add_dnc(["13800138002"], "autumn", NOW, "test") == (1, 0)  # another campaign's list
    assert await store.add_dnc(["8613800138000"], None, NOW, "again") == (0, 1)
    assert await store.is_dnc("+8613800138000", "spring") and await store.is_dnc("13800138000", "autumn")
    assert await store.is_dnc("13800138001", "spring") and not await store.is_dnc("13800138001", "autumn")
    assert not await store.is_dnc("13800138003", "spring")

    with caplog.at_level(logging.INFO, logger="hotline.leads"):
        got = await store.claim("spring", None, 10, NOW)
    assert sorted(x.phone for x in got) == ["+8613800138002", "+8613800138003"]
    assert await store.counts("spring") == {"dnc": 2, "dialing": 2}
    assert "**********8000" in caplog.text
    assert "13800138000" not in caplog.text and "13800138001" not in caplog.text, "numbers are masked in logs"

    # a number put on the list after its lead was dialed once is not dialed again
    third = next(x for x in got if x.phone == "+8613800138002")
    assert await store.finish(third.id, "noanswer", NOW + 10, NOW + 3600)
    await store.add_dnc(["13800138002"], None, NOW + 20, "complaint")
    assert await store.claim("spring", None, 10, NOW + 7200) == []
    assert (await store.counts("spring"))["dnc"] == 3


async def test_team_gets_its_own_leads_and_those_of_no_team(store):
    await store.import_leads("spring", LEADS, NOW)
    north = await store.claim("spring", "north", 10, NOW)
    assert [x.name for x in north] == ["A", "C", "D"], "north's leads and the one with no team, oldest first"
    assert all(x.status == "dialing" for x in north)
    assert await store.claim("spring", "north", 10, NOW) == [], "a claimed lead is not handed out twice"
    assert [x.name for x in await store.claim("spring", "south", 10, NOW)] == ["B"]
    assert await store.claim("spring", None, 10, NOW) == []


async def test_claim_hands_out_at_most_n_oldest_first(store):
    await store.import_leads("spring", LEADS[:2], NOW)
    await store.import_leads("spring", LEADS[2:], NOW + 5)
    assert [x.name for x in await store.claim("spring", None, 3, NOW + 10)] == ["A", "B", "C"]
    assert [x.name for x in await store.claim("spring", None, 3, NOW + 10)] == ["D"]
    assert await store.claim("spring", None, 0, NOW + 10) == []


async def test_finish_and_retry_due_times(store):
    await store.import_leads("spring", LEADS[:2], NOW)
    a, b = await store.claim("spring", None, 2, NOW)
    assert await store.finish(a.id, "noanswer", NOW + 30, NOW + 2 * 3600)
    assert await store.finish(b.id, "talked", NOW + 300, None)
    assert not await store.finish(b.id, "talked", NOW + 301, None), "a lead not being dialed is not finished twice"
    assert await store.counts("spring") == {"retry": 1, "done": 1}

    assert await store.claim("spring", None, 5, NOW + 3600) == [], "not due before its retry time"
    (again,) = await store.claim("spring", None, 5, NOW + 2 * 3600)
    assert (again.id, again.attempts, again.last_outcome, again.next_attempt_at) == (
        a.id, 1, "noanswer", NOW + 2 * 3600,
    )  # fmt: skip
    assert await store.finish(again.id, "busy", NOW + 2 * 3600 + 20, NOW + 4 * 3600)
    (third,) = await store.claim("spring", None, 5, NOW + 5 * 3600)
    assert third.attempts == 2
    assert await store.finish(third.id, "talked", NOW + 5 * 3600 + 200, None)
    assert await store.claim("spring", None, 5, NOW + 99 * 3600) == [], "done leads stay done"
    t = await store.totals("spring")
    assert (t.status, t.outcome, t.attempts) == ({"done": 2}, {"talked": 2}, 4)


async def test_due_retry_and_new_leads_are_handed_out_longest_waiting_first(store):
    await store.import_leads("spring", LEADS[:1], NOW)
    (a,) = await store.claim("spring", None, 1, NOW)
    await store.finish(a.id, "busy", NOW + 10, NOW + 60)
    await store.import_leads("spring", LEADS[1:2], NOW + 100)
    assert [x.name for x in await store.claim("spring", None, 5, NOW + 200)] == ["A", "B"]


async def test_purge_destroys_personal_data_and_keeps_the_counts(store, url):
    text = "phone,name,team,tz,company\n13800138000,Zhang San,north,Asia/Shanghai,Acme Widgets\n13911112222,Li Si,,,\n"
    await store.import_leads("spring", rows(text), NOW)
    await store.import_leads("spring", rows("phone,name\n021-87654321,Wang Wu\n"), NOW)
    await store.import_leads("autumn", rows("phone,name\n13577778888,Keep Me\n"), NOW)
    a, b, _c = await store.claim("spring", None, 3, NOW)
    await store.finish(a.id, "talked", NOW + 100, None)
    await store.finish(b.id, "noanswer", NOW + 100, NOW + 7200)
    before = await store.totals("spring")

    assert await store.purge("spring", NOW + 90 * DAY) == 3
    async with store.engine.connect() as conn:
        spring = (await conn.execute(select(leads).where(leads.c.campaign == "spring"))).mappings().all()
        autumn = (await conn.execute(select(leads).where(leads.c.campaign == "autumn"))).mappings().all()
        agg = dict((await conn.execute(select(lead_aggregates.c.key, lead_aggregates.c.value))).all())
    assert len(spring) == 3
    for r in spring:
        assert (r["phone"], r["name"], r["extra"], r["status"]) == (None, "", None, "purged")
    assert autumn[0]["phone"] == "+8613577778888", "other campaigns are not touched"
    assert agg == {"leads": 3, "attempts": 2, "status:done": 1, "status:retry": 1, "status:dialing": 1,
                   "outcome:talked": 1, "outcome:noanswer": 1}  # fmt: skip

    after = await store.totals("spring")
    assert (after.status, after.outcome, after.attempts) == (before.status, before.outcome, before.attempts)
    assert after.purged == 3
    assert await store.purge("spring", NOW + 91 * DAY) == 0, "nothing left to purge"
    assert await store.totals("spring") == after

    # not just hidden from queries: the bytes are gone from the database file and its write-ahead log
    db = Path(url.split("///", 1)[1])
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    for secret in ("13800138000", "13911112222", "2187654321", "Zhang San", "Li Si", "Wang Wu", "Acme Widgets"):
        assert secret.encode() not in raw, secret
    assert b"13577778888" in raw and b"Keep Me" in raw, "the check would see data that is there"


async def test_purge_adds_to_earlier_aggregates(store):
    await store.import_leads("spring", LEADS[:2], NOW)
    await store.purge("spring", NOW + DAY)
    await store.import_leads("spring", LEADS[2:], NOW + 2 * DAY)
    (x,) = await store.claim("spring", None, 1, NOW + 2 * DAY)
    await store.finish(x.id, "talked", NOW + 2 * DAY, None)
    assert await store.purge("spring", NOW + 3 * DAY) == 2
    t = await store.totals("spring")
    assert (t.status, t.outcome, t.attempts, t.purged) == ({"new": 3, "done": 1}, {"talked": 1}, 1, 4)
    assert await store.campaigns() == ["spring"]


# ---- campaign end, retention and `hotline leads` ---------------------------------------------------------------
@dataclass(frozen=True)
class Campaign:
    """Stands in for the site file's campaign entries (.name, .ends, .retention_days, .region)."""

    name: str
    ends: float | None = None
    retention_days: int = 30
    region: str = "CN"


def test_purge_after_end_plus_retention_and_iso_times():
    from zoneinfo import ZoneInfo

    assert purge_after(Campaign("x", None, 30)) is None
    assert purge_after(Campaign("x", NOW, 30)) == NOW + 30 * DAY
    sh = ZoneInfo("Asia/Shanghai")
    assert parse_when("2024-01-01T08:00", sh) == parse_when("2024-01-01T00:00+00:00", sh)
    assert parse_when("2024-01-01", sh) == parse_when("2023-12-31T16:00:00Z", sh)
    with pytest.raises(ValueError):
        parse_when("yesterday", sh)


class SiteWithCampaigns:
    """A loaded site plus campaigns: the site file's [[campaigns]] section is being added separately."""

    def __init__(self, site, campaigns):
        self.site, self.campaigns = site, campaigns
        self.path = site.path

    def __getitem__(self, section):
        return self.site[section]


@pytest.fixture
def site(tmp_path, monkeypatch):
    text = (ROOT / "examples" / "lab-site.toml").read_text()
    db = tmp_path / "cli.db"
    text = text.replace('url = "sqlite+aiosqlite:///hotline-lab.db"', f'url = "sqlite+aiosqlite:///{db}"')
    assert str(db) in text
    f = tmp_path / "site.toml"
    f.write_text(text)
    now = time.time()
    campaigns = [
        Campaign("spring", ends=now - 40 * DAY, retention_days=30),  # ended and past retention
        Campaign("summer", ends=None, retention_days=30),  # open
        Campaign("autumn", ends=now - 10 * DAY, retention_days=30),  # ended, still within retention
    ]
    monkeypatch.setattr(cli.sitefile, "load", lambda arg: SiteWithCampaigns(load_site(f), campaigns))
    return f


def test_cli_import_exit_codes_and_report(site, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text("phone,name\n13800138000,A\n13800138001,B\n")
    assert cli.main(["leads", "import", "summer", str(good), "--site", str(site)]) == 0
    assert capsys.readouterr().out == "imported 2, already present 0, bad 0\n"

    mixed = tmp_path / "mixed.csv"
    mixed.write_text("phone,name\n13800138001,B\n1380013,C\n13900139000,D\n,E\n")
    assert cli.main(["leads", "import", "summer", str(mixed), "--site", str(site)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "imported 1, already present 1, bad 2",
        f"{mixed}:3: bad phone: too short for a Chinese mobile (7 digits, need 11): '1380013'",
        f"{mixed}:5: empty phone: ''",
    ]

    assert cli.main(["leads", "import", "winter", str(good), "--site", str(site)]) == 2
    assert "unknown campaign 'winter' (the site file has: spring, summer, autumn)" in capsys.readouterr().err
    assert cli.main(["leads", "import", "summer", str(tmp_path / "nope.csv"), "--site", str(site)]) == 2
    assert "nope.csv: file not found" in capsys.readouterr().err
    bad_header = tmp_path / "header.csv"
    bad_header.write_text("tel\n13800138000\n")
    assert cli.main(["leads", "import", "summer", str(bad_header), "--site", str(site)]) == 2
    assert "header.csv:1: no 'phone' column" in capsys.readouterr().err
    assert cli.main(["leads", "import", "spring", str(good), "--site", str(site)]) == 2
    assert "campaign 'spring' has ended: not importing" in capsys.readouterr().err

    assert cli.main(["leads", "status", "summer", "--json", "--site", str(site)]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st == {"summer": {"status": {"new": 3}, "outcome": {}, "attempts": 0, "purged": 0}}


def test_cli_dnc(site, tmp_path, capsys):
    f = tmp_path / "dnc.csv"
    f.write_text("phone,note\n13800138000,complained\nnope,x\n")
    assert cli.main(["leads", "dnc", str(f), "--site", str(site)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "added 1, already present 0, bad 1",
        f"{f}:3: bad phone: letters in number: 'nope'",
    ]
    ok = tmp_path / "ok.csv"
    ok.write_text("phone\n13800138000\n13800138009\n")
    assert cli.main(["leads", "dnc", str(ok), "--campaign", "summer", "--site", str(site)]) == 0
    assert capsys.readouterr().out == "added 2, already present 0, bad 0\n"
    assert cli.main(["leads", "dnc", str(ok), "--campaign", "winter", "--site", str(site)]) == 2


def test_cli_purge_only_past_end_plus_retention(site, tmp_path, capsys):
    f = tmp_path / "l.csv"
    f.write_text("phone,name\n13800138000,A\n13800138001,B\n")
    url = load_site(site)["store"]["url"]
    migrate(url)

    async def put() -> None:  # the leads went in while the campaigns were running
        s = Store(url)
        for name in ("spring", "summer", "autumn"):
            await LeadStore(s.engine).import_leads(name, parse_lead_file(f)[0], time.time() - 60 * DAY)
        await s.close()

    asyncio.run(put())

    assert cli.main(["leads", "purge", "--campaign", "autumn", "--site", str(site)]) == 2
    err = capsys.readouterr().err
    assert "campaign 'autumn' has not ended plus 30 day(s) of retention" in err and "nothing purged" in err
    assert cli.main(["leads", "purge", "--campaign", "summer", "--site", str(site)]) == 2
    assert "it never ends" in capsys.readouterr().err
    assert cli.main(["leads", "purge", "--now", "not a date", "--site", str(site)]) == 2
    capsys.readouterr()

    assert cli.main(["leads", "purge", "--site", str(site)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("spring: ended ") and out[0].endswith("personal data of 2 lead(s) purged")
    assert out[1] == "summer: never ends: kept"
    assert out[2].startswith("autumn: kept until ")

    # 25 days on, autumn is past its end plus retention too
    later = datetime.fromtimestamp(time.time() + 25 * DAY, UTC).isoformat()
    assert cli.main(["leads", "purge", "--campaign", "autumn", "--now", later, "--site", str(site)]) == 0
    assert capsys.readouterr().out.endswith("personal data of 2 lead(s) purged\n")

    assert cli.main(["leads", "status", "--site", str(site)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "autumn: new 2, dialing 0, retry 0, done 0, dnc 0; attempts 0; personal data purged for 2",
        "spring: new 2, dialing 0, retry 0, done 0, dnc 0; attempts 0; personal data purged for 2",
        "summer: new 2, dialing 0, retry 0, done 0, dnc 0; attempts 0; personal data purged for 0",
    ]


def test_bad_row_format_quotes_the_raw_value():
    assert BadRow(3, "bad phone: letters in number", "138 abc").format("f.csv") == (
        "f.csv:3: bad phone: letters in number: '138 abc'"
    )
