"""Channel stock sync: shown stock = available - safety buffer (capped), pushed to channels.

``policy`` (what a channel is shown), ``pusher`` (how it is told), ``sync`` (coalescing
and full refreshes, fed by AvailabilityChanged events) and ``runner`` (the one replica
that holds the lease runs it in the inventory process). Import the modules themselves:
``runner`` needs the settings, which need ``policy``.
"""
