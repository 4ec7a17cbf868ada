"""CaseVoice: sandbox — a local stand-in for the Telegram Bot API (aiohttp).

Point an aiogram bot at it with `TelegramAPIServer.from_base(url)`; drive it as users and read
what the bot did through the control API (`/_control/...`, or `sandbox.client.SandboxClient`).
"""
