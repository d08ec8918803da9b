from kea_tools.cli import main

main()
