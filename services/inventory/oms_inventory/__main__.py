from omslib import event_loop

from oms_inventory import bootstrap

event_loop.run(bootstrap.main())
