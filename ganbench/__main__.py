from ganbench.cli import main

main()
