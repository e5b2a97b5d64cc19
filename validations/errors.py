"""One base class for every error that is the user's to fix, caught once by the shells.

A `TonghopError` is raised with a code of the message catalog and its parameters:
`ApprovalError("approval.units_open", unit="12", period="2024-06", open=[...])`. Its sentence
comes from `validations/messages.yaml` (validations/messages.py), in Vietnamese or English:
`exc.message("vi")`, `exc.message("en")`; `str(exc)` is the English sentence (for logs and
tests); the shells show `message(lang)` in the user's language.

Two stable strings say what happened: `code`, the category shown in JSON output since 0.1 (the
class name in snake case without "Error": CatalogError -> "catalog", WarehouseLockedError ->
"warehouse_locked"; the reader's ReadError says which: "file_too_large", "hidden_sheet", ...),
and `reason`, the catalog code of this very message ("approval.units_open"). Neither is ever
reworded. The JSON object carries both, the parameters and the message in the chosen language.

Exit status: 2 when the command cannot run (unreadable input, a bad catalog or manifest, the
warehouse missing or locked, a disk error); 1 when it ran and the answer is no (`RefusedError`:
a period already approved, nothing to summarise or export).
"""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path, PurePath
from typing import Any, ClassVar

from validations.fmt import one_line
from validations.messages import Message, render, to_plain

EXIT_CANNOT_RUN = 2
EXIT_REFUSED = 1


def _snake(name: str) -> str:
    base = name[: -len("Error")] if name.endswith("Error") and name != "Error" else name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower() or "error"


class TonghopError(Exception):
    """An error the user fixes: a code of the message catalog and its parameters, one sentence
    naming the thing and the next step (`message(lang)`; str(exc) is the English one)."""

    code: ClassVar[str] = "tonghop"
    exit_code: ClassVar[int] = EXIT_CANNOT_RUN

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = _snake(cls.__name__)

    def __init__(self, reason: str = "", /, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = {k: _param(v) for k, v in params.items()}

    def __str__(self) -> str:
        return self.message("en")

    def __repr__(self) -> str:  # the sentence in logs (Prefect prints repr), not only its code
        return f"{type(self).__name__}({self.reason!r}: {self.message('en')!r})"

    def message(self, lang: str = "vi") -> str:
        """The sentence in `lang` (Vietnamese unless "en"), from the message catalog."""
        return one_line(render(self.reason, lang, **self.params))

    def as_message(self) -> Message:
        """The error's code and parameters, to be a parameter of another message."""
        return Message(self.reason, self.params)

    def error_code(self) -> str:
        """The stable category of this error (an instance may refine its class's code)."""
        return str(getattr(self, "instance_code", None) or self.code)

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        """The JSON form: status "error", the stable code and reason, the parameters and the
        message in `lang`."""
        return {
            "status": "error",
            "code": self.error_code(),
            "reason": self.reason,
            "params": to_plain(self.params, lang),
            "message": self.message(lang),
        }


def _param(value: Any) -> Any:
    """Parameters are kept picklable and language-free: a nested TonghopError as its Message,
    any other exception as its text, a path as text."""
    if isinstance(value, TonghopError):
        return value.as_message()
    if isinstance(value, BaseException):
        return one_line(" ".join(str(value).split()) or type(value).__name__)
    if isinstance(value, PurePath):
        return str(value)
    return value


def error_record(exc: BaseException, limit: int = 500) -> str:
    """An error as text to store and show later (a portal job's or upload's failure): a
    TonghopError as JSON {"reason", "params"}, shown by record_text in the reader's language;
    any other exception as "Type: text" (at most `limit` characters)."""
    if isinstance(exc, TonghopError):
        record = {"reason": exc.reason, "params": to_plain(exc.params, "en")}
        return json.dumps(record, ensure_ascii=False, default=str)
    return f"{type(exc).__name__}: {exc}"[:limit]


def record_text(text: str | None, lang: str = "vi") -> str:
    """A stored error_record in `lang`; any other text as it is."""
    if not text or not text.startswith('{"reason"'):
        return text or ""
    try:
        record = json.loads(text)
        return one_line(render(str(record["reason"]), lang, **dict(record.get("params") or {})))
    except (ValueError, KeyError, TypeError):
        return text


class RefusedError(TonghopError):
    """The command ran and the answer is no (exit 1): already approved, nothing to show."""

    exit_code: ClassVar[int] = EXIT_REFUSED


class UsageError(TonghopError, ValueError):
    """A command or setting given a value it cannot use (an option, a missing path)."""


class NotFoundError(RefusedError):
    """The command ran and found nothing to show (no such unit, no rollup yet)."""


class OutputError(TonghopError):
    """A file or folder the command was told to write cannot be written."""


def output_error(path: Any, exc: OSError | None = None, what: str = "file") -> OutputError:
    """One sentence for an output path that cannot be written (a folder, no permission, ...)."""
    p = Path(str(path))
    if exc is None or isinstance(exc, IsADirectoryError) or p.is_dir() and what == "file":
        reason: Message | str = Message("os.is_folder")
    elif isinstance(exc, NotADirectoryError | FileExistsError):
        reason = Message("os.file_not_folder")
    else:
        reason = os_reason(exc)
    return OutputError(
        "output.folder" if what == "folder" else "output.file", path=str(p), reason=reason
    )


class FileAccessError(TonghopError):
    """A file or folder named by the user cannot be read or written (permissions, a disk)."""


def file_access_error(exc: OSError) -> FileAccessError:
    """One sentence for an OSError that reached a shell: which file, why, what to do."""
    name = exc.filename if exc.filename is not None else ""
    reason = os_reason(exc)
    if name:
        return FileAccessError("file_access.path", path=str(name), reason=reason)
    return FileAccessError("file_access.any", reason=reason)


_ERRNO_REASONS = {
    errno.EACCES: "os.permission_denied",
    errno.EPERM: "os.permission_denied",
    errno.ENOENT: "os.not_found",
    errno.ENOSPC: "os.disk_full",
    errno.EDQUOT: "os.disk_full",
    errno.EISDIR: "os.is_folder",
    errno.ENOTDIR: "os.file_not_folder",
    errno.EROFS: "os.read_only",
}


def os_reason(exc: BaseException) -> Message | str:
    """Why an OSError happened, in the user's language when it is a common one (permission
    denied, not found, disk full, ...); else the system's own words."""
    code = getattr(exc, "errno", None)
    if code in _ERRNO_REASONS:
        return Message(_ERRNO_REASONS[code])
    if isinstance(exc, PermissionError):
        return Message("os.permission_denied")
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if "No space left" in text:
        return Message("os.disk_full")
    return one_line(" ".join(str(text).split()))
