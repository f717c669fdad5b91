"""`python -m cmtui` runs the command-line interface."""

from cmtui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
