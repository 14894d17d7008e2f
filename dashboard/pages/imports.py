"""Import page: upload an export, preview the mapping with a dry run, then import."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from dashboard.session import db_session, require_principal
from dashboard.text import inert
from ops.errors import AnnopsError
from ops.importers.uploads import (
    SOURCE_DESCRIPTIONS,
    format_note,
    import_upload,
    list_project_slugs,
    summary_rows,
)

principal = require_principal()
st.title("Import annotation work")
st.caption(
    "Bring in work done on a labeling platform. Preview first: a dry run checks every row "
    "and shows who was matched, who is new and which items are golden, and stores nothing."
)
with db_session() as session:
    slugs = list_project_slugs(session, principal)

source = st.radio(
    "Source",
    list(SOURCE_DESCRIPTIONS),
    format_func=SOURCE_DESCRIPTIONS.__getitem__,
    key="import_source",
    horizontal=True,
)
upload = st.file_uploader("File", key="import_file")
project = users = None
label_field = guideline_version = reference_annotators = ""
no_gold = False
if source == "labelstudio":
    if not slugs:
        st.info("There are no projects to import into yet: add one with `annops project add`.")
        st.stop()
    project = st.selectbox("Project", slugs, key="import_project")
    users = st.file_uploader("Label Studio users (GET /api/users), optional", key="import_users")
    label_field = st.text_input(
        "Label field (control name, e.g. defect); needed for CSV", key="import_label_field"
    )
    guideline_version = st.text_input(
        "Guideline version (blank: the one in effect)", key="import_guideline_version"
    )
    st.caption(
        "JSON_MIN and CSV exports have no ground-truth flag and leave skipped annotations "
        "out. Export JSON if you can; otherwise say who set the gold, or that no one did."
    )
    reference_annotators = st.text_input(
        "Reference annotators for JSON_MIN and CSV (e-mails or user ids): their "
        "annotations are the gold of their tasks",
        key="import_reference_annotators",
    )
    no_gold = st.checkbox(
        "JSON_MIN and CSV: no one's annotations are gold references", key="import_no_gold"
    )
skip_invalid = st.checkbox(
    "Skip invalid rows (otherwise any bad row stops the import)", key="import_skip_invalid"
)
preview, run = st.columns(2)
dry_run_clicked = preview.button("Preview (dry run)", key="import_preview")
import_clicked = run.button("Import", key="import_run", type="primary")

if (dry_run_clicked or import_clicked) and upload is None:
    st.warning("Choose a file first.")
elif (dry_run_clicked or import_clicked) and upload is not None:
    bar = st.progress(0.0, text="Reading the file…")
    try:
        outcome = import_upload(
            principal,
            source=source,
            file_name=upload.name,
            data=upload.getvalue(),
            project=project,
            users_data=users.getvalue() if users is not None else None,
            guideline_version=guideline_version,
            label_field=label_field,
            reference_annotators=reference_annotators,
            no_gold=no_gold,
            dry_run=dry_run_clicked,
            skip_invalid=skip_invalid,
            progress=lambda share: bar.progress(share, text="Reading the file…"),
        )
    except AnnopsError as error:
        bar.empty()
        st.error(inert(error))
    except Exception:
        # The person uploading sees one line; the details, with server paths, go to the log.
        logging.getLogger(__name__).exception("import of %s failed", upload.name)
        bar.empty()
        st.error(
            f"{upload.name}: the import stopped on a problem annops did not foresee; nothing "
            "was stored. The server log has the details."
        )
    else:
        bar.progress(1.0, text="Done")
        result = outcome.result
        if result.dry_run:
            st.info(f"Dry run of {inert(result.file_name)}: nothing was stored.")
        else:
            st.success(f"Imported {inert(result.file_name)} as batch {result.batch_id}.")
        note = format_note(result)
        if note is not None:
            st.warning(note)
        st.dataframe(pd.DataFrame(summary_rows(result)), hide_index=True, key="import_summary")
        if result.summary.per_annotator:
            st.subheader("Work per annotator")
            st.dataframe(
                pd.DataFrame(result.summary.per_annotator),
                hide_index=True,
                key="import_per_annotator",
            )
        if outcome.rejects_csv is not None:
            st.download_button(
                "Download rejected rows (CSV)",
                outcome.rejects_csv,
                file_name=f"{result.file_name}.rejects.csv",
                mime="text/csv",
                on_click="ignore",
                key="import_rejects",
            )
