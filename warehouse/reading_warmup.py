"""Imported by the fork server before it forks the reading workers (warehouse.reading.PRELOAD):
builds what every worker needs once, so that each fork starts warm instead of building its own
(the default catalog's validator, the reference units, the 2025 crosswalk)."""

from warehouse.reading import warm_up

warm_up()
