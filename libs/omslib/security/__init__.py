"""Who may call which RPC: identities (mutual TLS or signed tokens) and the policy table.

See docs/security.md for the threat model and how to run the stack with TLS.
"""

from omslib.security.config import GrpcSecurity, SecurityMode
from omslib.security.policy import OPEN_SERVICES, POLICY, is_allowed

__all__ = ["OPEN_SERVICES", "POLICY", "GrpcSecurity", "SecurityMode", "is_allowed"]
