"""Prefect flows: thin wrappers over validations/ and warehouse/.

Importing this package sets the measured defaults for Prefect's local ephemeral server (it
takes 15-25 s to start on 2-core machines) unless the environment already sets them.
"""

import os

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
