"""Shared fixtures: the default catalog, reference units, a fixed 'today', sample paths."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_submissions"
TODAY = date(2026, 11, 22)

# Reproducible "today" for the CLI run in subprocesses.
os.environ.setdefault("TONGHOP_TODAY", TODAY.isoformat())


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes():
    """argon2id with its cheapest parameters in this process (Django's tests do the same with
    their hasher): the production cost (about 0.4 s a hash here) made each portal test's users
    and logins cost seconds. Hashes keep their parameters, so a server started by a test
    verifies them as they are (and rehashes at the production cost on login)."""
    from argon2 import PasswordHasher, profiles

    from tonghop.portal import accounts

    accounts._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield


@pytest.fixture(scope="session")
def catalog():
    from validations.catalog import load_catalog

    return load_catalog()


@pytest.fixture(scope="session")
def units():
    from validations.units import load_units

    return load_units()


@pytest.fixture(scope="session")
def validator(catalog, units):
    from validations.validator import Validator

    return Validator(catalog=catalog, units=units, today=TODAY)


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes 15-25 s to start)."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def season(tmp_path_factory, catalog, units, validator):
    """Lai Châu's reporting season from the sample files (tests/report_fixtures.py): last year,
    2024-H1 with two communes missing June, the province consolidated for June and the
    half-year. The warehouse file's path: open it read-only, or copy it to change it."""
    from report_fixtures import build_season

    return build_season(tmp_path_factory.mktemp("season") / "w.duckdb", catalog, units, validator)
