"""The one composition root: Settings in, wired services out."""

from __future__ import annotations

from dataclasses import dataclass

from promptcanvas.adapters.db import migrate
from promptcanvas.adapters.db.engine import Database, create_database
from promptcanvas.adapters.db.uow import SqlUnitOfWork
from promptcanvas.adapters.storage import open_storage
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.repositories import UnitOfWork
from promptcanvas.ports.storage import Storage
from promptcanvas.services.assets import AssetService
from promptcanvas.services.library import Library
from promptcanvas.services.maintenance import Maintenance
from promptcanvas.services.projects import ProjectService
from promptcanvas.services.users import UserService
from promptcanvas.settings import Settings


@dataclass
class Container:
    """Everything a running PromptCanvas needs, built once per process."""

    settings: Settings
    db: Database
    storage: Storage
    clock: Clock
    library: Library
    assets: AssetService
    projects: ProjectService
    users: UserService
    maintenance: Maintenance

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()


def build_storage(settings: Settings) -> Storage:
    """The file store named by settings."""
    secret = settings.s3_secret_access_key
    return open_storage(
        settings.resolved_storage_url,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
    )


def bootstrap(
    settings: Settings | None = None, *, upgrade: bool = True, clock: Clock | None = None
) -> Container:
    """Build adapters and services; by default bring the schema up to date first."""
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = create_database(
        settings.resolved_database_url, busy_timeout=settings.sqlite_busy_timeout_seconds
    )
    if upgrade:
        migrate.upgrade(db)
    storage = build_storage(settings)
    clock = clock or Clock()

    def uow(*, write: bool = True) -> UnitOfWork:
        return SqlUnitOfWork(db, write=write)

    return Container(
        settings=settings,
        db=db,
        storage=storage,
        clock=clock,
        library=Library(uow, clock),
        assets=AssetService(
            uow,
            storage,
            clock,
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_image_pixels,
            thumb_size=settings.thumbnail_size,
        ),
        projects=ProjectService(uow, clock),
        users=UserService(
            uow,
            clock,
            login_ttl=settings.login_link_ttl_seconds,
            session_ttl=settings.session_ttl_seconds,
        ),
        maintenance=Maintenance(uow, storage, clock, grace_seconds=settings.orphan_grace_seconds),
    )
