"""`inovda`: one entry point, one subcommand per operator task."""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from inovda_shared.deadletters import DeadLetter, list_dead_letters, replay_dead_letters

from .publish import publish_path

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inovda", description="Operate Inovda from the command line.")
    parser.add_argument("--amqp-url", default=os.environ.get("AMQP_URL", DEFAULT_AMQP_URL))
    commands = parser.add_subparsers(dest="command", required=True)

    publish = commands.add_parser("publish", help="publish intake messages as an outside system would")
    publish.add_argument(
        "path", help="a JSON-lines file or a folder of them; each line {routing_key, body[, message_id]}"
    )

    dlq = commands.add_parser("dlq", help="dead-lettered messages")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_commands.add_parser("list", help="show dead letters with their reasons (removes nothing)")
    dlq_list.add_argument("--queue", help="a service queue, e.g. submission.intake (default: all)")
    dlq_list.add_argument("--limit", type=int, default=100)
    dlq_replay = dlq_commands.add_parser("replay", help="send dead letters back to the queue they died in")
    dlq_replay.add_argument("--queue", help="a service queue (default: all)")
    dlq_replay.add_argument("--message-id", help="replay only this message")
    return parser


def _print_letters(letters: Sequence[DeadLetter], verb: str) -> None:
    for letter in letters:
        print(f"{letter.queue}  {letter.message_id or '-'}  {letter.routing_key}  attempts={letter.attempts}")
        print(f"    died at {letter.died_at or '?'}: {letter.reason}")
        print(f"    {letter.preview()}")
    print(f"{len(letters)} dead letter(s) {verb}")


async def _run(args: argparse.Namespace) -> int:
    if args.command == "publish":
        answered = await publish_path(args.amqp_url, args.path)
        print(f"published {answered} message(s)")
    elif args.dlq_command == "list":
        _print_letters(await list_dead_letters(args.amqp_url, args.queue, args.limit), "found")
    else:
        _print_letters(await replay_dead_letters(args.amqp_url, args.queue, args.message_id), "replayed")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        sys.exit(asyncio.run(_run(args)))
    except ValueError as exc:
        print(f"inovda: {exc}", file=sys.stderr)
        sys.exit(2)
