"""Alembic environment: runs migrations over the async engine the store uses."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from engine.store.tables import metadata
from engine.store.url import connect_args

config = context.config


def _run(connection):  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = create_async_engine(url, connect_args=connect_args(url))
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_main())
