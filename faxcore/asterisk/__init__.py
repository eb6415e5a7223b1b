"""Asterisk configuration: render faxcore's templates, write them, reload Asterisk."""
