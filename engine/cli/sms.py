"""`hotline sms send|report`: a campaign's messages through the site's Kannel gateway, and what became of them.

`send` reads the recipients (the campaign's leads, or a lead file), checks each at send time (already sent,
do-not-contact, opted out, the send window in the recipient's time, the template's fields) and sends at the
campaign's rate, showing progress; run again, it sends only what was not sent. The engine must be running: its
HTTP listener takes the gateway's delivery reports and the customers' replies (opt-outs), and `send` checks it
answers before the first message.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import re
import sys
import time
from typing import Any

from engine.cli import sitefile

PROGRESS_EVERY = 2.0  # seconds between progress lines


def parse_rate(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/s)?\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a rate is messages a second, e.g. 20 or 20/s")
    return float(m.group(1))


async def _callbacks_answer(client: Any, rules: Any) -> str | None:
    url = f"{rules.callback_url}/sms/kannel/ping"
    try:
        r = await client.get(url, params={"token": rules.token}, timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means the same to the person running the command
        return f"{url} does not answer ({exc.__class__.__name__}: {exc})"
    return None if r.status_code == 200 else f"{url} answers {r.status_code} {r.text.strip()[:80]}"


async def _send(args: argparse.Namespace, site: Any) -> int:
    import httpx2 as httpx

    from dialer.lead_file import LeadFileError
    from dialer.leads import LeadStore
    from engine.cli.recordings import StoreLedger
    from engine.clock import RealClock
    from engine.store.store import Store, migrate
    from sms import recipients
    from sms.kannel import GatewayRefusesUs, KannelGateway
    from sms.services import Outbox, Tally
    from sms.settings import SmsSettings, SmsSettingsError
    from sms.template import TemplateError, load_template

    if not site["sms"]["gateway"]:
        return sitefile.fail(f"sms send: {site.path}: sms.gateway is not set: no gateway to send through")
    try:
        rules = SmsSettings.of(site["sms"], site.path.parent)
        template = load_template(args.template)
    except (SmsSettingsError, TemplateError) as exc:
        return sitefile.fail(f"sms send: {exc}")
    from sms.facts import CAMPAIGN_NAME

    if not CAMPAIGN_NAME.fullmatch(args.campaign):
        return sitefile.fail(f"sms send: campaign {args.campaign!r}: use 1-60 letters, digits, '_', '.' or '-'")
    # one run of a campaign at a time: two would each read "not sent yet" for the same numbers
    lock = open(site.path.parent / f".hotline-sms-{args.campaign}.lock", "w")  # noqa: SIM115 - held to the end
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return sitefile.fail(f"sms send: another `hotline sms send --campaign {args.campaign}` is running")
    campaign = next((c for c in site.campaigns if c.name == args.campaign), None)
    region = campaign.region if campaign is not None else site["hotline"]["region"]
    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        if args.list == "leads":
            people: Any = recipients.from_leads(store.engine, args.campaign)
            if not await LeadStore(store.engine).counts(args.campaign):
                return sitefile.fail(f"sms send: no leads of campaign {args.campaign!r} in the store: import them "
                                     "(`hotline leads import`) or give a file with --list")  # fmt: skip
        else:
            try:
                people, bad = recipients.from_file(args.list, region)
            except LeadFileError as exc:
                return sitefile.fail(f"sms send: {exc}")
            for b in bad:
                print(f"sms send: skipped {b.format(args.list)}", file=sys.stderr)
            if not people:
                return sitefile.fail(f"sms send: {args.list}: no row with a number to send to")
            lacking = template.fields - set(people[0].fields)
            if lacking:
                return sitefile.fail(f"sms send: {args.template} uses {', '.join(sorted(lacking))}, which "
                                     f"{args.list} has no column for")  # fmt: skip
        leads = LeadStore(store.engine)

        async def blocked(phone: str) -> bool:
            return await leads.is_dnc(phone, args.campaign, region)

        async with httpx.AsyncClient(timeout=10) as client:
            problem = await _callbacks_answer(client, rules)
            if problem:
                return sitefile.fail(f"sms send: the engine's SMS callbacks: {problem}. Start the engine first "
                                     "(`hotline run`): delivery reports and opt-outs would be lost")  # fmt: skip
            gateway = KannelGateway(rules.gateway, rules.username, rules.password, rules.sender, client)
            tz = site["site"]["timezone"]
            box = Outbox(args.campaign, template, rules, ledger=StoreLedger(store), gateway=gateway,
                         blocked=blocked, clock=RealClock(), site_tz=tz, rate=args.rate)  # fmt: skip
            started, shown = time.monotonic(), [0.0]

            def progress(t: Tally) -> None:
                now = time.monotonic()
                if now - shown[0] >= PROGRESS_EVERY:
                    shown[0] = now
                    rate = t.sent / max(now - started, 1e-9)
                    print(f"sms {args.campaign}: {t.total} done: {t.sent} sent, {t.already} sent before, "
                          f"{sum(t.skipped.values())} skipped ({rate:.1f}/s)", file=sys.stderr)  # fmt: skip

            try:
                tally = await box.run(people, progress)
            except GatewayRefusesUs as exc:
                return sitefile.fail(f"sms send: {exc}")
    finally:
        await store.close()
    out = {"campaign": args.campaign, **tally.as_dict(), "seconds": round(time.monotonic() - started, 1)}
    print(json.dumps(out, ensure_ascii=False))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1, ensure_ascii=False)
    if tally.stopped:
        print(f"sms send: stopped: {tally.stopped}", file=sys.stderr)
        return 1
    return 0


async def _report(args: argparse.Namespace, site: Any) -> int:
    from zoneinfo import ZoneInfo

    from engine.store.store import Store, migrate
    from sms.facts import KINDS
    from sms.report import COLUMNS, sms_report

    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        since = time.time() - args.days * 86400 if args.days else None
        rows = sms_report(await store.facts(None, (*KINDS, "sms.opt_out"), since), ZoneInfo(site["site"]["timezone"]),
                          args.campaign or "")  # fmt: skip
    finally:
        await store.close()
    if args.json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    print(f"{'day':<10}  {'campaign':<20} " + " ".join(f"{c:>9}" for c in COLUMNS))
    for r in rows:
        print(f"{r['day']:<10}  {str(r['campaign']):<20} " + " ".join(f"{r[c]:>9}" for c in COLUMNS))
    return 0


def cmd_sms(args: argparse.Namespace) -> int:
    site = sitefile.load(args.site)
    if args.sms_command == "send":
        return asyncio.run(_send(args, site))
    return asyncio.run(_report(args, site))


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("sms", help="bulk SMS through the site's Kannel gateway, and its report")
    ssub = s.add_subparsers(dest="sms_command", required=True)
    se = ssub.add_parser("send", help="send a campaign's messages (run again: only what was not sent)")
    se.add_argument("--campaign", required=True, help="campaign name (a site file campaign's, for its leads)")
    se.add_argument("--template", required=True, help="UTF-8 text file; {field} is a recipient's field")
    se.add_argument("--list", default="leads", help="'leads' (the campaign's, in the store) or a lead CSV file")
    se.add_argument("--rate", type=parse_rate, default=None, help="messages a second, e.g. 20/s [sms.rate]")
    se.add_argument("--json", help="also write the summary to this file")
    sr = ssub.add_parser("report", help="sent, delivered, failed and opted out, per day and campaign")
    sr.add_argument("--campaign", help="only this campaign")
    sr.add_argument("--days", type=float, default=0, help="only the last N days [all]")
    sr.add_argument("--json", action="store_true")
    for x in (se, sr):
        sitefile.add_site_option(x)
    s.set_defaults(func=cmd_sms)
