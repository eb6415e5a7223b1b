"""Subscriber lines (L1-L4): input policy, provisioning service, errors."""
