from omslib import event_loop

from oms_aftersales import bootstrap

event_loop.run(bootstrap.main())
