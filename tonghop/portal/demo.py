"""Demo accounts for the portal on the demo warehouse, and how to open it.

`tonghop demo` calls `demo_accounts(root)` at its end (the only change outside the portal is
that call in tonghop/cli.py; flows/demo.py is untouched) and prints `hint(...)`.
"""

from __future__ import annotations

from pathlib import Path

from tonghop.portal.accounts import Accounts

PASSWORD = "tonghop-demo"
# name -> (unit, role, what the demo shows with it)
DEMO_USERS = {
    "xa.03386": (
        "03386",
        "submitter",
        "commune Quyết Thắng (merged in 2025): form, upload, verdict",
    ),
    "huyen.105": (
        "105",
        "steward",
        "district Thành phố Lai Châu (abolished in 2025): grid, approve",
    ),
    "tinh.12": ("12", "steward", "province Lai Châu: accept, rollups, summary"),
    "xem.12": ("12", "viewer", "province Lai Châu, read-only"),
}


def demo_accounts(root: str | Path) -> Path:
    """Create (or recreate) the demo accounts in `<root>/accounts.sqlite`."""
    path = Path(root) / "accounts.sqlite"
    for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        f.unlink(missing_ok=True)
    acc = Accounts(path)
    for name, (unit, role, _) in DEMO_USERS.items():
        acc.add(name, unit, role, PASSWORD)
    return path


def hint(root: str | Path, warehouse: str | Path) -> str:
    lines = [
        "Portal (web): tonghop serve --warehouse "
        f"{warehouse} --accounts {Path(root) / 'accounts.sqlite'} --inbox {Path(root) / 'inbox'} "
        f"--outbox {Path(root) / 'outbox'} --archive {Path(root) / 'archive'}",
        "  then open http://127.0.0.1:8000/ and log in (password for all: "
        f"{PASSWORD}); each user lands on a page with work on it:",
    ]
    lines += [f"    {n:<10} {role:<9} {what}" for n, (_, role, what) in DEMO_USERS.items()]
    return "\n".join(lines)
