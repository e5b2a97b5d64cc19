"""The warm validator: concurrent checks are batched and give what `validate` gives alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from conftest import SAMPLES
from tonghop.portal.checker import Checker


def test_concurrent_checks_equal_single_validations(validator):
    files = (
        sorted((SAMPLES / "invalid").glob("*.csv"))[:16]
        + sorted((SAMPLES / "valid" / "2024-06" / "106").glob("*.xlsx"))[:4]
    )
    checker = Checker()
    checker.warm()
    before = checker.batches
    with ThreadPoolExecutor(20) as pool:
        got = list(pool.map(checker.check, files))
    assert checker.batches - before < len(files)  # batched, not one validation per file
    for f, res in zip(files, got, strict=True):
        alone = validator.validate_file(f)
        assert res.to_dict() == alone.to_dict(), f.name
    checker.close()
