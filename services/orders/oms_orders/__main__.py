"""``python -m oms_orders``: run the orders gRPC service until SIGTERM."""

import asyncio

from oms_orders import bootstrap

asyncio.run(bootstrap.main())
