"""Kept for callers outside ops/: uploads are handled in ops.importers.uploads."""

from ops.importers.uploads import SOURCE_DESCRIPTIONS as SOURCES
from ops.importers.uploads import history as history
from ops.importers.uploads import import_upload as import_upload
from ops.importers.uploads import list_project_slugs as list_project_slugs
from ops.importers.uploads import summary_rows as summary_rows

__all__ = ["SOURCES", "history", "import_upload", "list_project_slugs", "summary_rows"]
