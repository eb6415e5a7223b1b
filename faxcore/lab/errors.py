"""Errors of the lab package (chroot, Asterisk instances, ATA)."""

from faxcore.errors import FaxcoreError


class LabError(FaxcoreError):
    """The lab could not do what was asked."""


class ChrootError(LabError):
    """Building, mounting or unmounting the chroot failed."""


class InstanceError(LabError):
    """An Asterisk instance did not start, answer or stop."""


class LabNotRunning(LabError):
    """The command needs ``faxcore lab up`` first."""


class AtaTimeout(LabError):
    """The ATA did not report an outcome in time."""
