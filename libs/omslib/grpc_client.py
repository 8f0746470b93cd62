"""Client channels to sibling services, traced and kept alive."""

from __future__ import annotations

import grpc.aio

from omslib.telemetry.instrument import instrument_grpc_client

# Detect dead peers (e.g. a replica killed without FIN) within ~80s on active
# calls; the server side (omslib.grpc_server) permits this ping rate.
CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.max_pings_without_data", 0),
    # Reconnect to a restarted peer within a second or so: gRPC's default backoff
    # grows to 120 s, during which every call fails fast although the peer is back.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1_000),
]


def insecure_channel(addr: str) -> grpc.aio.Channel:
    """A plaintext ``grpc.aio`` channel to ``host:port`` with tracing enabled."""
    # Must precede grpc.aio.insecure_channel(): the instrumentor wraps that factory.
    instrument_grpc_client()
    return grpc.aio.insecure_channel(addr, options=CHANNEL_OPTIONS)
