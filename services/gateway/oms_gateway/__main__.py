from oms_gateway import bootstrap

bootstrap.run()
