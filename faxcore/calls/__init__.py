"""The Stasis application behind ``faxcore serve``: call routing and call log."""
