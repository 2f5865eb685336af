"""One error hierarchy: every failure vidkp reports is a VidkpError."""


class VidkpError(Exception):
    """Base class of all vidkp errors."""


class InputError(VidkpError):
    """An input file is missing, unreadable, corrupt or of an unknown kind."""


class ModelError(VidkpError):
    """Model weights are missing, malformed or do not match their architecture."""


class OutputError(VidkpError):
    """The output location is unusable or holds a run with other parameters."""
