import asyncio

from oms_inventory import bootstrap

asyncio.run(bootstrap.main())
