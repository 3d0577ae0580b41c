"""`hotline users`: the people who sign in to the web console: add, list, passwd, disable.

A password is never an argument (it would stay in the shell's history and in the process list): it is typed at
a prompt, read from the first line of standard input, or generated and printed once (--generate). There is no
default user: the first admin is made with `users add NAME --role admin`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import time

from engine.cli import sitefile
from engine.policy import Actor, Role
from engine.users import ROLES, User, new_user_problem, password_problem


def _who() -> Actor:
    """The person at the command line: the ledger names them by their login on this machine."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = str(os.getuid())
    return Actor(name, Role.ADMIN, via="cli")


def read_password(command: str, generate: bool) -> tuple[str, bool]:
    """(password, generated); SystemExit 2 on a bad or mismatched one."""
    from engine.passwords import generate as make

    if generate:
        return make(), True
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            sitefile.fail(f"{command}: password: the two entries differ")
    else:
        first = sys.stdin.readline().rstrip("\r\n")
    why = password_problem(first)
    if why:
        sitefile.fail(f"{command}: {why}")
    return first, False


async def _run(args: argparse.Namespace) -> int:
    from engine.passwords import Passwords
    from engine.store.store import Store, migrate
    from engine.store.users import NoSuchUser, UserExists, UserStore

    site = sitefile.load(args.site)
    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    users = UserStore(store)
    cmd = args.users_command
    try:
        if cmd == "list":
            found = await users.list()
            if args.json:
                print(json.dumps([u.public() for u in found], indent=2))
            else:
                for u in found:
                    what = u.agent or u.team or "-"
                    print(f"{u.name:<20} {u.role:<9} {what:<16} {'disabled' if u.disabled else 'active'}")
            return 0
        if cmd == "add":
            groups = {a.id: a.groups for a in site.agents}
            taken = [u.name for u in await users.list()]
            why = new_user_problem(args.name, args.role, args.agent or "", args.team or "", groups, taken)
            if why:
                sitefile.fail(f"users add: {why}")
            password, made = read_password("users add", args.generate)
            user = User(args.name, args.role, args.agent or "", args.team or "", args.phone or "")
            try:
                await users.add(user, Passwords().hash(password), _who(), time.time())
            except UserExists:  # added by someone else since the check
                sitefile.fail(f"users add: name {args.name!r}: a user of that name exists")
            print(f"user {args.name} added ({args.role})", file=sys.stderr)
        elif cmd == "passwd":
            if await users.get(args.name) is None:
                sitefile.fail(f"users passwd: name {args.name!r}: no such user")
            password, made = read_password("users passwd", args.generate)
            await users.set_password(args.name, Passwords().hash(password), _who(), time.time())
            print(f"user {args.name}: password changed; its open sessions end", file=sys.stderr)
        else:
            try:
                await users.disable(args.name, _who(), time.time())
            except NoSuchUser:
                sitefile.fail(f"users disable: name {args.name!r}: no such user")
            print(f"user {args.name} disabled; its open sessions end at their next request", file=sys.stderr)
            return 0
        if made:
            print(password)  # the only time it is shown: standard output, so it can be piped to where it goes
        return 0
    finally:
        await store.close()


def cmd_users(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


def add_parser(sub: argparse._SubParsersAction) -> None:
    us = sub.add_parser("users", help="people who sign in to the web console: add, list, passwd, disable")
    ussub = us.add_subparsers(dest="users_command", required=True)
    ua = ussub.add_parser("add", help="add a user; the password is prompted for, read from stdin, or --generate")
    ua.add_argument("name", help="sign-in name: a-z, 0-9, '.', '_', '-'")
    ua.add_argument("--role", required=True, metavar="|".join(ROLES), help="what the user may see and do")
    ua.add_argument("--agent", help="the site's agent id (role agent)")
    ua.add_argument("--team", help="the agent group the team lead leads (role teamlead)")
    ua.add_argument("--phone", help="PJSIP endpoint a supervisor listens, whispers and barges on")
    ul = ussub.add_parser("list", help="the users, their roles and whether they are disabled (never passwords)")
    ul.add_argument("--json", action="store_true")
    up = ussub.add_parser("passwd", help="set a user's password; its open sessions end")
    ud = ussub.add_parser("disable", help="disable a user; its open sessions end at their next request")
    for ux in (up, ud):
        ux.add_argument("name")
    for ux in (ua, up):
        ux.add_argument("--generate", action="store_true", help="make a random password and print it once")
    for ux in (ua, ul, up, ud):
        sitefile.add_site_option(ux)
    us.set_defaults(func=cmd_users)
