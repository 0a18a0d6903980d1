"""Exception classes of the backup engine.

The Django layer translates these by class, so each class names one situation an operator
can act on, and each message is plain English without key material or passwords.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class KeyringError(EngineError):
    """The master-key configuration (string or key file) is malformed."""


class ContainerError(EngineError):
    """The backup file cannot be read: base class of the container errors."""


class BadFormatError(ContainerError):
    """The file is not a backup of this kind, or uses a format version we do not know."""


class UnknownKeyError(ContainerError):
    """The file names a master key id that the keyring does not hold."""


class WrongKeyError(ContainerError):
    """The keyring holds a key under the file's key id, but it is not the key used."""


class TamperedError(ContainerError):
    """Some byte of the file changed, or frames were reordered, duplicated or appended."""


class TruncatedError(ContainerError):
    """The file ends before its final (manifest) frame: an incomplete copy or a cut file."""


class PayloadError(ContainerError):
    """The file is authentic but its contents are inconsistent (a writer bug, not an attack)."""


class BackupError(EngineError):
    """The backup could not be written (no file was left under the final name)."""


class SourceError(BackupError):
    """The database or directory to back up cannot be read as asked."""


class SourceUnreachableError(SourceError):
    """The source database cannot be connected to."""


class RestoreError(EngineError):
    """The restore failed; the target was rolled back and is as it was before."""


class TargetUnreachableError(RestoreError):
    """The target database cannot be connected to (nothing was changed)."""


class ChecksumMismatchError(RestoreError):
    """The restored rows differ from the backup (count or checksum); rolled back."""


class ForeignKeyError(RestoreError):
    """Restored rows reference rows the target does not hold (another scope's table)."""

    def __init__(self, message: str, *, table: str = "", references: str = "") -> None:
        super().__init__(message)
        self.table = table
        self.references = references


class CheckError(EngineError):
    """A verification check was refused (not one SELECT), failed, wrote, or timed out.

    ``code`` is one of: empty, several, not_select, shape, timeout, writes, failed.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
