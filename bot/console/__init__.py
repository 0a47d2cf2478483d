"""The operator web console: counsellors take cases, admins manage users and flows.

ConsoleError       base of the console's own errors
  PasswordError    a password that cannot be set (too short, too long)
"""
