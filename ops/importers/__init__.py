"""Bringing annotation work into annops: Label Studio exports and the canonical events file."""
