"""`python -m sandbox --port 8081`: a local Telegram Bot API stand-in."""

from sandbox.server import main

main()
