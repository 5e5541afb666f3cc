"""HTTP plumbing every TALOS module shares (AXIS service, Orchestrator, PRISM, CHROMA).

``errors``     the one error body and its FastAPI handlers
``auth``       the X-API-Key dependency and constant-time secret comparison
``db``         SQLAlchemy engines, sessions, Alembic migrations, pings
``callbacks``  ``POST /callbacks/job-completed`` with retries: where it may go, its signature
``inputs``     checking and fetching input URLs (file://, s3://, http(s)://)
``egress``     every request to a URL someone chose: resolved once, checked, connected to
               the checked address (no loopback/private unless trusted)
"""
