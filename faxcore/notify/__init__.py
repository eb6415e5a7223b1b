"""E-mail notifications (N1-N3): events become mails to each line's addresses."""
