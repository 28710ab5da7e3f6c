from radiogenomics.cli import main

main()
