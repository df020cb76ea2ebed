from phonehome.cli import main

main()
