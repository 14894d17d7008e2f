"""annops dashboard: Streamlit pages over the ops layer."""
