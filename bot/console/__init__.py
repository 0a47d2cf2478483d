"""The operator web console: counsellors take cases, admins manage users and flows.

Its errors are `bot.errors.BotError`s: `PasswordError` (a password that cannot be
set: too short, too long) and `ChatTokenError` (a test chat's token is not ours).
"""
