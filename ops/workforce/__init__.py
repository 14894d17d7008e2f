"""The annotator pool: people, their records, and the decisions taken about them.

Every write checks permission and the lead's team scope, validates its input with
a message naming the field, detects concurrent edits, and leaves an audit entry.
"""
