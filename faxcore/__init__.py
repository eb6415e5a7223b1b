"""faxcore: fax and voicemail service beside Asterisk."""

__version__ = "0.1.0"
