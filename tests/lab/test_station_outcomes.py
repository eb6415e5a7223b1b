# ruff: noqa: E501  (captured Asterisk CLI output, kept byte for byte)
"""Parsing what the ATA's Asterisk reports (captured from the real lab, no Asterisk needed)."""

from __future__ import annotations

from faxcore.lab.stations import fax_pages_sent, outcome_from_vars, parse_fax_session, parse_vars

SESSIONS = """
Current FAX Sessions:

Channel                        Tech       FAXID      Type  Operation  State           File(s)                       
PJSIP/pbx-00000000             Spandsp    0          T.38  receive    Active          /var/lib/faxcore-lab/ata/received/rx-20261123030228-17954029480.tif

1 FAX sessions
"""  # noqa: W291

SESSION = """
FAX Session Details:
--------------------

channel                : PJSIP/pbx-00000000
session                : 0
operation              : Receive
state                  : Active
Last Status            : OK
ECM Mode               : Yes
Data Rate              : 14400
Image Resolution       : 8031x7700
Page Number            : 1
File Name              : /var/lib/faxcore-lab/ata/received/rx-20261123030228-17954029480.tif

Data Statistics:
Tx Pages               : 2
Rx Pages               : 0
"""

RECEIVED = (
    "ANSWERED=1|HANGUPCAUSE=16|DURATION=18|FAXSTATUS=SUCCESS|FAXERROR=|FAXPAGES=1|"
    "FAXBITRATE=14400|FAXMODE=T38|FAXRESOLUTION=8031x7700|REMOTESTATIONID=|"
    "FAXFILE=/var/lib/faxcore-lab/ata/received/rx-1.tif|CALLER=+33972101234|DONE=1|"
)
FAILED = "ANSWERED=0|REASON=0|HANGUPCAUSE=0|DONE=1|"


def test_result_file_is_incomplete_until_done() -> None:
    assert parse_vars("ANSWERED=1|HANGUPCAUSE=16|") is None
    assert parse_vars("") is None


def test_answered_fax_outcome() -> None:
    values = parse_vars(RECEIVED)
    assert values is not None
    outcome = outcome_from_vars("id1", "+33972101234", values)
    assert outcome.answered and outcome.reason == "answered"
    assert (outcome.hangup_cause, outcome.duration) == (16, 18)
    assert outcome.fax_ok
    assert outcome.fax == {
        "FAXSTATUS": "SUCCESS", "FAXPAGES": "1", "FAXBITRATE": "14400", "FAXMODE": "T38",
        "FAXRESOLUTION": "8031x7700", "FAXFILE": "/var/lib/faxcore-lab/ata/received/rx-1.tif",
    }


def test_unanswered_call_has_a_reason_and_no_fake_cause() -> None:
    values = parse_vars(FAILED)
    assert values is not None
    outcome = outcome_from_vars("id2", "+33999999999", values)
    assert not outcome.answered and not outcome.fax_ok
    assert outcome.reason == "failed"
    assert outcome.hangup_cause is None
    busy = outcome_from_vars("id3", "+1", {"ANSWERED": "0", "REASON": "5", "DONE": "1"})
    assert busy.reason == "busy"


def test_fax_session_found_by_file_and_pages_counted() -> None:
    assert parse_fax_session(SESSIONS, "rx-20261123030228-17954029480.tif") == (
        "PJSIP/pbx-00000000", "0")
    assert parse_fax_session(SESSIONS, "other.tif") is None
    assert fax_pages_sent(SESSION) == 2
    assert fax_pages_sent("") == 0
