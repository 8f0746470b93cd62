from oms_aftersales.adapters.orm import metadata
from omslib.db.migrations import run_env

run_env(metadata)
