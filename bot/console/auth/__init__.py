"""Who is at the keyboard: login with password and TOTP, sessions, the auth pages.

CSRF tokens are `bot.web.CsrfKey`, shared with the web chat.

    login      `Authenticator`: passwords, second factors, throttling, sessions, roles
    pages      login, the second factor, TOTP enrolment, logout, language, static files
    passwords  scrypt hashes that describe their own cost
"""
