"""The call script as one shared `transitions` machine over plain conversation data."""
