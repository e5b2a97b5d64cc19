"""Who issues a unit's period report: its heading, number, place, recipients and signer.

Decree 30/2020/NĐ-CP (Appendix I) fixes the form of an administrative document; what differs
from one province to another is written in a profile, a small YAML file a steward edits:

    # profiles/12.yaml: Lai Châu's period report
    body_above: "UBND TỈNH LAI CHÂU"      # top left, first line (the body above the issuer)
    issuing_body: "BAN CHỈ ĐẠO 138"       # top left, bold: who issues the report
    symbol: "BC-BCĐ"                      # "Số: .../BC-BCĐ" (BC = báo cáo)
    number: ""                            # the clerk numbers it when issued ("Số:    /BC-BCĐ")
    place: "Lai Châu"                     # "Lai Châu, ngày ... tháng ... năm ..."
    date: null                            # YYYY-MM-DD, or null: left for the signing day
    recipients: ["Ban Chỉ đạo 138/CP (để báo cáo)", "...", "Lưu: VT."]
    signer: {on_behalf: "TM. BAN CHỈ ĐẠO", title: "TRƯỞNG BAN", name: ""}

Every key is optional: what is missing comes from the unit's name (`defaults`). A profile is
found by `find_profile`: the file given (`tonghop report --profile FILE`), else
<folder>/<unit code>.yaml in the profiles folder (`--profiles DIR`, else $TONGHOP_PROFILES,
else `profiles/` beside the warehouse file), else the defaults. Unknown keys fail the load,
naming the file and the key, as the catalog does; so does a key given twice (YAML would keep the
last one silently) and an impossible date.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from validations.catalog.read import check_keys
from validations.errors import TonghopError
from validations.units import Unit
from validations.yaml_source import KeyTwice, read_yaml
from warehouse.db import warehouse_path

ENV_PROFILES = "TONGHOP_PROFILES"
KEYS = {
    "body_above",
    "issuing_body",
    "symbol",
    "number",
    "place",
    "date",
    "recipients",
    "signer",
}
SIGNER_KEYS = {"on_behalf", "title", "name"}
# the unit-type words a unit's name starts with, longest first ("Thành phố" before "Thị")
PREFIXES = (
    "Thành phố ",
    "Thị trấn ",
    "Thị xã ",
    "Đặc khu ",
    "Phường ",
    "Huyện ",
    "Quận ",
    "Tỉnh ",
    "Xã ",
)
FILED = "Lưu: VT."


class ProfileError(TonghopError, ValueError):
    """A profile file that cannot be read; the message names the file and what to fix."""


@dataclass(frozen=True)
class Signer:
    on_behalf: str = "TM. BAN CHỈ ĐẠO"
    title: str = "TRƯỞNG BAN"
    name: str = ""


@dataclass(frozen=True)
class Profile:
    """The parts of the document that are the issuing office's, not the warehouse's."""

    body_above: str
    issuing_body: str
    place: str
    recipients: tuple[str, ...]
    symbol: str = "BC-BCĐ"
    number: str = ""
    date: date | None = None
    signer: Signer = field(default_factory=Signer)
    path: str | None = None  # the file it was read from (None: the defaults)


def place_of(unit: Unit) -> str:
    """'Tỉnh Lai Châu' -> 'Lai Châu'."""
    for p in PREFIXES:
        if unit.name.startswith(p):
            return unit.name[len(p) :]
    return unit.name


def defaults(unit: Unit, *, two_level: bool | None = None) -> Profile:
    """A profile from the unit's name: the People's Committee above the steering committee,
    the usual recipients of a province's (or a district's) report."""
    two_level = unit.structure == "2025" if two_level is None else two_level
    if unit.level == "P":
        below = "UBND các xã, phường" if two_level else "UBND các huyện, thành phố"
        recipients = (
            "Ban Chỉ đạo 138/CP (để báo cáo)",
            "Bộ Công an (để báo cáo)",
            "Thường trực Tỉnh ủy (để báo cáo)",
            "Thường trực HĐND tỉnh",
            "Chủ tịch, các Phó Chủ tịch UBND tỉnh",
            "Thành viên Ban Chỉ đạo tỉnh",
            below,
            FILED,
        )
    else:
        recipients = (
            "Ban Chỉ đạo tỉnh (để báo cáo)",
            "Công an tỉnh (để báo cáo)",
            f"Thường trực {'Huyện ủy' if unit.level == 'D' else 'Đảng ủy'}",
            "Thành viên Ban Chỉ đạo",
            FILED,
        )
    return Profile(
        body_above=f"UBND {unit.name.upper()}",
        issuing_body="BAN CHỈ ĐẠO 138",
        place=place_of(unit),
        recipients=recipients,
    )


def load_profile(path: str | Path, unit: Unit) -> Profile:
    """A profile file over the unit's defaults, every key checked."""
    p = Path(path)
    try:
        data = read_yaml(p.read_text(encoding="utf-8"), p) or {}
    except FileNotFoundError as exc:
        raise ProfileError("profile.file_not_found", where=str(p)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError("profile.file_unreadable", where=str(p), detail=exc) from exc
    except KeyTwice as exc:
        raise ProfileError(
            "profile.key_twice", path=exc.path, line=exc.line, key=exc.key, first=exc.first
        ) from exc
    except yaml.YAMLError as exc:
        raise ProfileError("profile.not_yaml", where=str(p), detail=exc) from exc
    if not isinstance(data, dict):
        raise ProfileError("profile.not_a_mapping", where=str(p))
    try:
        check_keys(data, KEYS, str(p))
        if isinstance(data.get("signer"), dict):
            check_keys(data["signer"], SIGNER_KEYS, f"{p}: signer")
    except TonghopError as exc:  # an unknown key, said as the catalog says it
        raise ProfileError(exc.reason, **exc.params) from exc
    base = defaults(unit)
    changes: dict[str, Any] = {"path": str(p)}
    for key in ("body_above", "issuing_body", "symbol", "number", "place"):
        if key in data and data[key] is not None:
            changes[key] = str(data[key])
    if data.get("date") is not None:
        raw = data["date"]
        try:
            if isinstance(raw, datetime):
                raise ValueError(raw)
            changes["date"] = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        except ValueError as exc:  # 2025-13-01 reaches here as its text
            raise ProfileError("profile.date", where=str(p), value=repr(raw)) from exc
    if "recipients" in data:
        rec = data["recipients"]
        if not isinstance(rec, list) or not all(isinstance(r, str) for r in rec):
            raise ProfileError("profile.recipients", where=str(p))
        lines = [r.strip().lstrip("- ").rstrip(";") for r in rec if r.strip()]
        if not any(r.startswith("Lưu") for r in lines):
            lines.append(FILED)  # Decree 30: the list ends with the office's own copy
        changes["recipients"] = tuple(lines)
    if isinstance(data.get("signer"), dict):
        changes["signer"] = replace(
            base.signer, **{k: str(v) for k, v in data["signer"].items() if v is not None}
        )
    return replace(base, **changes)


def profiles_dir(folder: str | Path | None = None, warehouse: str | Path | None = None) -> Path:
    """The folder of profiles: the one given, else $TONGHOP_PROFILES, else `profiles/` beside
    the warehouse file."""
    if folder:
        return Path(folder)
    if os.environ.get(ENV_PROFILES):
        return Path(os.environ[ENV_PROFILES])
    return warehouse_path(warehouse).parent / "profiles"


def find_profile(
    unit: Unit,
    path: str | Path | None = None,
    folder: str | Path | None = None,
    warehouse: str | Path | None = None,
) -> Profile:
    """The unit's profile: `path`, else <profiles folder>/<unit code>.yaml, else defaults."""
    if path:
        return load_profile(path, unit)
    candidate = profiles_dir(folder, warehouse) / f"{unit.code}.yaml"
    return load_profile(candidate, unit) if candidate.is_file() else defaults(unit)
