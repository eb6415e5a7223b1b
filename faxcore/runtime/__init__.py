"""How faxcore processes run: the supervisor of their background loops."""
