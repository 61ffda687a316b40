"""Customer balances: the intercompany amount added back when comparing with NetSuite.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

NetSuite's reported balance includes intercompany transactions; the derived balance leaves them
out (NS_EXCLUDE_INTERCOMPANY), so the comparison adds them back and shows how much it added.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DIFFERENCE_COMMENT = (
    "balance_base + intercompany_open_base - netsuite_balance: NetSuite's balance includes intercompany "
    "transactions, which the derived balance leaves out when NS_EXCLUDE_INTERCOMPANY is on; non-zero "
    "values are reported by a check."
)
OLD_DIFFERENCE_COMMENT = "balance_base - netsuite_balance; non-zero values are reported by a check."


def upgrade() -> None:
    with op.batch_alter_table("ar_customer_balances", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "intercompany_open_base", sa.Numeric(precision=18, scale=4), nullable=True,
            comment="Base amount of the customer's open intercompany items left out of balance_base "
                    "(added back when comparing with NetSuite's balance)."))
        batch_op.alter_column("difference", existing_type=sa.Numeric(precision=18, scale=4),
                              comment=DIFFERENCE_COMMENT, existing_comment=OLD_DIFFERENCE_COMMENT,
                              existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("ar_customer_balances", schema=None) as batch_op:
        batch_op.alter_column("difference", existing_type=sa.Numeric(precision=18, scale=4),
                              comment=OLD_DIFFERENCE_COMMENT, existing_comment=DIFFERENCE_COMMENT,
                              existing_nullable=True)
        batch_op.drop_column("intercompany_open_base")
