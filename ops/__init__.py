"""annops operations core: settings, auth, permissions, audit, workforce, metrics, jobs."""
