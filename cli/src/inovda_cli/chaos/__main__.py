"""`python -m inovda_cli.chaos`: the fault-injection suite on the checkout in the current directory."""

from .command import main

if __name__ == "__main__":
    main()
