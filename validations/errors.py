"""One base class for every error that is the user's to fix, caught once by the shells.

A `TonghopError` carries a message that says what went wrong and what to do next, a stable
string `code` (shown in JSON output, never reworded) and the exit status of the CLI. Every
module's own error class derives from it (CatalogError, ReadError, PeriodError, WarehouseError,
StoreError, StagingError, RollupError, ApprovalError, SummaryError, ExportError, ...), so the
CLI (tonghop/cli.py) catches it in one place and prints one sentence instead of a traceback.

`code` defaults to the class name in snake case without "Error" (CatalogError -> "catalog",
WarehouseLockedError -> "warehouse_locked"); an instance may carry a finer one (the reader's
ReadError says which: "file_too_large", "hidden_sheet", ...).

Exit status: 2 when the command cannot run (unreadable input, a bad catalog or manifest, the
warehouse missing or locked, a disk error); 1 when it ran and the answer is no (`RefusedError`:
a period already approved, nothing to summarise or export).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from validations.fmt import one_line

EXIT_CANNOT_RUN = 2
EXIT_REFUSED = 1


def _snake(name: str) -> str:
    base = name[: -len("Error")] if name.endswith("Error") and name != "Error" else name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower() or "error"


class TonghopError(Exception):
    """An error the user fixes; str(exc) is one sentence naming the thing and the next step."""

    code: ClassVar[str] = "tonghop"
    exit_code: ClassVar[int] = EXIT_CANNOT_RUN

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = _snake(cls.__name__)

    def message(self, lang: str = "vi") -> str:
        """The sentence in `lang` (most errors have one language: steward configuration)."""
        return str(self)

    def error_code(self) -> str:
        """The stable code of this error (an instance may refine its class's code)."""
        return str(getattr(self, "instance_code", None) or self.code)

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        """The JSON form: status "error", the stable code and the message."""
        return {
            "status": "error",
            "code": self.error_code(),
            "message": one_line(self.message(lang)),
        }


class RefusedError(TonghopError):
    """The command ran and the answer is no (exit 1): already approved, nothing to show."""

    exit_code: ClassVar[int] = EXIT_REFUSED


class OutputError(TonghopError):
    """A file or folder the command was told to write cannot be written."""


def output_error(path: Any, exc: OSError | None = None, what: str = "file") -> OutputError:
    """One sentence for an output path that cannot be written (a folder, no permission, ...)."""
    p = Path(str(path))
    if exc is None or isinstance(exc, IsADirectoryError) or p.is_dir() and what == "file":
        reason = "it is a folder"
    elif isinstance(exc, NotADirectoryError | FileExistsError):
        reason = "a file stands where a folder is needed"
    elif isinstance(exc, PermissionError):
        reason = "permission denied"
    else:
        reason = exc.strerror or str(exc) or type(exc).__name__
    return OutputError(
        one_line(
            f"Cannot write the {what} {p}: {reason}. Choose another path with -o "
            f"({'a file name' if what == 'file' else 'a folder you may write'})."
        )
    )


class FileAccessError(TonghopError):
    """A file or folder named by the user cannot be read or written (permissions, a disk)."""


def file_access_error(exc: OSError) -> FileAccessError:
    """One sentence for an OSError that reached a shell: which file, why, what to do."""
    name = exc.filename if exc.filename is not None else ""
    where = f" {name}" if name else ""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return FileAccessError(
        one_line(
            f"Cannot use{where}: {reason}. Check the path, its permissions and free disk space."
        )
    )
