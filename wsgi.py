"""Entry point for gunicorn: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

import gc

from tourism import create_app

app = create_app()

# What start-up built (modules, mappers, templates, catalogs: some 230,000 objects) lives as
# long as the process. Frozen, the collector no longer walks it: a full collection under
# load took about 100 ms and now takes a few, and a forked worker does not copy the pages it
# would have touched (docs/PERFORMANCE.md).
gc.collect()
gc.freeze()
