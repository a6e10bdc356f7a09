"""`inovda`: one entry point, one subcommand per operator task."""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from inovda_portal.domain.access import ROLES

from .broker_access import render_file
from .deadletters import DeadLetter, list_dead_letters, replay_dead_letters, request_email_resends
from .demo import run_demo
from .ownership import describe as describe_transfer
from .ownership import transfer
from .portal_users import describe, portal_accounts, portal_database, read_password
from .publish import publish_path
from .report import broker_status, region_report
from .scoring import (
    as_json,
    parse_changes,
    render_index,
    render_path,
    render_what_if,
    scoring_library,
    standing_as_json,
)

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_MONGODB_URL = "mongodb://127.0.0.1:27017/"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inovda", description="Operate Inovda from the command line.")
    parser.add_argument("--amqp-url", default=os.environ.get("AMQP_URL", DEFAULT_AMQP_URL))
    parser.add_argument("--mongodb-url", default=os.environ.get("MONGODB_URL", DEFAULT_MONGODB_URL))
    parser.add_argument(
        "--scoring-database", default=os.environ.get("SCORING_DATABASE", "inovda_scoring"), help="scoring's database"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    publish = commands.add_parser("publish", help="publish intake messages as an outside system would")
    publish.add_argument(
        "path", help="a JSON-lines file or a folder of them; each line {routing_key, body[, message_id]}"
    )

    demo = commands.add_parser("demo", help="run the services on Kukar's demo data and print the report")
    demo.add_argument("--keep-running", action="store_true", help="leave the services running afterwards")

    dlq = commands.add_parser("dlq", help="dead-lettered messages")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_commands.add_parser("list", help="show dead letters with their reasons (removes nothing)")
    dlq_list.add_argument("--queue", help="a service queue, e.g. submission.intake (default: all)")
    dlq_list.add_argument("--limit", type=int, default=100)
    dlq_replay = dlq_commands.add_parser("replay", help="send dead letters back to the queue they died in")
    dlq_replay.add_argument("--queue", help="a service queue (default: all)")
    dlq_replay.add_argument("--message-id", help="replay only this message")

    commands.add_parser("status", help="service queues: messages waiting, consumers, dead letters")
    emails = commands.add_parser("emails", help="emails the notification service sends")
    email_commands = emails.add_subparsers(dest="emails_command", required=True)
    resend = email_commands.add_parser(
        "resend",
        help="send again an email in doubt (notification.sent with confirmed: false) that the mail server's log "
        "does not have, or a failed one; a confirmed one is never sent again",
    )
    resend.add_argument("dedupe_keys", nargs="+", metavar="DEDUPE_KEY")

    units = commands.add_parser("units", help="units and region profiles as the submission service keeps them")
    unit_commands = units.add_subparsers(dest="units_command", required=True)
    move = unit_commands.add_parser(
        "transfer",
        help="move a unit (--unit) or a region's profile for a year (--year) to another source, which may then "
        "change it; published as the operator (AMQP_URL's user must map to the source 'operator')",
    )
    move.add_argument("--region", required=True, help="BPS code, e.g. 64.02")
    which = move.add_mutually_exclusive_group(required=True)
    which.add_argument("--unit", help="the unit's code")
    which.add_argument("--year", type=int, help="the profile's assessment year")
    move.add_argument("--to", required=True, dest="to_source", help="the source that owns it from now on")
    move.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the answer")

    definitions = commands.add_parser(
        "broker-definitions", help="render the broker's topology and least-privilege users for import"
    )
    definitions.add_argument("--access", type=Path, default=Path("deploy/rabbitmq/access.json"))
    definitions.add_argument("--secrets", type=Path, default=Path("var/secrets"))
    definitions.add_argument("--out", type=Path, default=Path("var/rabbitmq/definitions.json"))

    users = commands.add_parser(
        "portal-users",
        help="the portal's accounts (its database: MONGODB_URL, MONGODB_DATABASE, as the portal's own settings)",
    )
    user_commands = users.add_subparsers(dest="users_command", required=True)
    add = user_commands.add_parser("add", help="a new account; the password from standard input or --password-file")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--region", action="append", required=True, help="a region code (BPS), repeatable")
    add.add_argument("--unit", help="the unit's code, for a unit account")
    add.add_argument("--email", help="the account's address; a mentor sees the units whose mentor_emails name it")
    add.add_argument("--password-file", type=Path, help="a file whose first line is the password")
    user_commands.add_parser("list", help="every account with its role, regions and state")
    disable = user_commands.add_parser("disable", help="no more logins; every open session ends")
    disable.add_argument("username")
    reset = user_commands.add_parser(
        "reset-password", help="a new password (standard input or --password-file); every open session ends"
    )
    reset.add_argument("username")
    reset.add_argument("--password-file", type=Path)

    for name, text in (
        ("report", "the region's index, compliance table and path, and a PNG chart"),
        ("index", "the region's index and predicate now"),
        ("path", "the smallest set of actions that reaches the next predicate"),
        ("what-if", "the index if the given changes were made (nothing is stored)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--region", required=True, help="BPS code, e.g. 64.02")
        command.add_argument("--year", type=int, required=True, help="assessment year")
        command.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "path":
            command.add_argument("--max-steps", type=int, default=50)
        if name == "report":
            command.add_argument("--chart", type=Path, default=None, help="write the PNG chart here")
        if name == "what-if":
            command.add_argument(
                "--change",
                action="append",
                required=True,
                help='a JSON change, repeatable: {"change": "set_spd_level", "indicator_id": "6", "level": 3}; '
                '"set_sid_claim" (external_id, indicator_id, level, has_evidence), "make_eligible" (external_id), '
                '"add_innovations" (count, maturity, affairs)',
            )
    return parser


def _print_letters(letters: Sequence[DeadLetter], verb: str) -> None:
    for letter in letters:
        print(f"{letter.queue}  {letter.message_id or '-'}  {letter.routing_key}  attempts={letter.attempts}")
        print(f"    died at {letter.died_at or '?'}: {letter.reason}")
        print(f"    {letter.preview()}")
    print(f"{len(letters)} dead letter(s) {verb}")


async def _scoring(args: argparse.Namespace) -> str:
    async with scoring_library(args.mongodb_url, args.scoring_database) as scoring:
        if args.command == "index":
            standing = await scoring.standing(args.region, args.year)
            return standing_as_json(standing) if args.json else render_index(args.region, args.year, standing)
        if args.command == "path":
            plan = await scoring.path(args.region, args.year, max_steps=args.max_steps)
            verifying = (await scoring.standing(args.region, args.year)).verified is not None
            return as_json(plan) if args.json else render_path(args.region, args.year, plan, verified=verifying)
        changes = parse_changes(args.change)
        before = await scoring.index(args.region, args.year)
        after = await scoring.what_if(args.region, args.year, changes)
        return as_json(after) if args.json else render_what_if(before, after)


async def _portal_users(args: argparse.Namespace) -> str:
    async with portal_accounts(args.mongodb_url, portal_database()) as accounts:
        if args.users_command == "add":
            account = await accounts.add(
                args.username,
                args.role,
                args.region,
                read_password(args.password_file),
                unit_code=args.unit,
                email=args.email,
            )
            return f"akun dibuat: {describe(account)}"
        if args.users_command == "list":
            return "\n".join(describe(account) for account in await accounts.list()) or "belum ada akun"
        if args.users_command == "disable":
            return f"akun dinonaktifkan: {describe(await accounts.disable(args.username))}"
        account = await accounts.reset_password(args.username, read_password(args.password_file))
        return f"kata sandi diganti: {describe(account)}"


async def _run(args: argparse.Namespace) -> int:
    if args.command in ("index", "path", "what-if"):
        print(await _scoring(args))
    elif args.command == "report":
        chart = args.chart or Path(f"var/report-{args.region}-{args.year}.png")
        print(await region_report(args.mongodb_url, args.scoring_database, args.region, args.year, chart))
    elif args.command == "status":
        print(await broker_status(args.amqp_url))
    elif args.command == "broker-definitions":
        print(render_file(args.access, args.secrets, args.out))
    elif args.command == "demo":
        await run_demo(args.amqp_url, args.mongodb_url, keep_running=args.keep_running)
    elif args.command == "publish":
        answered = await publish_path(args.amqp_url, args.path)
        print(f"published {answered} message(s)")
    elif args.command == "portal-users":
        print(await _portal_users(args))
    elif args.command == "units":
        answer = await transfer(
            args.amqp_url, args.region, args.to_source, unit_code=args.unit, year=args.year, wait_seconds=args.wait
        )
        print(describe_transfer(answer, args.to_source))
        return 0 if answer.status == "accepted" else 1
    elif args.command == "emails":
        await request_email_resends(args.amqp_url, args.dedupe_keys)
        print(f"asked for {len(args.dedupe_keys)} email(s) to be sent again")
    elif args.dlq_command == "list":
        _print_letters(await list_dead_letters(args.amqp_url, args.queue, args.limit), "found")
    else:
        _print_letters(await replay_dead_letters(args.amqp_url, args.queue, args.message_id), "replayed")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        sys.exit(asyncio.run(_run(args)))
    except (ValueError, LookupError) as exc:  # also a ValidationError and an unknown rubric year
        print(f"inovda: {exc}", file=sys.stderr)
        sys.exit(2)
