"""`python -m action_server ...`: the same as the `action-server` command."""

from action_server.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
