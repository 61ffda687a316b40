"""Sync state: the pass in progress (window_* columns of ns_sync_state).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

A sync pass reads rows in id order (keyset), not in lastmodifieddate order, so the cursor can only
move when the pass completes; these columns let an interrupted pass resume with the same filter
from the last id it committed (ns_pipelines.sync.runner).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('ns_sync_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_mode', sa.String(length=32), nullable=True, comment='Mode of the pass in progress (incremental or full); NULL when no pass is in progress.'))
        batch_op.add_column(sa.Column('window_since', sa.DateTime(timezone=True), nullable=True, comment='lastmodifieddate lower bound of the pass in progress (cursor minus overlap), in UTC; NULL reads everything.'))
        batch_op.add_column(sa.Column('window_through', sa.DateTime(timezone=True), nullable=True, comment='Cursor the pass in progress sets when it completes: the newest NetSuite timestamp before it started, in UTC.'))
        batch_op.add_column(sa.Column('window_opened_at', sa.DateTime(timezone=True), nullable=True, comment='When the pass in progress started (warehouse clock), in UTC; a full pass marks deleted the rows it did not rewrite since.'))
        batch_op.add_column(sa.Column('window_position', sa.Text(), nullable=True, comment='Keyset position of the pass in progress (JSON: stream and id ranges); the next run resumes from it.'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('ns_sync_state', schema=None) as batch_op:
        batch_op.drop_column('window_position')
        batch_op.drop_column('window_opened_at')
        batch_op.drop_column('window_through')
        batch_op.drop_column('window_since')
        batch_op.drop_column('window_mode')
