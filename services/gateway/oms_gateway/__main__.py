import asyncio

from oms_gateway import bootstrap

asyncio.run(bootstrap.main())
