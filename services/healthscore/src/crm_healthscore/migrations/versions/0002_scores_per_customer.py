"""Scores looked up by customer across profiles (issue 8).

A recompute reads every profile's stored score of a batch of customers
(`customer_id = ANY(...)` without the profile id), and the clock clears the due mark of
a batch the same way. The primary key leads with the profile id, so both scanned every
score of the account for each batch of 1,000: a full recompute of 100,000 customers
slowed as the table filled. This index answers them per customer.
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("CREATE INDEX scores_per_customer ON scores "
               "(account_id, customer_type, customer_id)")


def downgrade() -> None:
    op.execute("DROP INDEX scores_per_customer")
