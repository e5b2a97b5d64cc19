"""The application layer: one module per operation a user sees, between the libraries
(validations/, warehouse/) and the shells (the CLI, the Prefect flows, the portal, its API).

A CLI command is one call of it and a rendering; a portal route is one call and a template; a
flow runs the same calls as tasks. So every shell gives the same answer to the same question:

| operation | module | CLI | flow | portal / API |
|---|---|---|---|---|
| check a file (dry run against the warehouse) | `service.check` | `validate` | - | upload verdict, `POST /api/validate` |
| ingest (read, validate, stage, load, answer, archive) | `service.ingest` | `ingest` | `ingest-submissions` | uploads stored |
| consolidate | `service.consolidation` | `consolidate` | `consolidate-period`, `consolidate-units` | *Tổng hợp* |
| approve, accept, unapprove | `service.approval` | `approve`, `accept`, `unapprove` | - | steward buttons |
| who sent what, on time or late | `service.status` | `status` | - | steward grid, submissions |
| rollups, summaries, exports, lineage | `service.figures` | `rollup`, `report`, `export` | - | province pages, `GET /api/rollup` |
| stored versions and their issues | `service.submissions` | - | - | submissions, versions, `GET /api/submissions` |
| web data entry: the form checked as typed, usual ranges, a value's history | `service.entry` | - | - | *Nhập số liệu* (submitted through the upload's path) |

No Prefect here, and no SQL on the warehouse's tables and views outside warehouse/ and this
package. The warehouse is reached through a `warehouse.access.WarehouseFile` the shell gives
(the CLI and the flows: the file; the portal: its snapshots for reads, publishing one after
each write).
"""
