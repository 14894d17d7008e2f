"""notifications: channels, each user's preferences, and the delivery outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _versioned() -> list[sa.Column[object]]:
    return [
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=True),
    ]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_versioned(),
        sa.CheckConstraint(
            "kind = 'email' OR (url IS NOT NULL AND secret IS NOT NULL)",
            name=op.f("ck_notification_channels_webhook_target"),
        ),
        sa.CheckConstraint(
            "kind IN ('email', 'webhook')", name=op.f("ck_notification_channels_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_notification_channels_name")),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("immediate_rules", JSON_DOC, nullable=False),
        sa.Column("immediate_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_versioned(),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["notification_channels.id"],
            name=op.f("fk_notification_preferences_channel_id_notification_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint(
            "user_id", "channel_id", name=op.f("uq_notification_preferences_user_id_channel_id")
        ),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("delivery_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=120), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("digest_day", sa.Date(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=False),
        sa.Column("details", JSON_DOC, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('alert', 'digest', 'test')", name=op.f("ck_notification_deliveries_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'unconfirmed', 'skipped')",
            name=op.f("ck_notification_deliveries_status"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_notification_deliveries_attempts")),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_notification_deliveries_alert_id_alerts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["notification_channels.id"],
            name=op.f("fk_notification_deliveries_channel_id_notification_channels"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_deliveries_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "alert_id",
            "user_id",
            "channel_id",
            name=op.f("uq_notification_deliveries_alert_id_user_id_channel_id"),
        ),
        sa.UniqueConstraint("delivery_key", name=op.f("uq_notification_deliveries_delivery_key")),
        sa.UniqueConstraint(
            "digest_day",
            "user_id",
            "channel_id",
            name=op.f("uq_notification_deliveries_digest_day_user_id_channel_id"),
        ),
    )
    op.create_index(
        "ix_notification_deliveries_status_next",
        "notification_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        "ix_notification_deliveries_recipient_claimed",
        "notification_deliveries",
        ["user_id", "channel_id", "claimed_at"],
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(
        "ix_notification_deliveries_recipient_claimed", table_name="notification_deliveries"
    )
    op.drop_index("ix_notification_deliveries_status_next", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_table("notification_preferences")
    op.drop_table("notification_channels")
