"""``faxcore notify ...`` and the line's mail settings, run as real processes."""

from __future__ import annotations

from tests.cli.test_cli_lines import Cli, cli  # noqa: F401  (the fixture)

LINE = "+33123456789"


def test_notify_add_list_remove_with_kinds(cli: Cli) -> None:  # noqa: F811
    cli.run("line", "add", LINE, "--sip-password", "abcd1234")
    added = cli.json("notify", "add", "--line", LINE, "a@example.com", "--kinds",
                     "fax,voicemail-urgent")
    assert added["address"] == {"line": LINE, "address": "a@example.com",
                                "kinds": ["fax", "voicemail_urgent"]}
    cli.run("notify", "add", "--line", LINE, "b@example.com")
    listed = cli.run("notify", "list", "--line", LINE).stdout.split("\n")
    assert listed[0].split() == ["a@example.com", "fax,voicemail_urgent"]
    assert listed[1].split() == ["b@example.com", "fax,voicemail_urgent,voicemail"]
    cli.run("notify", "remove", "--line", LINE, "a@example.com")
    assert [a["address"] for a in cli.json("notify", "list", "--line", LINE)["addresses"]] == [
        "b@example.com"]


def test_notify_refuses_a_sixth_address_and_bad_input(cli: Cli) -> None:  # noqa: F811
    cli.run("line", "add", LINE, "--sip-password", "abcd1234")
    for n in range(5):
        cli.run("notify", "add", "--line", LINE, f"user{n}@example.com")
    assert cli.error("notify", "add", "--line", LINE, "six@example.com") == (
        f"line {LINE} already notifies 5 addresses; remove one first")
    assert cli.error("notify", "add", "--line", LINE, "user0@example.com", "--kinds", "sms") == (
        "unknown notification kind 'sms'; known: fax, voicemail_urgent, voicemail, all")
    assert cli.error("notify", "remove", "--line", LINE, "nobody@example.com") == (
        f"line {LINE} does not notify nobody@example.com")
    assert cli.error("notify", "list", "--line", "+33999999999") == "no line +33999999999"


def test_line_set_mail_settings_shows_them(cli: Cli) -> None:  # noqa: F811
    cli.run("line", "add", LINE, "--sip-password", "abcd1234")
    cli.run("line", "set", LINE, "mail_format=html", "mail_from=fax@cabinet.fr",
            "mail_from_name=Cabinet Dupont", "audio_format=mp3", "keep_voicemail=no")
    shown = cli.run("line", "show", LINE).stdout
    assert "mail:          html, from Cabinet Dupont <fax@cabinet.fr>" in shown
    assert "voicemail:     mp3, delete original after e-mail" in shown
    assert cli.json("notify", "queue")["notifications"] == []


def test_notifier_without_smtp_says_why(cli: Cli) -> None:  # noqa: F811
    assert cli.error("notifier") == "smtp.url is empty: the notifier has nowhere to send e-mail"
