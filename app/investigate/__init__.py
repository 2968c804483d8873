"""The missing-message investigation: bounces, server filters, the provider request."""
