"""Errors a user can act on. Each message is one sentence naming the file, option or key at fault."""

from __future__ import annotations


class GoldspanError(Exception):
    """A problem to report in one line, with exit status ``exit_code``, never as a traceback."""

    exit_code = 2


class InputError(GoldspanError):
    """An article file, option value or pattern file that goldspan cannot use."""


class ModelError(GoldspanError):
    """A spaCy pipeline that cannot be found or loaded."""


class StoreError(GoldspanError):
    """A database file that is missing, damaged, foreign or from a newer goldspan."""


class StoreWriteError(StoreError):
    """A save that did not reach the disk; the file on disk is as it was before the save."""


class ReadOnlyStoreError(StoreError):
    """A save attempted on a database opened for reading only."""
