"""``python -m oms_orders``: run the orders gRPC service until SIGTERM.

``OMS_ORDERS_WORKERS`` (default 1) runs that many worker processes on the same port
(SO_REUSEPORT; see ``omslib.workers``).
"""

import sys

from omslib.settings import load_settings
from omslib.workers import serve_workers

from oms_orders import bootstrap
from oms_orders.config import Settings

settings = load_settings(Settings)
sys.exit(
    serve_workers(
        "oms_orders", bootstrap.main, workers=settings.workers, worker_index=settings.worker_index
    )
)
