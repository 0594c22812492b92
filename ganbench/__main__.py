"""python -m ganbench: the ganbench command."""

from ganbench.cli import main

main()
