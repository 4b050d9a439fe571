"""The one exception type ganzoo raises for bad input.

Its message is a single line that names the problem and the fix; the CLI prints it
without a traceback and exits with status 2.
"""

import difflib


class GanzooError(Exception):
    """A user-facing error: bad name, bad value, missing data, bad checkpoint."""


class TrainingDiverged(GanzooError):
    """Training stopped because a loss or the weights became NaN or infinite; the
    message names the step and the last (finite) checkpoint written."""


class RanksAgree(GanzooError):
    """An error every process of a distributed run raises alike (bad input found
    while the run is assembled, on one rank or all); rank 0 reports it."""


class DataUnreadable(GanzooError):
    """Training stopped because a sample could not be read (a streamed file that
    went bad, a reading process that died); the state of the last finished step
    is saved, so the run resumes once the data is fixed."""


def did_you_mean(name: str, choices) -> str:
    """`` (did you mean a, b?)`` for the close matches of ``name``, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message ("" when it has none): how an exception
    from torch or a plugin is quoted inside a one-line :class:`GanzooError`."""
    return (str(exc).strip().splitlines() or [""])[0]
