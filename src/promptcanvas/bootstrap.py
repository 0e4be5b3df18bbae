"""The one composition root: Settings in, wired services out."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from promptcanvas.adapters.db import migrate
from promptcanvas.adapters.db.embeddings import SqlEmbeddingStore
from promptcanvas.adapters.db.engine import Database, create_database
from promptcanvas.adapters.db.gallery import SqlOutputStore
from promptcanvas.adapters.db.imports import SqlImportUnitOfWork
from promptcanvas.adapters.db.text_cache import SqlTextCacheStore
from promptcanvas.adapters.db.uow import SqlUnitOfWork
from promptcanvas.adapters.embedders import LazyEmbedder, build_embedder
from promptcanvas.adapters.queue.embedded import EmbeddedQueue, WorkerPool
from promptcanvas.adapters.ratelimit.memory import MemoryRateLimiter
from promptcanvas.adapters.storage import open_storage
from promptcanvas.adapters.throttle.breaker_memory import MemoryBreaker
from promptcanvas.adapters.throttle.memory import MemoryThrottle
from promptcanvas.adapters.vectors.memory import InProcessIndex
from promptcanvas.domain.breaker import BreakerPolicy
from promptcanvas.domain.jobs import RetryPolicy
from promptcanvas.ports.breaker import CircuitBreaker
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.imports import ImportUnitOfWork
from promptcanvas.ports.jobs import JobQueue, Throttle
from promptcanvas.ports.providers import ProviderBase
from promptcanvas.ports.ratelimit import RateLimiter
from promptcanvas.ports.repositories import UnitOfWork
from promptcanvas.ports.storage import Storage
from promptcanvas.services.assets import AssetService
from promptcanvas.services.batches import BatchService
from promptcanvas.services.compare import CompareService
from promptcanvas.services.gallery import Gallery
from promptcanvas.services.generate import GenerationService
from promptcanvas.services.import_jobs import ImportJobs
from promptcanvas.services.import_scan import ZipLimits
from promptcanvas.services.importing import ImportService
from promptcanvas.services.library import Library
from promptcanvas.services.maintenance import Maintenance
from promptcanvas.services.portfolios import PortfolioService
from promptcanvas.services.projects import ProjectService
from promptcanvas.services.providers import ProviderEntry, ProviderRegistry
from promptcanvas.services.recommend import Recommender
from promptcanvas.services.runner import JobRunner
from promptcanvas.services.semantic import SemanticSearch
from promptcanvas.services.semantic_index import SemanticIndexer
from promptcanvas.services.text_cache import TextCache
from promptcanvas.services.users import UserService
from promptcanvas.settings import ProviderConfig, Settings


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
    registry: ProviderRegistry
    queue: JobQueue
    throttle: Throttle
    runner: JobRunner
    generations: GenerationService
    batches: BatchService  # batch re-runs (services/batches.py)
    compare: CompareService  # side-by-side figures and grids (services/compare.py)
    importer: ImportService  # folder and zip imports (services/importing.py)
    imports: ImportJobs  # imports through the API, as jobs (services/import_jobs.py)
    indexer: SemanticIndexer  # embedding jobs and the vector index (services/semantic_index.py)
    semantic: SemanticSearch  # semantic/hybrid search, similar work (services/semantic.py)
    recommender: Recommender  # past prompts for a new request (services/recommend.py)
    text_cache: TextCache  # exact + semantic cache for text-model calls (services/text_cache.py)
    gallery: Gallery  # outputs listing and batch actions for the web UI (services/gallery.py)
    portfolios: PortfolioService  # portfolios, share links, HTML zips (services/portfolios.py)
    # Request rate limits (entrypoints/api/ratelimit.py reads it on every request).
    rate_limiter: RateLimiter = field(default_factory=MemoryRateLimiter)

    def worker_pool(self, threads: int | None = None) -> WorkerPool:
        """In-process workers over the job table (embedded mode); call start() on it."""
        if not isinstance(self.queue, EmbeddedQueue):
            raise RuntimeError("in-process workers need the embedded queue")
        count = self.settings.workers if threads is None else threads
        return WorkerPool(self.runner, self.queue, threads=count)

    def close(self) -> None:
        """Stop background threads, close provider connections, release database connections."""
        self.runner.stop()
        self.indexer.stop()
        for entry in self.registry.entries.values():
            close = getattr(entry.adapter, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # one adapter failing to close must not keep the rest open
                    logging.getLogger(__name__).exception("closing provider %s failed", entry.name)
        self.db.dispose()


def build_provider(config: ProviderConfig) -> ProviderBase:
    """The adapter a provider config names (imported only when configured)."""
    if config.adapter == "local":
        from promptcanvas.adapters.providers.local import LocalProvider

        return LocalProvider(config)
    if config.adapter == "openai":
        from promptcanvas.adapters.providers.openai import OpenAIProvider

        return OpenAIProvider(config)
    if config.adapter == "sdwebui":
        from promptcanvas.adapters.providers.sdwebui import SdWebUIProvider

        return SdWebUIProvider(config)
    from promptcanvas.adapters.providers.comfyui import ComfyUIProvider

    return ComfyUIProvider(config)


def build_queue(settings: Settings) -> JobQueue:
    """The job delivery the settings name."""
    if settings.queue == "celery":
        from promptcanvas.adapters.queue.celery import CeleryQueue

        return CeleryQueue(settings)
    return EmbeddedQueue()


def build_throttle(settings: Settings) -> Throttle:
    """Shared provider limits: Redis when configured, else in-process."""
    url = settings.redis_url or (settings.broker_url if settings.queue == "celery" else None)
    if url:
        from promptcanvas.adapters.throttle.redis import RedisThrottle

        return RedisThrottle(url)
    return MemoryThrottle()


def build_rate_limiter(settings: Settings) -> RateLimiter:
    """Request rate limits: shared through Redis when configured, else in-process."""
    url = settings.redis_url or (settings.broker_url if settings.queue == "celery" else None)
    if url:
        from promptcanvas.adapters.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(url)
    return MemoryRateLimiter()


def build_breaker(settings: Settings) -> CircuitBreaker:
    """Per-provider circuit breakers, shared like the throttle: Redis when configured."""
    policy = BreakerPolicy(
        threshold=settings.breaker_threshold,
        window_seconds=settings.breaker_window_seconds,
        open_seconds=settings.breaker_open_seconds,
        max_open_seconds=max(settings.breaker_open_seconds, settings.breaker_max_open_seconds),
    )
    url = settings.redis_url or (settings.broker_url if settings.queue == "celery" else None)
    if url:
        from promptcanvas.adapters.throttle.breaker_redis import RedisBreaker

        return RedisBreaker(url, policy)
    return MemoryBreaker(policy)


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

    assets = AssetService(
        uow,
        storage,
        clock,
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
        thumb_size=settings.thumbnail_size,
    )
    registry = ProviderRegistry(
        [ProviderEntry(c, build_provider(c)) for c in settings.provider_configs()]
    )
    queue = build_queue(settings)
    throttle = build_throttle(settings)
    policy = RetryPolicy(
        max_attempts=settings.job_max_attempts,
        base_seconds=settings.retry_base_seconds,
        max_seconds=settings.retry_max_seconds,
    )
    runner = JobRunner(
        uow,
        registry,
        assets,
        throttle,
        clock,
        policy=policy,
        lease_seconds=settings.job_lease_seconds,
        queue=queue,
        breaker=build_breaker(settings),
        breaker_max_wait=settings.breaker_max_wait_seconds,
    )
    library = Library(uow, clock)

    def import_uow(*, write: bool = True) -> ImportUnitOfWork:
        return SqlImportUnitOfWork(db, write=write)

    importer = ImportService(
        import_uow,
        storage,
        clock,
        max_pixels=settings.max_image_pixels,
        max_file_bytes=settings.import_max_file_bytes,
        thumb_size=settings.thumbnail_size,
        processes=settings.import_processes,
    )
    imports = ImportJobs(
        import_uow,
        importer,
        storage,
        queue,
        clock,
        roots=list(settings.import_roots),
        zip_limits=ZipLimits(
            max_members=settings.import_zip_max_members,
            max_total_bytes=settings.import_zip_max_bytes,
            max_file_bytes=settings.import_max_file_bytes,
        ),
    )
    runner.kinds[imports.kind] = imports.run_job
    generations = GenerationService(
        uow, registry, queue, clock, max_attempts=settings.job_max_attempts, assets=assets
    )
    embeddings = SqlEmbeddingStore(db)
    indexer = SemanticIndexer(
        uow,
        embeddings,
        LazyEmbedder(lambda: build_embedder(settings)),
        queue,
        clock,
        make_index=lambda dim: InProcessIndex(
            dim, exact_limit=settings.vector_exact_limit, quantisation=settings.vector_quantisation
        ),
        sync_seconds=settings.semantic_sync_seconds,
        background=settings.semantic_background,
    )
    runner.kinds[indexer.kind] = indexer.run_job
    semantic = SemanticSearch(uow, library, embeddings, indexer)
    return Container(
        settings=settings,
        db=db,
        storage=storage,
        clock=clock,
        library=library,
        assets=assets,
        projects=ProjectService(uow, clock),
        users=UserService(
            uow,
            clock,
            login_ttl=settings.login_link_ttl_seconds,
            session_ttl=settings.session_ttl_seconds,
        ),
        maintenance=Maintenance(uow, storage, clock, grace_seconds=settings.orphan_grace_seconds),
        registry=registry,
        queue=queue,
        throttle=throttle,
        runner=runner,
        generations=generations,
        batches=BatchService(
            uow, clock, library=library, generations=generations, assets=assets, queue=queue
        ),
        compare=CompareService(uow, assets),
        importer=importer,
        imports=imports,
        indexer=indexer,
        semantic=semantic,
        recommender=Recommender(uow, semantic),
        gallery=Gallery(SqlOutputStore(db), semantic, uow, clock),
        text_cache=TextCache(
            SqlTextCacheStore(db),
            indexer.embedder,
            clock,
            threshold=settings.semantic_cache_threshold,
            ttl_seconds=settings.semantic_cache_ttl_seconds,
            max_candidates=settings.semantic_cache_candidates,
        ),
        portfolios=PortfolioService(
            uow,
            clock,
            assets,
            base_url=settings.base_url,
            export_max_bytes=settings.portfolio_export_max_bytes,
        ),
        rate_limiter=build_rate_limiter(settings),
    )
