"""Notifications: alerts and daily digests reach people by email and webhook.

- ``channels``: the email channel (SMTP from the settings) and webhooks an admin adds;
- ``preferences``: what each user wants on each channel;
- ``messages`` and ``digests``: what a notice or a digest says, built as its recipient;
- ``transport``: SMTP and signed webhook requests;
- ``delivery``: the outbox (record, claim, send, confirm, retry) and the notify job;
- ``deliveries``: the delivery log admins read;
- ``cli``: ``annops notify``.
"""
