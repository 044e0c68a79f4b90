"""Exception types raised by :mod:`geo`; pages turn them into messages."""


class GeoError(Exception):
    """Base class: a problem the user can act on, with a message that says how."""


class DataFileError(GeoError):
    """An embedded or user-given data file is missing, unreadable or malformed."""


class RegistryError(GeoError):
    """A centre registry fails validation; ``problems`` lists each row and its fix."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []
