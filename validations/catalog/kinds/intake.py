"""The kinds checked while a file is read (the validator's intake steps) and against the
warehouse (the ingest): declared so that the catalog knows them and every catalog names the
rule each one reports under. Their checks are steps of reading a file, not functions of values:
the validator (header, rows, values) and warehouse/previous_year.py run them."""

from __future__ import annotations

from validations.catalog.kinds.registry import declare_rule_kind

INTAKE_KINDS = {
    "header": {
        "single_submission": "one unit and one period per file",
        "period_format": "the period is one of the accepted forms",
        "period_ambiguous": "the period is not Excel's number for a typed 2024.10",
        "period_future": "the period has started",
        "unit_exists": "the unit code is in the reference units",
        "unit_valid": "the unit exists in the structure in force for the period",
    },
    "rows": {
        "extra_fields": "a CSV row has no more cells than the header has columns",
        "split_decimal": "no decimal split in two by an unquoted comma",
        "indicator_known": "the indicator code is on the form",
        "indicator_level": "the unit's level reports the indicator",
        "indicator_validity": "the indicator is on the form of the period",
        "duplicate": "one value per indicator",
        "formula": "a value cell holds no formula",
    },
    "values": {
        "number": "the value is a number",
        "ambiguous": "'1.250' in a rate or decimal indicator is read as 1250 (a warning)",
        "required": "every required indicator of the level is present",
    },
    "warehouse": {
        "previous_year": "last year's figure agrees with the warehouse's for the same territory",
    },
}

for _stage, _kinds in INTAKE_KINDS.items():
    for _name, _doc in _kinds.items():
        declare_rule_kind(_name, _stage, _doc)
