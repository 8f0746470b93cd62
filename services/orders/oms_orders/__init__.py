"""The orders service: platform orders, their state machine and the TCC coordinator."""
