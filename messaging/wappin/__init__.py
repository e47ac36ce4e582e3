"""The Wappin client: `WappinClient(integration)` and what its calls take and give.

Errors live in `messaging.wappin.exceptions` (all `WappinError`, with `.wappin_status`
and `.retryable`).
"""

from messaging.wappin.client import MediaUpload, SendResult, StatusStep, WappinClient

__all__ = ["MediaUpload", "SendResult", "StatusStep", "WappinClient"]
