"""Delivery-evidence packages anyone can re-check."""
