"""The portal: a web application for submitters, stewards and provinces, behind accounts.

A thin shell over validations/ and warehouse/ (FastAPI, Jinja2 templates, server-rendered pages,
no script needed): modules are named by what they hold. `settings` (where things live),
`database` (the portal's own SQLite file: accounts, uploads, jobs, audit, kept outside the DuckDB
warehouse so the warehouse keeps its single writer), `accounts`, `auth` (sessions, CSRF,
tokens, login throttle), `scope` (which units a user may see), `checker` (the warm validator),
`reader` (the warehouse snapshot the pages read), `uploads`, `jobs` (ingest and consolidation
runs), `claims` (who took which background work; a dead process's taken again), `recovery`
(an upload resumed after a death, stored once), `worker` (the background process),
`testpoints` (where the kill tests strike), `notices` (e-mail), `pages/` (one module per kind of user; charts from
warehouse/charts.py, the one chart module), `api`, `app`.
Importing `tonghop.portal` itself imports nothing heavy: `tonghop user` needs only `accounts`.
"""
