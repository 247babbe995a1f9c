"""``python -m chukan`` runs the command line."""

from chukan.cli import main

main()
