"""CLI: ``faxcore vm`` (voicemail messages and greetings, V1-V6)."""

from __future__ import annotations

from pathlib import Path

import click

from faxcore.cli.common import (
    emit,
    handles_errors,
    json_option,
    migrated_database,
    run_async,
    state,
)
from faxcore.config import FaxcoreConfig
from faxcore.domain import VoicemailFolder
from faxcore.voicemail.greetings import BASE_KINDS, OVERRIDE_KINDS, RECORDED_KINDS
from faxcore.voicemail.menu import Envelope
from faxcore.voicemail.store import MailboxOptions, MessageView, VoicemailStore


@click.group("vm")
def vm_group() -> None:
    """The answering machine: messages and greetings."""


def _text(m: MessageView) -> str:
    flags = "".join(("U" if m.urgent else "-", "P" if m.private else "-"))
    return (f"{m.id:>6}  {m.received_at:%Y-%m-%d %H:%M:%S}  {m.folder.value:<7} {flags}  "
            f"{m.caller or 'anonymous':<16} {m.duration_s:6.1f}s")


async def _list(config: FaxcoreConfig, line: str, folder: str | None) -> list[MessageView]:
    async with migrated_database(config) as db:
        return await VoicemailStore(db, config).list(
            line, VoicemailFolder(folder) if folder else None)


@vm_group.command("list")
@click.option("--line", required=True, help="The line (E.164).")
@click.option("--folder", type=click.Choice([f.value for f in VoicemailFolder]), default=None,
              help="Only this folder (default: all).")
@json_option
@click.pass_context
@handles_errors
def list_command(ctx: click.Context, line: str, folder: str | None, as_json: bool) -> None:
    """A line's messages, urgent first, then oldest first."""
    messages = run_async(_list(state(ctx).config, line, folder))
    text = "\n".join(_text(m) for m in messages) if messages else "no messages"
    emit({"messages": messages}, text, as_json)


async def _export(config: FaxcoreConfig, message_id: int, out: Path) -> MessageView:
    async with migrated_database(config) as db:
        return await VoicemailStore(db, config).export(message_id, out)


@vm_group.command("get")
@click.argument("message_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the message's WAV audio.")
@json_option
@click.pass_context
@handles_errors
def get_command(ctx: click.Context, message_id: int, out: Path, as_json: bool) -> None:
    """Write a message's audio to a file."""
    message = run_async(_export(state(ctx).config, message_id, out))
    emit({"message": message, "out": str(out)}, f"message {message.id} written to {out}",
         as_json)


async def _change(config: FaxcoreConfig, action: str, message_id: int) -> MessageView | int:
    async with migrated_database(config) as db:
        store = VoicemailStore(db, config)
        if action == "purge":
            return await store.purge([message_id])
        return await (store.delete if action == "delete" else store.restore)(message_id)


def _folder_command(action: str, doc: str) -> click.Command:
    @click.argument("message_id", type=int)
    @json_option
    @click.pass_context
    @handles_errors
    def command(ctx: click.Context, message_id: int, as_json: bool) -> None:
        result = run_async(_change(state(ctx).config, action, message_id))
        text = f"message {message_id} purged" if action == "purge" else _text(
            result) if isinstance(result, MessageView) else str(result)
        emit({"action": action, "message_id": message_id,
              "message": result if isinstance(result, MessageView) else None}, text, as_json)

    command.__doc__ = doc
    return click.command(action)(command)


for _action, _doc in (("delete", "Move a message to the Deleted folder."),
                      ("restore", "Bring a deleted message back (as heard)."),
                      ("purge", "Delete a message for good (row and audio).")):
    vm_group.add_command(_folder_command(_action, _doc))


@vm_group.group("greeting")
def greeting_group() -> None:
    """Greetings callers hear before the beep."""


async def _set_greeting(config: FaxcoreConfig, line: str, kind: str, source: Path) -> Path:
    async with migrated_database(config) as db:
        return await VoicemailStore(db, config).set_greeting(line, kind, source)


@greeting_group.command("set")
@click.option("--line", required=True, help="The line (E.164).")
@click.option("--kind", required=True, type=click.Choice(RECORDED_KINDS))
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_context
@handles_errors
def greeting_set(ctx: click.Context, line: str, kind: str, source: Path, as_json: bool) -> None:
    """Upload a recorded greeting (any audio sox reads)."""
    stored = run_async(_set_greeting(state(ctx).config, line, kind, source))
    emit({"line": line, "kind": kind, "path": str(stored)}, f"{kind} greeting stored", as_json)


async def _use_greeting(config: FaxcoreConfig, line: str, kind: str) -> None:
    async with migrated_database(config) as db:
        await VoicemailStore(db, config).use_greeting(line, kind)


@greeting_group.command("use")
@click.option("--line", required=True, help="The line (E.164).")
@click.argument("kind", type=click.Choice((*BASE_KINDS, *OVERRIDE_KINDS, "none")))
@json_option
@click.pass_context
@handles_errors
def greeting_use(ctx: click.Context, line: str, kind: str, as_json: bool) -> None:
    """Choose the greeting; busy/unavailable/temporary override it, ``none`` ends that."""
    run_async(_use_greeting(state(ctx).config, line, kind))
    emit({"line": line, "greeting": kind}, f"{line}: greeting {kind}", as_json)


async def _options(config: FaxcoreConfig, line: str, skip_pin: bool | None,
                   autoplay: bool | None, envelope: str | None) -> MailboxOptions:
    async with migrated_database(config) as db:
        return await VoicemailStore(db, config).set_options(
            line, skip_pin=skip_pin, autoplay=autoplay, envelope=envelope)


@vm_group.command("options")
@click.option("--line", required=True, help="The line (E.164).")
@click.option("--skip-pin/--ask-pin", default=None,
              help="From the line's own phone, open the mailbox without a PIN.")
@click.option("--autoplay/--no-autoplay", default=None,
              help="Play the first message right after the counts.")
@click.option("--envelope", type=click.Choice([e.value for e in Envelope]), default=None,
              help="Before a message: caller and time (both), them only, or the message only.")
@json_option
@click.pass_context
@handles_errors
def options_command(ctx: click.Context, line: str, skip_pin: bool | None,
                    autoplay: bool | None, envelope: str | None, as_json: bool) -> None:
    """Show, or change, how dial-in retrieval behaves for a mailbox."""
    options = run_async(_options(state(ctx).config, line, skip_pin, autoplay, envelope))
    data = {"line": options.line, "skip_pin": options.skip_pin, "autoplay": options.autoplay,
            "envelope": options.envelope.value}
    text = (f"{options.line}: PIN {'not asked from the line' if options.skip_pin else 'asked'}, "
            f"autoplay {'on' if options.autoplay else 'off'}, envelope {options.envelope.value}")
    emit(data, text, as_json)


commands: list[click.Command] = [vm_group]
