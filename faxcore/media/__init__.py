"""Call audio between Asterisk and faxcore (AudioSocket over TCP)."""
