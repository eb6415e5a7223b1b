"""``python -m faxcore``: the same command as ``faxcore``."""

from faxcore.cli import main

main()
