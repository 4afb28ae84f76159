"""What an action of the session came to, as the screen shows it: a kind and a short text.

An action returns ``None`` when it simply happened (a focus move, a relabel: the screen shows the
result), else an ``Outcome``. The screen styles it by its kind, never by what its text begins with.
An Outcome is its text (a ``str``), so it prints, compares and logs as the message it is.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    DONE = "done"  # it happened, and the text says what ("note saved", "undo: 'Minsk' ORG → GPE")
    REFUSED = "refused"  # nothing changed, and the text says why ("spans may not overlap")
    WAITING = "waiting"  # not yet: what it needs is still on its way ("tokens are not ready yet")
    FAILED = "failed"  # something went wrong outside the annotator's hands (another process's saves unreadable)
    NOT_SAVED = "not saved"  # the change is on screen but did not reach the disk
    READ_ONLY = "read-only"  # the database is open for looking only


class Outcome(str):
    kind: Kind

    def __new__(cls, text: str, kind: Kind = Kind.DONE) -> Outcome:
        outcome = super().__new__(cls, text)
        outcome.kind = kind
        return outcome

    @property
    def text(self) -> str:
        return str.__str__(self)

    @property
    def is_error(self) -> bool:
        """Shown as an error: the change did not happen where the annotator expects it to (the disk)."""
        return self.kind in (Kind.FAILED, Kind.NOT_SAVED, Kind.READ_ONLY)

    def __repr__(self) -> str:
        return f"Outcome({str(self)!r}, {self.kind.name})"


def done(text: str) -> Outcome:
    return Outcome(text, Kind.DONE)


def refused(text: str) -> Outcome:
    return Outcome(text, Kind.REFUSED)


def waiting(text: str) -> Outcome:
    return Outcome(text, Kind.WAITING)


def failed(text: str) -> Outcome:
    return Outcome(text, Kind.FAILED)


def not_saved(text: str) -> Outcome:
    return Outcome(f"NOT SAVED: {text}", Kind.NOT_SAVED)


READ_ONLY = Outcome("read-only: this database is open for reviewing, nothing can be changed", Kind.READ_ONLY)
