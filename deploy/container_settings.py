"""Settings the environment cannot carry, for the containers of deploy/compose.yaml
(CHAKRA_SETTINGS). Every web node and the scheduler see the same uploads volume."""

UPLOAD_DIR = "/srv/uploads"
