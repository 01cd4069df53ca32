"""``python -m msgsess``: the same command as the ``msgsess`` console script."""

from msgsess.cli.main import main

if __name__ == "__main__":
    main()
