"""`python -m desk ...`: the desk's command line (desk.cli)."""
from desk.cli import main

if __name__ == "__main__":
    main()
