"""Every exception physml raises on purpose, in one place.

Two families, told apart by class (never by name) where the command line catches them:

* :class:`UserError`: the input is bad (a config key, an option, a dataset, a file). The message is
  one line naming the value and what is allowed; `physml` prints it and exits 2, having written
  nothing.
* :class:`RunFailure`: a run started and could not finish (a non-finite loss, a worker error).
  `physml` prints the cause in one line and exits 1; the MLflow run is marked FAILED.

Each class also derives from the built-in exception that code catching it by kind expects
(``ValueError`` for bad values, ``RuntimeError`` for failures), so ``except ValueError`` keeps working.
This module imports nothing: tasks, kernels and the platform all raise from here.
"""

from __future__ import annotations


class PhysmlError(Exception):
    """Base of every exception physml raises on purpose."""


class UserError(PhysmlError):
    """Bad input: printed as one line, exit status 2, nothing written."""


class ConfigError(UserError, ValueError):
    """A bad config key or value; the message names it and what is allowed."""


class InputError(UserError, ValueError):
    """A bad command-line value (e.g. of `physml simulate`); the message names the option."""


class CliError(UserError):
    """A one-line error of the command line itself (a missing argument, a bad combination)."""


class DatasetError(UserError, RuntimeError):
    """A dataset that cannot be read: missing or corrupt manifest or shard, wrong kind, no rows."""


class CaseError(UserError, ValueError):
    """A raw medical-imaging case (PROMISE12 .mhd/.raw, NIfTI) that cannot be read."""


class CutoutError(UserError, ValueError):
    """A FITS cutout that cannot be read or does not fit its directory's size."""


class RunFailure(PhysmlError, RuntimeError):
    """A run that started and could not finish: exit status 1."""


class TrainingError(RunFailure):
    """Training stopped (non-finite loss, a worker error); the MLflow run is marked FAILED."""


class NonFiniteLoss(TrainingError):
    """The loss became NaN or infinite; the run is stopped rather than producing a bad model."""


EXIT_INPUT = 2  #: exit status of a refused command (a UserError)
EXIT_FAILED = 1  #: exit status of a run that failed (a RunFailure)

__all__ = [
    "PhysmlError",
    "UserError",
    "ConfigError",
    "InputError",
    "CliError",
    "DatasetError",
    "CaseError",
    "CutoutError",
    "RunFailure",
    "TrainingError",
    "NonFiniteLoss",
    "EXIT_INPUT",
    "EXIT_FAILED",
]
