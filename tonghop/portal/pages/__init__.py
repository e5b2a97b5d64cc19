"""Server-rendered pages, one module per kind of user: account (login, language, start page),
submitter (form, upload and verdict, submissions), steward (grid and approvals), province
(figures, summary, downloads), and errors (what a refusal looks like). Each route takes what it
needs as dependencies (tonghop.portal.deps), makes one call of the application layer
(service/) and renders one template (tonghop.portal.rendering)."""
