"""Numbers read in a region: a US campaign's leads and do-not-call lists, the site file's `region` keys, lead
time zones from the number's plan, and call backs to the hotline's callers in E.164 (virtual PBX, virtual
time). China's own rules are in tests/test_leads.py."""

import asyncio
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from dialer.lead_file import parse_lead_text
from dialer.leads import LeadStore
from dialer.phone import PhoneError, callback_number, parse_phone, time_zone
from engine import cli
from engine.config import ConfigError, load_site
from engine.store.store import Store, migrate
from engine.store.tables import dnc
from sim.day import simulate
from sim.pbx.model import CalleeBehavior, CallerScript
from tests.test_waiting import T0, _phones, _site

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_700_000_000.0


# ---- numbers -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, e164",
    [
        ("+1 212 555 0123", "+12125550123"),
        ("+1 (212) 555-0123", "+12125550123"),
        ("(212) 555-0123", "+12125550123"),
        ("212-555-0123", "+12125550123"),
        ("1 (212) 555-0123", "+12125550123"),  # the long-distance 1 people dial before the area code
        ("２１２ ５５５ ０１２３", "+12125550123"),
        ("011 44 20 7946 0958", "+442079460958"),  # 011: the international prefix dialled from the US
        ("+86 138 0013 8000", "+8613800138000"),
    ],
)
def test_a_us_region_reads_us_numbers(raw, e164):
    assert parse_phone(raw, "US").e164 == e164
    assert parse_phone(e164, "US").e164 == e164, "an E.164 number comes back unchanged"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("(212) 555-012", "too short for a US number (9 digits, need 10)"),
        ("(212) 555-01234", "too long for a US number (11 digits, need 10)"),
        ("555-0123", "local number without area code (7 digits, need 10)"),
        ("(555) 123-4567", "not a valid US number"),
        ("800-555-0123", "a toll-free number, not a mobile or fixed line"),
        ("13800138000", "not a valid US number"),  # a Chinese mobile without +86 is not a US number
        ("212-555-O123", "letters in number"),
        ("011", "too short: no number after the international prefix"),
    ],
)
def test_a_us_region_refuses_what_is_not_a_us_number_and_says_why(raw, reason):
    with pytest.raises(PhoneError) as exc:
        parse_phone(raw, "US")
    assert reason in exc.value.reason


def test_china_stays_the_default_region():
    for raw in ("13800138000", "010-12345678", "+1 (555) 123-4567", "0044 20 7946 0958"):
        assert parse_phone(raw) == parse_phone(raw, "CN")
    with pytest.raises(PhoneError, match="not a Chinese mobile"):
        parse_phone("(212) 555-0123")


def test_a_lead_without_tz_lives_where_its_number_is():
    assert time_zone("+12125550123") == "America/New_York"
    assert time_zone("+13105550123") == "America/Los_Angeles"
    assert time_zone("+8613800138000") == "Asia/Shanghai"
    assert time_zone("+79161234567") == "", "a number spread over several zones: the site's zone applies"


def test_callers_are_called_back_in_e164_when_their_number_is_one_of_the_region():
    assert callback_number("2125550123", "US") == "+12125550123"
    assert callback_number("+12125550123", "US") == "+12125550123"
    assert callback_number("13900000002", "CN") == "+8613900000002"
    for withheld in ("anonymous", "", "12345", "2125550123x"):
        assert callback_number(withheld, "US") is None
    assert callback_number("12345", "CN") is None, "too short to be anyone's phone"


# ---- lead files and `hotline leads` --------------------------------------------------------------------------
def test_a_us_lead_file_normalises_and_names_bad_rows_by_line():
    text = "phone,name\n+1 212 555 0123,A\n(212) 555-0124,B\n(212) 555-012,C\n212 555 0123,D\n13800138000,E\n"
    good, bad = parse_lead_text(text, "us.csv", "US")
    assert [(g.line, g.phone) for g in good] == [(2, "+12125550123"), (3, "+12125550124")]
    assert [b.format("us.csv") for b in bad] == [
        "us.csv:4: bad phone: too short for a US number (9 digits, need 10): '(212) 555-012'",
        "us.csv:5: duplicate phone, first on line 2: '212 555 0123'",
        "us.csv:6: bad phone: not a valid US number (unknown area code or prefix): '13800138000'",
    ]


def _site_file(tmp_path: Path, campaigns: str, hotline: str = "") -> Path:
    text = (ROOT / "examples" / "lab-site.toml").read_text()
    db = tmp_path / "cli.db"
    text = text.replace('url = "sqlite+aiosqlite:///hotline-lab.db"', f'url = "sqlite+aiosqlite:///{db}"')
    text = text.replace("ring_timeout = 15\n", f"ring_timeout = 15\n{hotline}")
    f = tmp_path / "site.toml"
    f.write_text(text + campaigns)
    return f


US_CAMPAIGN = '\n[[campaigns]]\nname = "usa"\nagents = ["1002"]\nregion = "US"\n'


