"""Errors about the user's input (files, fields, options) and about writing outputs: shown as one clear message,
not a traceback."""


class InputError(ValueError):
    """Bad input: the message names the file and the field, what was expected and what to do."""


class OutputError(InputError):
    """A file or folder that cannot be written (full disk, no permission, a file where a folder should be): the
    message names the path and the cause. An InputError too, so every entry point shows it as one line."""
