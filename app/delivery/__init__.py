"""Delivery analysis: Received hops, DKIM/ARC, Authentication-Results, copies."""
