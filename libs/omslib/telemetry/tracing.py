"""TracerProvider set-up driven only by the standard OTEL_* environment variables."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from omslib.telemetry.export_reporting import ReportingExporter

log = logging.getLogger(__name__)


def setup_tracing(default_service_name: str) -> TracerProvider:
    """Build a provider from OTEL_* variables, install it globally and return it.

    Call ``shutdown()`` on the result at exit so buffered spans are flushed.
    """
    provider = build_tracer_provider(default_service_name)
    propagate.set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
    )
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        # The API refuses to replace a global provider; say so instead of silently
        # handing back a provider nobody uses.
        log.warning("global tracer provider already set; keeping the existing one")
        return current
    trace.set_tracer_provider(provider)
    return provider


def build_tracer_provider(
    default_service_name: str, environ: Mapping[str, str] | None = None
) -> TracerProvider:
    """A provider with one BatchSpanProcessor per exporter chosen by the environment."""
    env = os.environ if environ is None else environ
    service = env.get("OTEL_SERVICE_NAME") or default_service_name
    # Resource.create also reads OTEL_RESOURCE_ATTRIBUTES; our name wins over it.
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    for name in exporter_names(env):
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, env)))
    return provider


def exporter_names(env: Mapping[str, str]) -> list[str]:
    """Exporters from ``OTEL_TRACES_EXPORTER``; when unset, OTLP only if an endpoint is set."""
    raw = env.get("OTEL_TRACES_EXPORTER")
    if raw is None or not raw.strip():
        has_endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        )
        return ["otlp"] if has_endpoint else []
    names = [part.strip().lower() for part in raw.split(",") if part.strip()]
    if "none" in names:
        return []
    for name in names:
        if name not in ("otlp", "console"):
            raise ValueError(f"OTEL_TRACES_EXPORTER={raw!r}: expected otlp, console or none")
    return list(dict.fromkeys(names))


def _exporter(name: str, env: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "grpc"
    ).strip()
    # The exporters read their endpoint, headers, timeout... from os.environ themselves.
    destination = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or "the default OTLP endpoint"
    )
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return ReportingExporter(OTLPSpanExporter(), destination)
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        return ReportingExporter(HttpExporter(), destination)
    raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: expected grpc or http/protobuf")