def test_cli_imports_a_us_campaigns_leads_and_honours_its_dnc_across_formats(tmp_path, capsys):
    site = _site_file(tmp_path, US_CAMPAIGN)
    leads_csv = tmp_path / "leads.csv"
    leads_csv.write_text("phone,name\n+1 212 555 0123,A\n(212) 555-0124,B\n(212) 555-0125,C\n(212) 555-012,D\n")
    assert cli.main(["leads", "import", "usa", str(leads_csv), "--site", str(site)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "imported 3, already present 0, bad 1",
        f"{leads_csv}:5: bad phone: too short for a US number (9 digits, need 10): '(212) 555-012'",
    ]
    # the campaign's list in the campaign's region; the global list takes '+' numbers (and China's)
    own = tmp_path / "own.csv"
    own.write_text("phone\n212.555.0124\n1-212-555-0124\n")
    assert cli.main(["leads", "dnc", str(own), "--campaign", "usa", "--site", str(site)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "added 1, already present 0, bad 1",
        f"{own}:2: bad phone: unexpected character '.' in number: '212.555.0124'",
    ]
    glob = tmp_path / "global.csv"
    glob.write_text("phone\n+1 (212) 555-0125\n(212) 555-0123\n")
    assert cli.main(["leads", "dnc", str(glob), "--site", str(site)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "added 1, already present 0, bad 1",
        f"{glob}:3: bad phone: not a Chinese mobile, fixed-line or E.164 number: '(212) 555-0123'",
    ]

    async def check() -> tuple[list, list]:
        url = load_site(site)["store"]["url"]
        await asyncio.to_thread(migrate, url)
        store = Store(url)
        try:
            got = await LeadStore(store.engine).claim("usa", None, 10, NOW)
            async with store.engine.connect() as conn:
                listed = sorted((await conn.execute(select(dnc.c.campaign, dnc.c.phone))).all())
        finally:
            await store.close()
        return got, listed

    got, listed = asyncio.run(check())
    assert listed == [("", "+12125550125"), ("usa", "+12125550124")]
    assert [(x.phone, x.tz) for x in got] == [("+12125550123", "America/New_York")], "listed numbers never dialed"


def test_cli_import_of_a_chinese_campaign_still_refuses_us_national_numbers(tmp_path, capsys):
    site = _site_file(tmp_path, '\n[[campaigns]]\nname = "cn"\nagents = ["1002"]\n')
    f = tmp_path / "leads.csv"
    f.write_text("phone\n13800138000\n(212) 555-0123\n")
    assert cli.main(["leads", "import", "cn", str(f), "--site", str(site)]) == 1
    assert capsys.readouterr().out.splitlines()[1] == (
        f"{f}:3: bad phone: not a Chinese mobile, fixed-line or E.164 number: '(212) 555-0123'"
    )


# ---- the site file -----------------------------------------------------------------------------------------
def test_region_keys_are_checked_with_file_and_line(tmp_path, capsys):
    site = load_site(_site_file(tmp_path, US_CAMPAIGN))
    assert site.campaigns[0].region == "US" and site["hotline"]["region"] == "CN"
    bad = _site_file(tmp_path, US_CAMPAIGN.replace('"US"', '"XX"'), hotline='region = "us"\n')
    with pytest.raises(ConfigError) as exc:
        load_site(bad)
    lines = bad.read_text().splitlines()
    hot = next(i for i, x in enumerate(lines, 1) if x == 'region = "us"')
    camp = next(i for i, x in enumerate(lines, 1) if x == 'region = "XX"')
    assert exc.value.problems == [
        f"{bad}:{hot}: hotline.region: unknown country code 'us' (did you mean 'US'?): an ISO 3166 code such as "
        "CN, US, GB",
        f"{bad}:{camp}: campaigns[0].region: unknown country code 'XX': an ISO 3166 code such as CN, US, GB",
    ]
    with pytest.raises(SystemExit) as code:  # a command given that site file: one line per problem, exit 2
        cli.main(["leads", "status", "--site", str(bad)])
    assert code.value.code == 2
    assert capsys.readouterr().err.splitlines() == exc.value.problems


# ---- call backs on the virtual PBX ---------------------------------------------------------------------------
def test_us_callers_are_called_back_in_e164_from_the_wait_and_from_the_menu():
    dialed: list[str] = []

    def carrier(number: str) -> CalleeBehavior:
        dialed.append(number)
        return CalleeBehavior("answer", 2.0, talk=20.0)

    with tempfile.TemporaryDirectory() as tmp:
        site = _site(Path(tmp), "{ after = 15, offer_callback = true }", extra='region = "US"\n')

        def hook(eng):  # type: ignore[no-untyped-def]
            async def menu() -> None:  # what the IVR's call-back node hands over: the digits the caller typed
                await eng.clock.sleep(30.0)
                await eng.features["acd"].menu_callback("menu-cb-1", "", "2125550177", "hotline")
                await eng.features["acd"].menu_callback("menu-cb-2", "", "5550177", "hotline")  # no area code

            eng.spawn(menu(), "menu")

        callers = [
            (0.0, CallerScript(caller="+12125550101", digits=[(1.5, "2")], talk=120.0)),  # A: talks to 1001
            # B's carrier sends its number in E.164; B presses 1 at the offer and hangs up
            (5.0, CallerScript(caller="+12125550102", digits=[(1.5, "2"), (17.5, "1")], talk=30.0)),
        ]
        sim = asyncio.run(simulate(site, [(T0 + at, s) for at, s in callers], T0, 400.0, seed=1, carrier=carrier,
                                   phones=_phones, on_engine=hook))  # fmt: skip
    rows = {r["caller"]: r for r in sim.rows}
    assert rows["+12125550102"]["outcome"] == "callback"
    asked = {f.call_id: f.data["number"] for f in sim.facts if f.kind == "acd.callback"}
    assert asked == {rows["+12125550102"]["call_id"]: "+12125550102", "menu-cb-1": "+12125550177"}
    done = [f.data["outcome"] for f in sim.facts if f.kind == "acd.callback_done"]
    assert done == ["connected", "connected"]
    assert dialed == ["+12125550102", "+12125550177"], "dialed back in E.164, in their turn"
