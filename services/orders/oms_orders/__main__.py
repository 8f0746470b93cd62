"""``python -m oms_orders``: run the orders gRPC service until SIGTERM.

``OMS_ORDERS_WORKERS`` (default 1) runs that many worker processes on the same port
(SO_REUSEPORT; see ``omslib.workers``).
"""

import sys

from omslib.workers import serve_workers, workers_from_env

from oms_orders import bootstrap

sys.exit(
    serve_workers("oms_orders", bootstrap.main, workers=workers_from_env("OMS_ORDERS_WORKERS"))
)
