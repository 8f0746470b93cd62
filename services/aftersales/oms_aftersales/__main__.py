import asyncio

from oms_aftersales.bootstrap import main

asyncio.run(main())
