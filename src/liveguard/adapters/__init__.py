"""Adapters around the core: files, state store, network probes, webhooks, importers."""
