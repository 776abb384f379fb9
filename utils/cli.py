"""The argument parser of every stitchpose command: exact option names, suggestions for typos, defaults shown once.

- Abbreviations are refused (`--epoch 2` is an error, not `--epochs 2`), and an unknown option names the closest
  known one (difflib), as an unknown script name does.
- Each option's default is shown once: appended as "(default: X)" unless the help text already says what the
  default is, and never for None or a switch that is off.
- `one_line_errors(prog)`: a `python -m` command's main shows the user's errors (InputError, OSError) as one line
  `PROG: error: ...` and returns 1, as the entry points do.
- `given_options(parser, argv)`: the options written on the command line (not defaulted), so that a script can
  refuse an option that a checkpoint overrides instead of ignoring it.
"""
from __future__ import annotations

import argparse
import difflib
import functools
import sys
from typing import Callable, Sequence

from utils.errors import InputError


class DefaultsOnceFormatter(argparse.HelpFormatter):
    """Help with each default shown once (see the module docstring)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        nothing = default is None or default is False or default is argparse.SUPPRESS
        shown = "default" in text.lower() or nothing or not action.option_strings
        if shown or isinstance(action, argparse._StoreTrueAction):
            return text
        value = (" ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)).replace("%", "%%")
        return f"{text} (default: {value})" if text else f"(default: {value})"


class Parser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` without abbreviations, whose unknown options suggest the closest known one."""

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_abbrev=False, formatter_class=DefaultsOnceFormatter, **kwargs)

    def parse_args(self, args: Sequence[str] | None = None, namespace=None) -> argparse.Namespace:
        known, tokens = set(self.option_names()), list(sys.argv[1:] if args is None else args)
        misspelt = [token for token in tokens if token.startswith("--") and token != "--"
                    and token.split("=", 1)[0] not in known]
        if misspelt:  # before argparse's own checks, which would only say that a required option is missing
            self.error(self.unknown_message(misspelt))
        opts, unknown = self.parse_known_args(tokens, namespace)
        if unknown:
            self.error(self.unknown_message(unknown))
        return opts

    def option_names(self) -> list[str]:
        return [name for action in self._actions for name in action.option_strings if name.startswith("--")]

    def unknown_message(self, unknown: list[str]) -> str:
        options = [token.split("=", 1)[0] for token in unknown if token.startswith("-")]
        if not options:
            return f"unrecognized arguments: {' '.join(unknown)}"
        hints = []
        for option in options:
            close = difflib.get_close_matches(option, self.option_names(), n=1, cutoff=0.6)
            hints.append(f"'{option}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        return f"unrecognized option{'s' if len(hints) > 1 else ''} {', '.join(hints)}; see --help"


def given_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> frozenset[str]:
    """The `dest` names of the options written in `argv` (`--name value` and `--name=value`)."""
    by_name = {name: action.dest for action in parser._actions for name in action.option_strings}
    return frozenset(by_name[token.split("=", 1)[0]] for token in argv
                     if token.startswith("--") and token.split("=", 1)[0] in by_name)


def one_line_errors(prog: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Decorate a `python -m` command's `main(argv) -> status`: bad input or a failed write (InputError, OSError)
    ends it with one line `PROG: error: ...` on stderr and status 1, never a traceback."""
    def decorate(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def guarded(*args, **kwargs) -> int:
            try:
                return main(*args, **kwargs)
            except (InputError, OSError) as error:
                print(f"{prog}: error: {error}", file=sys.stderr)
                return 1
        return guarded
    return decorate
