"""How this process proves who it is and checks who calls it, from the environment.

Three modes, chosen by which variables are set (docs/security.md):

- ``mtls``: ``OMS_TLS_CERT_FILE``, ``OMS_TLS_KEY_FILE`` and ``OMS_TLS_CA_FILE`` name PEM
  files. Servers demand a client certificate signed by the CA and know the caller by
  its subject CN; clients present their own certificate and check the server's.
- ``token``: ``OMS_SERVICE_TOKEN_SECRET`` is a shared HMAC key (TLS ends elsewhere, e.g.
  in a mesh). Clients sign a short-lived token naming their identity; servers verify it.
- ``bare``: neither. Plaintext, no authorization; servers refuse to listen anywhere
  but on loopback, so bare mode is for one machine (``make run``, tests).
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: HS256 keys shorter than the hash give away security (RFC 7518 section 3.2).
MIN_TOKEN_SECRET_BYTES = 32


class SecurityMode(enum.StrEnum):
    MTLS = "mtls"
    TOKEN = "token"
    BARE = "bare"


class SecuritySettings(BaseSettings):
    """The variables of docs/security.md; every service's settings include them."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    tls_cert_file: Path | None = Field(None, validation_alias="OMS_TLS_CERT_FILE")
    tls_key_file: Path | None = Field(None, validation_alias="OMS_TLS_KEY_FILE")
    tls_ca_file: Path | None = Field(None, validation_alias="OMS_TLS_CA_FILE")
    # The name expected in servers' certificates when it differs from the dialled host.
    tls_server_name: str | None = Field(None, validation_alias="OMS_TLS_SERVER_NAME")
    service_token_secret: SecretStr | None = Field(
        None, validation_alias="OMS_SERVICE_TOKEN_SECRET"
    )
    # Who this process says it is in the tokens it signs (default: the service's name).
    service_identity: str | None = Field(
        None, validation_alias="OMS_SERVICE_IDENTITY", pattern=r"^[a-z][a-z0-9-]{0,62}$"
    )

    @field_validator(
        "tls_cert_file", "tls_key_file", "tls_ca_file", "tls_server_name", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("service_token_secret", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value else value

    @field_validator("service_token_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_TOKEN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_TOKEN_SECRET_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _tls_all_or_nothing(self) -> SecuritySettings:
        files = (self.tls_cert_file, self.tls_key_file, self.tls_ca_file)
        if any(files) and not all(files):
            raise ValueError(
                "set all of OMS_TLS_CERT_FILE, OMS_TLS_KEY_FILE and OMS_TLS_CA_FILE, or none"
            )
        return self

    def grpc_security(self, identity: str) -> GrpcSecurity:
        """Read the files now, so a missing certificate stops start-up with its path."""
        if self.tls_cert_file and self.tls_key_file and self.tls_ca_file:
            return GrpcSecurity(
                identity=self.service_identity or identity,
                tls=TlsMaterial(
                    cert=_read(self.tls_cert_file, "OMS_TLS_CERT_FILE"),
                    key=_read(self.tls_key_file, "OMS_TLS_KEY_FILE"),
                    ca=_read(self.tls_ca_file, "OMS_TLS_CA_FILE"),
                ),
                server_name=self.tls_server_name,
            )
        secret = self.service_token_secret
        return GrpcSecurity(
            identity=self.service_identity or identity,
            token_secret=secret.get_secret_value().encode() if secret else None,
        )


def _read(path: Path, variable: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SystemExit(f"{variable}={path}: cannot read ({exc.strerror})") from None


@dataclass(frozen=True)
class TlsMaterial:
    """PEM bytes: this process's certificate chain and key, and the CA that signs peers."""

    cert: bytes
    key: bytes = field(repr=False)
    ca: bytes


@dataclass(frozen=True)
class GrpcSecurity:
    """One process's transport security and identity; ``GrpcSecurity.bare()`` is none."""

    identity: str
    tls: TlsMaterial | None = None
    token_secret: bytes | None = field(default=None, repr=False)
    server_name: str | None = None

    @classmethod
    def bare(cls, identity: str = "local") -> GrpcSecurity:
        return cls(identity=identity)

    @property
    def mode(self) -> SecurityMode:
        if self.tls is not None:
            return SecurityMode.MTLS
        if self.token_secret is not None:
            return SecurityMode.TOKEN
        return SecurityMode.BARE

    def server_credentials(self) -> grpc.ServerCredentials | None:
        if self.tls is None:
            return None
        return grpc.ssl_server_credentials(
            [(self.tls.key, self.tls.cert)],
            root_certificates=self.tls.ca,
            # Without a certificate from our CA the handshake fails: no RPC is even read.
            require_client_auth=True,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        if self.tls is None:
            return None
        return grpc.ssl_channel_credentials(
            root_certificates=self.tls.ca,
            private_key=self.tls.key,
            certificate_chain=self.tls.cert,
        )

    def check_bind(self, host: str) -> None:
        """Refuse a plaintext, unauthenticated server on anything but loopback."""
        if self.mode is SecurityMode.BARE and not is_loopback(host):
            raise RuntimeError(
                f"refusing to serve plaintext gRPC without authorization on {host}: "
                "bind 127.0.0.1, or configure OMS_TLS_* or OMS_SERVICE_TOKEN_SECRET "
                "(docs/security.md)"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
