"""Errors about the user's input (files, fields, options): shown as one clear message, not a traceback."""


class InputError(ValueError):
    """Bad input: the message names the file and the field, what was expected and what to do."""
