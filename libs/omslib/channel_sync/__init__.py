"""Channel stock sync: shown stock = available - safety buffer (capped), pushed to channels."""

from omslib.channel_sync.policy import ChannelPolicy
from omslib.channel_sync.pusher import HttpJsonPusher, PushError, StockPusher, StockUpdate
from omslib.channel_sync.sync import ChannelStockSync, PushFailure, SyncSettings

__all__ = [
    "ChannelPolicy",
    "ChannelStockSync",
    "HttpJsonPusher",
    "PushError",
    "PushFailure",
    "StockPusher",
    "StockUpdate",
    "SyncSettings",
]
