"""user-pool API: app client auth flows, user pool state (SRP verifier), SigV4 keys

Revision ID: 0004
Revises: 0001
Create Date: 2026-12-04 22:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('userpool_access_keys',
    sa.Column('access_key_id', sa.String(length=32), nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('access_key_id', name=op.f('pk_userpool_access_keys'))
    )
    op.create_table('userpool_clients',
    sa.Column('client_id', sa.String(length=128), nullable=False),
    sa.Column('auth_flows', sa.JSON(), nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_userpool_clients_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_userpool_clients'))
    )
    op.create_table('userpool_users',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('force_password_change', sa.Boolean(), nullable=False),
    sa.Column('srp_verifier', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_userpool_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_userpool_users'))
    )


def downgrade():
    op.drop_table('userpool_users')
    op.drop_table('userpool_clients')
    op.drop_table('userpool_access_keys')
