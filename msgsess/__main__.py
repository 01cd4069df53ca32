"""``python -m msgsess``: the same command as the ``msgsess`` console script."""

from msgsess.cli.fast import main

if __name__ == "__main__":
    main()
